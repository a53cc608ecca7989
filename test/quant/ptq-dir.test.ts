import { test } from 'node:test';
import { runCliCaptured } from '../fixtures/cli.js';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { QrobustError } from '../../src/core/errors.js';
import { loadDataset } from '../../src/data/index.js';
import { classifierLogits } from '../../src/models/classifier.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { evaluateModelDir } from '../../src/workflows/evaluate-model.js';
import { IntegerClassifier } from '../../src/quant/integer/integer-classifier.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { fakeQuantClassifier, integerClassifier, isIntegerExecutable, quantizeModel } from '../../src/quant/ptq.js';
import { loadQuantizedModel, saveQuantizedModel, type QuantizationRecord } from '../../src/quant/quantized-dir.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import { mnistMeta, trainedTinyMlp } from './fixtures.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-quant-'));
const parent = join(root, 'mlp-tiny');
const model = await trainedTinyMlp(4);
await saveModel(parent, model, mnistMeta('mlp-tiny'));
model.dispose();
const calib = await loadDataset('mnist', 'train', { n: 300, seed: 21, allowDownload: false });
const data = await loadDataset('mnist', 'test', { n: 300, seed: 22, allowDownload: false });

test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

const cli = runCliCaptured;

test('a saved quantized directory reloads to the same fake-quant and integer outputs', async () => {
  const loaded = await loadModel(parent);
  const spec = makeQuantSpec({ weights: { bits: 4, granularity: 'per-channel' }, activations: { bits: 8, calibration: { method: 'mse' } }, inputs: { bits: 8 } });
  const qm = quantizeModel(loaded, spec, calib, { source: { dataset: 'mnist', split: 'train', n: 300, seed: 21 } });
  loaded.model.dispose();
  const dir = join(root, 'w4');
  const record = await saveQuantizedModel(dir, qm, { parentDir: parent, integerExecutable: isIntegerExecutable(qm) });
  assert.equal(record.label, 'w4-pc-a8-in8');
  const json = JSON.parse(await readFile(join(dir, 'qrobust.json'), 'utf8')) as { quantization: QuantizationRecord; testAccuracy?: unknown };
  assert.deepEqual(json.quantization.spec, spec);
  assert.equal(json.quantization.params.layers.length, 3);
  assert.equal(json.quantization.params.layers[0]!.weights!.kind, 'uniform');
  assert.equal(json.quantization.calibration!.method, 'mse');
  assert.match(json.quantization.parent!.weightsSha256, /^[0-9a-f]{64}$/);
  assert.equal(json.testAccuracy, undefined, "the parent's accuracy is not presented as the quantized model's");

  const back = await loadQuantizedModel(dir);
  const f1 = fakeQuantClassifier(qm);
  const f2 = fakeQuantClassifier(back);
  assert.deepEqual(classifierLogits(f2, data), classifierLogits(f1, data));
  const i1 = integerClassifier(qm);
  const viaLoader = await loadClassifier(dir, { integer: true });
  assert.ok(viaLoader.classifier instanceof IntegerClassifier && viaLoader.quantized);
  assert.deepEqual(classifierLogits(viaLoader.classifier, data), classifierLogits(i1, data));
  const fq = await loadClassifier(dir, { gradient: 'exact' });
  assert.equal(fq.classifier.gradientMode, 'exact');
  [f1, f2, fq.classifier].forEach((c) => c.dispose());
});

test('tampered weights, integer on a float model and weight-only integer runs are refused', async () => {
  const loaded = await loadModel(parent);
  const qm = quantizeModel(loaded, makeQuantSpec({ weights: { bits: 8 } }));
  loaded.model.dispose();
  const dir = join(root, 'w8');
  await saveQuantizedModel(dir, qm, { parentDir: parent, integerExecutable: false });
  await assert.rejects(loadClassifier(dir, { integer: true }), (e: unknown) => e instanceof QrobustError && e.code === 'not_integer_executable');
  await assert.rejects(loadClassifier(parent, { integer: true }), /is a full-precision model; the integer path needs a quantized model/);
  const weights = await readFile(join(dir, 'weights.bin'));
  weights[100] = weights[100]! ^ 1;
  await writeFile(join(dir, 'weights.bin'), weights);
  await assert.rejects(loadQuantizedModel(dir), (e: unknown) => e instanceof QrobustError && e.code === 'weights_mismatch');
  const again = await loadModel(parent);
  const qq = quantizeModel(again, makeQuantSpec());
  assert.throws(() => quantizeModel({ model: again.model, meta: { ...again.meta, quantization: {} } }, makeQuantSpec()), /already quantized/);
  assert.ok(qq.plan.layers.every((l) => l.output === null));
  again.model.dispose();
});

test('qrobust quantize writes one directory per width with accuracies; eval --integer reads them', async () => {
  const out = join(root, 'variants');
  const r = await cli(['quantize', parent, '--bits', '8,4,1', '--act-bits', '8', '--calib-n', '200', '--eval-n', '300', '--out', out, '--json', join(root, 'q.json')]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^w8-a8-in8\s+fake-quant \d+\.\d\d%\s+integer \d+\.\d\d%\s+agreement \d+\.\d\d%/);
  assert.match(lines[2]!, /^wbin-a8-in8/);
  const result = JSON.parse(await readFile(join(root, 'q.json'), 'utf8')) as { variants: { label: string; fakeQuant: { accuracy: number }; agreement: number }[] };
  const w8 = result.variants[0]!;
  assert.ok(w8.fakeQuant.accuracy > 0.85, `w8 accuracy ${w8.fakeQuant.accuracy}`);
  assert.ok(w8.agreement >= 0.99, `w8 agreement ${w8.agreement}`);
  const ev = await cli(['eval', join(out, 'w8-a8-in8'), '--integer', '--n', '300', '--seed', '0']);
  assert.equal(ev.code, 0, ev.err);
  assert.match(ev.err, /integer: \d+\/300 correct/);
  const direct = await evaluateModelDir({ dir: join(out, 'w4-a8-in8'), n: 300, integer: true, rounding: 'single' });
  assert.equal(direct.path, 'integer');
  const fake = await evaluateModelDir({ dir: join(out, 'w4-a8-in8'), n: 300 });
  assert.equal(fake.path, 'fake-quant');
  assert.ok(Math.abs(direct.accuracy - fake.accuracy) <= 0.01);
  const bad = await cli(['quantize', parent, '--bits', '17', '--out', join(root, 'bad')]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /each width must be an integer from 1 to 16/);
  const tern = await cli(['quantize', parent, '--weights', 'ternary', '--bits', '4', '--out', join(root, 'bad')]);
  assert.match(tern.err, /weights\.kind 'ternary' needs weights\.bits 2, got 4/);
  assert.equal(tf.memory().numTensors < 1000, true);
});
