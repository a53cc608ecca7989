import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliCaptured as cli } from '../fixtures/cli.js';
import { initBackend } from '../../src/backend/backend.js';
import { loadDataset } from '../../src/data/index.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { isIntegerExecutable, quantizeModel } from '../../src/quant/ptq.js';
import { saveQuantizedModel } from '../../src/quant/quantized-dir.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import { readExamples } from '../../src/attacks/index.js';
import type { AttackDirReport } from '../../src/workflows/attack-model.js';
import { mnistMeta } from '../quant/fixtures.js';
import { tinyMnistModel } from './fixtures.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-threat-'));
const floatDir = join(root, 'mlp-tiny');
const quantDir = join(root, 'w8');
{
  const model = await tinyMnistModel();
  await saveModel(floatDir, model, mnistMeta('mlp-tiny'));
  model.dispose();
  const loaded = await loadModel(floatDir);
  const calib = await loadDataset('mnist', 'train', { n: 200, seed: 21, allowDownload: false });
  const spec = makeQuantSpec({ weights: { bits: 8 }, activations: { bits: 8 }, inputs: { bits: 8 } });
  const qm = quantizeModel(loaded, spec, calib, { source: { dataset: 'mnist', split: 'train', n: 200, seed: 21 } });
  loaded.model.dispose();
  await saveQuantizedModel(quantDir, qm, { parentDir: floatDir, integerExecutable: isIntegerExecutable(qm) });
}

test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function report(args: string[]): Promise<AttackDirReport> {
  const file = join(root, `r${Math.random().toString(36).slice(2)}.json`);
  const r = await cli([...args, '--json', file]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(await readFile(file, 'utf8')) as AttackDirReport;
}

test('--source: crafted on the float model, evaluated on the quantized one; the source figures equal a white-box run on the source', async () => {
  const common = ['--attack', 'pgd', '--eps', '0.05,0.15', '--steps', '5', '--n', '24', '--seed', '2'];
  const transfer = await report(['attack', quantDir, '--source', floatDir, ...common]);
  assert.deepEqual(transfer.source, { model: floatDir, path: 'float32' });
  assert.equal(transfer.path, 'fake-quant');
  assert.equal(transfer.config.gradient, null, 'the float source has no quantizers to pass gradients through');
  const whiteBox = await report(['attack', floatDir, ...common]);
  transfer.results.forEach((row, k) => {
    assert.ok(row.source, 'source figures missing');
    assert.equal(row.source.robustAccuracy, whiteBox.results[k]!.robustAccuracy);
    assert.equal(row.source.cleanAccuracy, whiteBox.results[k]!.cleanAccuracy);
    assert.ok(row.robustAccuracy <= row.cleanAccuracy);
  });
  const bad = await cli(['attack', floatDir, '--source', quantDir, '--attack', 'pgd', '--n', '4', '--grad', 'exact', '--query', 'integer']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--query integer and --source exclude each other/);
});

test('--query integer runs black-box attacks on the integer-exact path only and refuses gradient attacks', async () => {
  const r = await report(['attack', quantDir, '--attack', 'square', '--query', 'integer', '--eps', '0.1,0.3', '--max-queries', '30', '--n', '12']);
  assert.equal(r.path, 'integer');
  assert.equal(r.config.query, 'integer');
  assert.match(r.config.classifier, /integer/);
  for (const row of r.results) assert.ok(row.meanQueries <= 30, `mean queries ${row.meanQueries}`);
  const bad = await cli(['attack', quantDir, '--attack', 'pgd', '--query', 'integer', '--n', '4']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /pgd needs input gradients, but the classifier \(.*integer.*\) has none; use a score- or decision-based attack/);
  const onFloat = await cli(['attack', floatDir, '--attack', 'square', '--query', 'integer', '--n', '4']);
  assert.equal(onFloat.code, 2);
  assert.match(onFloat.err, /full-precision model; the integer path needs a quantized model/);
});

test('--targeted least-likely records the mode; attacks without a targeted mode refuse it', async () => {
  const r = await report(['attack', floatDir, '--attack', 'pgd', '--targeted', 'least-likely', '--eps', '0.3', '--steps', '20', '--n', '16']);
  assert.equal(r.config.targeted, 'least-likely');
  assert.ok(r.results[0]!.successRate > 0.5, `target hit rate ${r.results[0]!.successRate}`);
  const bad = await cli(['attack', floatDir, '--attack', 'deepfool', '--targeted', 'random', '--n', '4']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /deepfool has no targeted mode/);
});

test('--pixel-grid 255 with --save-examples writes 8-bit examples that read back with their predictions', async () => {
  const file = join(root, 'examples.json');
  const r = await cli(['attack', floatDir, '--attack', 'fgsm', '--eps', '0.05,0.1', '--n', '10', '--pixel-grid', '255', '--save-examples', file]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /rounded-away/);
  const examples = await readExamples(file);
  assert.deepEqual(examples.shape, [10, 28, 28, 1]);
  assert.deepEqual(examples.results.map((e) => e.eps), [0.05, 0.1]);
  for (const e of examples.results) {
    for (const v of e.pixels) assert.ok(Math.abs(v * 255 - Math.round(v * 255)) < 1e-4, `pixel ${v} off the lattice`);
    assert.equal(e.predictions.length, 10);
  }
  assert.equal(examples.sourceIndices?.length, 10);
});

test('--eot and budget options reach the attacks that use them and are refused by the others; the config records all options', async () => {
  const r = await report(['attack', floatDir, '--attack', 'pgd', '--eot', '2', '--steps', '3', '--eps', '0.1', '--n', '8', '--seed', '5']);
  assert.equal(r.config.options['eot'], 2);
  assert.equal(r.config.options['steps'], 3);
  assert.equal(r.config.options['randomStart'], true, 'defaults are recorded too');
  assert.equal(r.config.seed, 5);
  assert.ok(r.config.versions['@tensorflow/tfjs-core']);
  const bad = await cli(['attack', floatDir, '--attack', 'square', '--eot', '2', '--n', '4']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /square takes no eot option \(--eot\)/);
});

test('auto from the CLI reports which member broke how many samples', async () => {
  const file = join(root, 'auto.json');
  const r = await cli(['attack', floatDir, '--attack', 'auto', '--eps', '0.1', '--steps', '5', '--max-queries', '50', '--n', '16', '--json', file]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /broken by/);
  const rep = JSON.parse(await readFile(file, 'utf8')) as AttackDirReport;
  const row = rep.results[0]!;
  const broken = Object.values(row.brokenBy ?? {}).reduce((s, v) => s + v, 0);
  // Every sample is either broken (by a member, or misclassified to begin with) or robust.
  assert.equal(broken + Math.round(row.robustAccuracy * 16), 16);
});
