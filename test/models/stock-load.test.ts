/**
 * A saved qrobust model directory loads with stock TF.js once the layer class that docs/export.md gives is
 * registered: a separate process that imports nothing of qrobust runs the documented block and calls
 * `tf.loadLayersModel` over HTTP; its logits must equal qrobust's. Without the block the load must fail, which
 * also shows that the process has no qrobust class registered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/backend.js';
import { loadDataset } from '../../src/data/index.js';
import { statisticsFor } from '../../src/models/dataset-statistics.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import type { ArchName } from '../../src/models/arch-names.js';
import { buildModel, type ModelInputSpec } from '../../src/models/zoo.js';
import { maxRelativeDiff, tfjsLogits } from '../fixtures/logits.js';
import { MNIST_SPEC, mnistMeta } from '../fixtures/mnist.js';

await initBackend('wasm');
const N = 16;
const fixture = fileURLToPath(new URL('../fixtures/stock-tfjs-load.js', import.meta.url));
const doc = fileURLToPath(new URL('../../../docs/export.md', import.meta.url));
const cifar = statisticsFor('cifar10');
const CIFAR_SPEC: ModelInputSpec = { inputShape: [32, 32, 3], numClasses: 10, mean: cifar.mean, std: cifar.std };

const root = await mkdtemp(join(tmpdir(), 'qrobust-stock-'));
const models: { name: string; arch: ArchName; spec: ModelInputSpec; dataset: 'mnist' | 'cifar10' }[] = [
  { name: 'mnist-mlp', arch: 'mlp-tiny', spec: MNIST_SPEC, dataset: 'mnist' },
  { name: 'cifar-cnn', arch: 'cnn-small', spec: CIFAR_SPEC, dataset: 'cifar10' },
];
for (const m of models) {
  const model = buildModel(m.arch, m.spec, 4);
  await saveModel(join(root, m.name), model, { ...mnistMeta(m.arch), dataset: m.dataset, inputShape: m.spec.inputShape });
  model.dispose();
  const images = await loadDataset(m.dataset, 'test', { n: N, seed: 51, allowDownload: false });
  const pixels = Float32Array.from(images.pixels, (v) => v / 255);
  await writeFile(join(root, `${m.name}.bin`), Buffer.from(pixels.buffer));
}

test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

type Loaded = { name: string; logits?: number[]; error?: string };

function loadInStockTfjs(mode: 'register' | 'bare'): Loaded[] {
  const r = spawnSync(process.execPath, [...process.execArgv, fixture, doc, mode, root, ...models.map((m) => m.name)], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Loaded);
}

test("with the documented class registered, stock tf.loadLayersModel gives qrobust's logits", async (t) => {
  const loaded = loadInStockTfjs('register');
  assert.deepEqual(loaded.map((l) => l.name), models.map((m) => m.name));
  for (const [i, m] of models.entries()) {
    const got = loaded[i]!;
    assert.equal(got.error, undefined, `${m.name}: ${got.error}`);
    const { model } = await loadModel(join(root, m.name));
    const images = await loadDataset(m.dataset, 'test', { n: N, seed: 51, allowDownload: false });
    const ours = tfjsLogits(model, Float32Array.from(images.pixels, (v) => v / 255), [N, ...m.spec.inputShape]);
    model.dispose();
    assert.equal(got.logits!.length, N * 10);
    const diff = maxRelativeDiff(Float32Array.from(got.logits!), ours);
    t.diagnostic(`${m.name}: max |stock TF.js (cpu) − qrobust (wasm)| / max(1, |logit|) = ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-5, `${m.name}: logits differ by ${diff}`);
  }
});

test('without it, stock TF.js cannot load the directory: the class is the one thing to register', () => {
  for (const got of loadInStockTfjs('bare')) {
    assert.equal(got.logits, undefined);
    assert.match(got.error ?? '', /Unknown layer: QrobustNormalize/);
  }
});
