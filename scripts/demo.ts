/**
 * `npm run demo`: the end-to-end job on the embedded default (MNIST), offline. Today it trains (or reuses) a
 * small CNN and an mlp-tiny, evaluates both on the test set and writes a JSON summary; quantization, attacks,
 * verification and the HTML report join it as those stages land.
 */
import { mkdir, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { trainAndSave } from '../src/models/train-and-save.js';
import { evaluateModelDir } from '../src/models/evaluate-dir.js';
import { ProgressBar } from '../src/cli/progress.js';

const OUT = process.env['QROBUST_DEMO_DIR'] ?? join('runs', 'demo');

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

async function trainOrReuse(arch: string, epochs: number): Promise<string> {
  const dir = join(OUT, 'models', `mnist-${arch}`);
  if (await exists(join(dir, 'qrobust.json'))) {
    process.stderr.write(`reusing ${dir}\n`);
    return dir;
  }
  let bar: ProgressBar | undefined;
  await trainAndSave({
    dataset: 'mnist',
    arch,
    out: dir,
    epochs,
    seed: 0,
    onStart: (i) => {
      process.stderr.write(`training ${arch} on MNIST (${i.trainCount} images, ${epochs} epochs, backend ${i.backend})\n`);
      bar = new ProgressBar(process.stderr, i.epochs * i.stepsPerEpoch, arch);
    },
    onStep: (p) => bar?.update(p.epoch * p.stepsPerEpoch + p.step + 1, `loss ${p.loss.toFixed(3)} ${p.imagesPerSecond.toFixed(0)} img/s`),
    onEpoch: (e) => {
      bar?.done();
      process.stderr.write(`  epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, train accuracy ${(e.accuracy * 100).toFixed(2)}% (${e.seconds.toFixed(1)} s)\n`);
    },
  });
  return dir;
}

const start = performance.now();
await mkdir(OUT, { recursive: true });
const results = [];
for (const [arch, epochs] of [['cnn-small', 3], ['mlp-tiny', 10]] as const) {
  const dir = await trainOrReuse(arch, epochs);
  const r = await evaluateModelDir({ dir });
  process.stdout.write(`${arch}: test accuracy ${(r.accuracy * 100).toFixed(2)}% on ${r.n} MNIST test images\n`);
  results.push({ arch, dir, accuracy: r.accuracy, n: r.n, variant: r.variant, versions: r.versions });
}
const summary = join(OUT, 'summary.json');
await writeFile(summary, JSON.stringify({ results, seconds: (performance.now() - start) / 1000 }, null, 2) + '\n');
process.stdout.write(`summary written to ${summary}\n`);
