import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { attack } from '../../src/attacks/index.js';
import { loadDataset } from '../../src/data/index.js';
import { classifierLogits, LayersClassifier, type Classifier } from '../../src/models/classifier.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { buildModel } from '../../src/models/zoo.js';
import { fakeQuantClassifier, integerClassifier, quantizeModel } from '../../src/quant/ptq.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { saveQuantizedModel } from '../../src/quant/quantized-dir.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import { EnsembleClassifier, saveEnsembleDir } from '../../src/defenses/index.js';
import { MNIST_SPEC, mnistMeta } from '../fixtures/mnist.js';
import { imagesOf } from './fixtures.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-ensemble-'));
const data = await loadDataset('mnist', 'test', { n: 32, seed: 4, allowDownload: false });
const x = imagesOf(data);
const labels = Int32Array.from(data.labels);

test.after(async () => {
  x.dispose();
  await rm(root, { recursive: true, force: true });
});

function softmaxRows(logits: Float32Array, k: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[r * k + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += (out[r * k + j] = Math.exp(logits[r * k + j]! - max));
    for (let j = 0; j < k; j++) out[r * k + j]! /= sum;
  }
  return out;
}

/** Three members of different precision: float, 4-bit and 2-bit fake-quant versions of differently seeded models. */
function members(): Classifier[] {
  const a = buildModel('mlp-tiny', MNIST_SPEC, 1);
  const b = buildModel('mlp-tiny', MNIST_SPEC, 2);
  const c = buildModel('mlp-tiny', MNIST_SPEC, 3);
  const meta = mnistMeta('mlp-tiny');
  const q4 = fakeQuantClassifier(quantizeModel({ model: b, meta }, makeQuantSpec({ weights: { bits: 4 } })));
  const q2 = fakeQuantClassifier(quantizeModel({ model: c, meta }, makeQuantSpec({ weights: { bits: 2 } })));
  b.dispose();
  c.dispose();
  return [new LayersClassifier(a), q4, q2];
}

test("the ensemble's probabilities are the mean of its members' (logits = log of the mean), and PGD runs on it", () => {
  const ms = members();
  const k = 10;
  const each = ms.map((m) => softmaxRows(classifierLogits(m, data), k));
  const ensemble = new EnsembleClassifier(ms);
  // Weight-only fake quantization leaves the input path exact, so the ensemble's gradient is exact too.
  assert.deepEqual(ms.map((m) => m.gradientMode), ['exact', 'exact', 'exact']);
  assert.equal(ensemble.gradientMode, 'exact');
  const before = tf.memory().numTensors;
  const z = classifierLogits(ensemble, data);
  assert.equal(tf.memory().numTensors, before, 'the ensemble leaks tensors');
  for (let i = 0; i < z.length; i++) {
    const mean = (each[0]![i]! + each[1]![i]! + each[2]![i]!) / 3;
    assert.ok(Math.abs(Math.exp(z[i]!) - mean) < 1e-5, `entry ${i}: exp(logit) ${Math.exp(z[i]!)} vs mean probability ${mean}`);
  }
  const r = attack('pgd', ensemble, x, labels, { epsilon: 0.1, steps: 3, seed: 1 });
  assert.equal(r.success.length, labels.length);
  r.adversarial.dispose();
  ensemble.dispose();
});

test('majority vote: the most voted class wins, ties go to the higher mean probability, no gradients', () => {
  const ms = members();
  const k = 10;
  const votes = ms.map((m) => {
    const z = classifierLogits(m, data);
    return Array.from({ length: data.count }, (_, r) => {
      let best = 0;
      for (let j = 1; j < k; j++) if (z[r * k + j]! > z[r * k + best]!) best = j;
      return best;
    });
  });
  const probs = ms.map((m) => softmaxRows(classifierLogits(m, data), k));
  const ensemble = new EnsembleClassifier(ms, 'majority-vote');
  assert.equal(ensemble.gradientMode, 'none');
  const z = classifierLogits(ensemble, data);
  for (let r = 0; r < data.count; r++) {
    const count = new Array<number>(k).fill(0);
    for (const v of votes) count[v[r]!]!++;
    const top = Math.max(...count);
    const tied = count.flatMap((c, j) => (c === top ? [j] : []));
    const meanProb = (j: number): number => probs.reduce((s, p) => s + p[r * k + j]!, 0) / probs.length;
    const expected = tied.reduce((a, b) => (meanProb(b) > meanProb(a) ? b : a));
    let got = 0;
    for (let j = 1; j < k; j++) if (z[r * k + j]! > z[r * k + got]!) got = j;
    assert.equal(got, expected, `row ${r}: votes ${count.join(',')}`);
  }
  assert.throws(() => attack('pgd', ensemble, x, labels, { epsilon: 0.1, steps: 2 }), /needs input gradients/);
  ensemble.dispose();
});

test('an ensemble directory loads back through loadClassifier (float and quantized members) and predicts as its members combined', async () => {
  const meta = mnistMeta('mlp-tiny');
  const fpDir = join(root, 'fp');
  const q4Dir = join(root, 'w4');
  const fp = buildModel('mlp-tiny', MNIST_SPEC, 5);
  await saveModel(fpDir, fp, meta);
  const loaded = await loadModel(fpDir);
  await saveQuantizedModel(q4Dir, quantizeModel(loaded, makeQuantSpec({ weights: { bits: 4 } })), { parentDir: fpDir, integerExecutable: false });
  loaded.model.dispose();
  fp.dispose();
  const out = join(root, 'ensemble');
  await saveEnsembleDir({ out, members: [fpDir, q4Dir], combine: 'mean-probabilities', extra: { defense: { method: 'ensemble' } } });
  const written = JSON.parse(await readFile(join(out, 'qrobust.json'), 'utf8'));
  assert.deepEqual(written.ensemble.members.map((m: { dir: string; label: string }) => [m.dir, m.label]), [['../fp', 'float'], ['../w4', 'w4']]);
  const back = await loadClassifier(out);
  assert.ok(back.quantized);
  assert.equal(back.meta.arch, 'ensemble');
  const direct = new EnsembleClassifier([(await loadClassifier(fpDir)).classifier, (await loadClassifier(q4Dir)).classifier]);
  assert.deepEqual(classifierLogits(back.classifier, data), classifierLogits(direct, data));
  back.classifier.dispose();
  direct.dispose();
  await assert.rejects(loadModel(out), /is an ensemble of model directories .* not one network/);
  await assert.rejects(saveEnsembleDir({ out: join(root, 'one'), members: [fpDir], combine: 'mean-probabilities' }), /at least two member directories, got 1/);
  await assert.rejects(saveEnsembleDir({ out: join(root, 'nested'), members: [fpDir, out], combine: 'mean-probabilities' }), /is an ensemble itself/);
});

test('with --integer, the quantized members of an ensemble run their integer-exact path and float members stay float', async () => {
  const meta = mnistMeta('mlp-tiny');
  const fpDir = join(root, 'int-fp');
  const qDir = join(root, 'int-w8');
  const fp = buildModel('mlp-tiny', MNIST_SPEC, 6);
  await saveModel(fpDir, fp, meta);
  fp.dispose();
  const loaded = await loadModel(fpDir);
  const spec = makeQuantSpec({ weights: { bits: 8 }, activations: { bits: 8 }, inputs: { bits: 8 } });
  const qm = quantizeModel(loaded, spec, data);
  await saveQuantizedModel(qDir, qm, { parentDir: fpDir, integerExecutable: true });
  const out = join(root, 'int-ensemble');
  await saveEnsembleDir({ out, members: [fpDir, qDir], combine: 'mean-probabilities' });
  const back = await loadClassifier(out, { integer: true });
  assert.equal(back.classifier.gradientMode, 'none');
  const direct = new EnsembleClassifier([new LayersClassifier(loaded.model), integerClassifier(qm)]);
  assert.deepEqual(classifierLogits(back.classifier, data), classifierLogits(direct, data));
  back.classifier.dispose();
  direct.dispose();
});

test('members that do not fit together are refused in one line', () => {
  const a = new LayersClassifier(buildModel('mlp-tiny', MNIST_SPEC, 1));
  const b = new LayersClassifier(buildModel('mlp-tiny', { ...MNIST_SPEC, numClasses: 3 }, 1));
  assert.throws(() => new EnsembleClassifier([a, b]), /ensemble members disagree: .* with 10 classes, .* with 3$/);
  assert.throws(() => new EnsembleClassifier([]), /at least one member/);
  a.dispose();
  b.dispose();
});
