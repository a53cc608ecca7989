import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { LayersClassifier } from '../../src/models/classifier.js';
import { graphFromModel } from '../../src/models/graph.js';
import { fakeQuant, quantizeWeightsTf, roundHalfAwayTf } from '../../src/quant/fake-quant.js';
import { roundHalfAway } from '../../src/quant/rounding.js';
import { fakeQuantArray, minMaxParams, paramsFromRanges, clippingRange } from '../../src/quant/quantizer.js';
import { quantizeKernel } from '../../src/quant/weights.js';
import { FakeQuantClassifier } from '../../src/quant/quantized-classifier.js';
import { quantizeGraph } from '../../src/quant/ptq.js';
import { makeQuantSpec, type WeightQuantSpec } from '../../src/quant/spec.js';
import { loadDataset } from '../../src/data/index.js';
import { untrained } from './fixtures.js';

await initBackend('wasm');
const rng = new Rng(3);

test('the fake-quant op computes exactly what the JS quantizer computes, per tensor and per channel', () => {
  const x = Float32Array.from({ length: 6 * 4 }, () => rng.normal() * 2);
  for (const p of [minMaxParams(x, [6, 4], 4, 'affine', 'per-tensor'), minMaxParams(x, [6, 4], 3, 'symmetric', 'per-channel')]) {
    const t = tf.tensor2d(x, [6, 4]);
    const y = fakeQuant(t, p, { gradient: 'ste' });
    assert.deepEqual(Array.from(y.dataSync(), (v) => v + 0), Array.from(fakeQuantArray(x, p), (v) => v + 0));
    tf.dispose([t, y]);
  }
});

test('STE gradient: the float gradient inside the clipping range, zero outside', () => {
  const p = paramsFromRanges([-1], [2], 4, 'affine', 'per-tensor');
  const [lo, hi] = clippingRange(p);
  const xs = [lo - 0.5, lo - 1e-3, lo + 1e-3, -0.3, 0, 0.77, 1.4, hi - 1e-3, hi + 1e-3, hi + 3];
  const coef = xs.map((_, i) => i + 1);
  const x = tf.tensor1d(xs);
  const c = tf.tensor1d(coef);
  // d/dx Σ c·q(x): the float gradient of Σ c·x is c.
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(c, fakeQuant(v, p, { gradient: 'ste' }))))(x);
  const expected = xs.map((v, i) => (v >= lo && v <= hi ? coef[i]! : 0));
  assert.deepEqual([...g.dataSync()], expected);
  tf.dispose([x, c, g]);
});

test("STE gradient with steWindow 'rounding': passes wherever the clamp does not saturate (half a step beyond the range)", () => {
  const p = paramsFromRanges([-1], [2], 4, 'affine', 'per-tensor');
  const [lo, hi] = clippingRange(p);
  const half = p.scale[0]! / 2;
  const xs = [lo - 0.5, lo - half - 1e-3, lo - half + 1e-3, lo - 1e-3, 0.3, hi + 1e-3, hi + half - 1e-3, hi + half + 1e-3, hi + 3];
  const x = tf.tensor1d(xs);
  const g = tf.grad((v: tf.Tensor) => tf.sum(fakeQuant(v, p, { gradient: 'ste', steWindow: 'rounding' })))(x);
  assert.deepEqual([...g.dataSync()], [0, 0, 1, 1, 1, 1, 1, 0, 0]);
  tf.dispose([x, g]);
});

test('exact gradient through a quantizer is zero almost everywhere (inside and outside the range)', () => {
  const p = paramsFromRanges([-1], [1], 8, 'symmetric', 'per-tensor');
  const x = tf.randomUniform([1000], -3, 3, 'float32', 5);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.square(fakeQuant(v, p, { gradient: 'exact' }))))(x);
  assert.equal(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]), 0);
  tf.dispose([x, g]);
});

test('weight quantizer ops match the JS weight quantizers and pass gradients straight through', () => {
  const shape = [3, 3, 2, 5];
  const w = Float32Array.from({ length: 90 }, () => rng.normal() * 0.1);
  const specs: WeightQuantSpec[] = [
    { bits: 4, kind: 'uniform', scheme: 'symmetric', granularity: 'per-channel' },
    { bits: 3, kind: 'uniform', scheme: 'affine', granularity: 'per-tensor' },
    { bits: 1, kind: 'binary', scheme: 'symmetric', granularity: 'per-channel' },
    { bits: 2, kind: 'ternary', scheme: 'symmetric', granularity: 'per-tensor' },
  ];
  for (const spec of specs) {
    const t = tf.tensor(w, shape);
    const y = quantizeWeightsTf(t, spec);
    const ref = quantizeKernel(w, shape, spec).dequantized;
    const got = y.dataSync();
    let maxRel = 0;
    for (let i = 0; i < ref.length; i++) maxRel = Math.max(maxRel, Math.abs(got[i]! - ref[i]!) / Math.max(1e-6, Math.abs(ref[i]!)));
    assert.ok(maxRel < 1e-5, `${spec.kind} ${spec.bits}: ops differ from JS by ${maxRel}`);
    const g = tf.grad((v: tf.Tensor) => tf.sum(quantizeWeightsTf(v, spec)))(t);
    assert.deepEqual([...g.dataSync()], new Array(90).fill(1));
    tf.dispose([t, y, g]);
  }
});

test('classifier gradients: exact is zero with quantized activations, STE is not; weight-only is the float gradient', async () => {
  const model = untrained('mlp-tiny', 6);
  const graph = graphFromModel(model);
  const calib = await loadDataset('mnist', 'train', { n: 64, seed: 1, allowDownload: false });
  const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const loss = (c: { logits(x: tf.Tensor4D): tf.Tensor2D }) => (v: tf.Tensor) => tf.sum(tf.mul(c.logits(v as tf.Tensor4D), tf.range(1, 11)));
  const full = quantizeGraph(graph, [0, 1], makeQuantSpec({ weights: { bits: 8 }, activations: { bits: 8 }, inputs: { bits: 8 } }), calib).plan;
  const exact = new FakeQuantClassifier(graph, full, { gradient: 'exact' });
  const ste = new FakeQuantClassifier(graph, full, { gradient: 'ste' });
  assert.equal(exact.gradientMode, 'exact');
  assert.equal(ste.gradientMode, 'ste');
  const ge = tf.grad(loss(exact))(x);
  const gs = tf.grad(loss(ste))(x);
  assert.equal(tf.tidy(() => tf.max(tf.abs(ge)).dataSync()[0]), 0);
  assert.ok(tf.tidy(() => tf.max(tf.abs(gs)).dataSync()[0]!) > 0);
  // Weight-only: both modes are the true gradient of the model with dequantized weights.
  const wOnly = quantizeGraph(graph, [0, 1], makeQuantSpec({ weights: { bits: 4 } })).plan;
  const wq = new FakeQuantClassifier(graph, wOnly, { gradient: 'exact' });
  model.setWeights(
    model.layers.flatMap((l) => l.getWeights()).map((t, i) => {
      const layer = Math.floor(i / 2);
      return i % 2 === 0 ? tf.tensor(wq.prepared.steps.filter((s) => s.kernel)[layer]!.kernel!.dequantized, t.shape) : t;
    }),
  );
  const ref = new LayersClassifier(model);
  const gw = tf.grad(loss(wq))(x);
  const gr = tf.grad(loss(ref))(x);
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(gw, gr))).dataSync()[0]!) < 1e-5);
  tf.dispose([x, ge, gs, gw, gr]);
  [exact, ste, wq].forEach((c) => c.dispose());
  model.dispose();
});

test('QAT hook: trainable weights give the same forward pass and receive straight-through gradients', async () => {
  const model = untrained('mlp-tiny', 8);
  const graph = graphFromModel(model);
  const plan = quantizeGraph(graph, [0, 1], makeQuantSpec({ weights: { bits: 4, granularity: 'per-channel' } })).plan;
  const fixed = new FakeQuantClassifier(graph, plan);
  const qat = new FakeQuantClassifier(graph, plan, { trainableWeights: true });
  assert.equal(qat.variables.length, 6);
  const x = tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
  const a = fixed.logits(x);
  const b = qat.logits(x);
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!) < 1e-4);
  const { grads } = tf.variableGrads(() => tf.sum(qat.logits(x)) as tf.Scalar, qat.variables);
  for (const v of qat.variables) assert.ok(tf.tidy(() => tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!) > 0, `no gradient for ${v.name}`);
  tf.dispose([x, a, b, ...Object.values(grads)]);
  fixed.dispose();
  qat.dispose();
  model.dispose();
});

test('the fake-quant classifier leaks no tensors and dispose releases what it owns', () => {
  const before = tf.memory().numTensors;
  const model = untrained('cnn-small', 2);
  const graph = graphFromModel(model);
  model.dispose();
  const afterModel = tf.memory().numTensors;
  assert.equal(afterModel, before);
  const plan = quantizeGraph(graph, [0, 1], makeQuantSpec({ weights: { bits: 4 }, inputs: { bits: 8 } })).plan;
  const c = new FakeQuantClassifier(graph, plan);
  const owned = tf.memory().numTensors;
  const x = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
  const y = c.logits(x);
  tf.dispose([x, y]);
  assert.equal(tf.memory().numTensors, owned);
  c.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('the tensor rounding equals roundHalfAway on float32 values: ties, next to ties, ±0, large values', () => {
  const below = Math.fround(0.49999997);
  const values = [0, -0, 0.5, -0.5, 1.5, -2.5, below, -below, 1 + below, Math.fround(2.4999998), 2 ** 23 - 0.5, 2 ** 23 + 1, -(2 ** 23 + 1), 2 ** 24 + 2, 3e38, -3e38];
  const x = Float32Array.from(values);
  const before = tf.memory().numTensors;
  const t = tf.tensor1d(x);
  const r = roundHalfAwayTf(t);
  // As numbers: the tensor form gives −0 for small negatives, where roundHalfAway gives 0.
  assert.deepEqual(Array.from(r.dataSync(), (v) => v + 0), Array.from(x, (v) => Math.fround(roundHalfAway(v))));
  assert.equal(r.dataSync()[6], 0, 'the largest float32 below 0.5 rounds to 0');
  assert.equal(r.dataSync()[11], 2 ** 23 + 1, 'an odd integer above 2^23 stays itself');
  tf.dispose([t, r]);
  assert.equal(tf.memory().numTensors, before);
});
