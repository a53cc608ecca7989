import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { MODEL_INPUT, type ModelGraph } from '../../src/graph/model-graph.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { graphFromModel } from '../../src/models/graph.js';

await initBackend('wasm');

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

/** Host reference: the graph's own (source-order) semantics, written from the definitions, in float64. */
function hostLogits(x: Float32Array, [h, w, c]: readonly [number, number, number], k1: Float32Array, b1: Float32Array, k2: Float32Array, b2: Float32Array, units: number, classes: number, mean: number[], std: number[]): number[] {
  const chw: number[] = [];
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) chw.push((x[(y * w + xx) * c + ch]! - mean[ch]!) / std[ch]!);
  const hidden = Array.from({ length: units }, (_, j) => Math.max(0, b1[j]! + chw.reduce((s, v, i) => s + v * k1[i * units + j]!, 0)));
  return Array.from({ length: classes }, (_, k) => b2[k]! + hidden.reduce((s, v, j) => s + v * k2[j * classes + k]!, 0));
}

test('a chw flatten → dense chain builds a Sequential the layer graph accepts, with the source semantics', () => {
  const rng = new Rng(11);
  const shape = [3, 4, 2] as const;
  const inSize = 24;
  const units = 5;
  const classes = 3;
  const k1 = randomArray(rng, inSize * units);
  const b1 = randomArray(rng, units);
  const k2 = randomArray(rng, units * classes);
  const b2 = randomArray(rng, classes);
  const graph: ModelGraph = {
    inputShape: shape,
    nodes: [
      { name: 'flatten', op: { kind: 'flatten', order: 'chw' }, inputs: [MODEL_INPUT] },
      { name: 'fc1', op: { kind: 'dense', kernel: k1, kernelShape: [inSize, units], bias: b1, activation: { kind: 'relu' } }, inputs: ['flatten'] },
      { name: 'fc2', op: { kind: 'dense', kernel: k2, kernelShape: [units, classes], bias: b2, activation: { kind: 'linear' } }, inputs: ['fc1'] },
    ],
    output: 'fc2',
  };
  const mean = [0.25, 0.5];
  const std = [0.5, 2];
  const before = tf.memory().numTensors;
  const model = buildLayersModel(graph, { mean, std });
  assert.equal(model.getClassName(), 'Sequential');
  const lg = graphFromModel(model);
  assert.deepEqual(lg.steps.map((s) => s.kind), ['normalize', 'flatten', 'dense', 'dense']);
  const xs = randomArray(rng, 4 * inSize, 1).map((v) => (v + 1) / 2);
  const out = tf.tidy(() => (model.predict(tf.tensor4d(xs, [4, ...shape])) as tf.Tensor).arraySync() as number[][]);
  for (let i = 0; i < 4; i++) {
    const ref = hostLogits(xs.subarray(i * inSize, (i + 1) * inSize), shape, k1, b1, k2, b2, units, classes, mean, std);
    ref.forEach((v, k) => assert.ok(Math.abs(v - out[i]![k]!) < 1e-4, `sample ${i} class ${k}: ${out[i]![k]} vs ${v}`));
  }
  model.dispose();
  assert.equal(tf.memory().numTensors, before, 'building and disposing leaks tensors');
});

test('the builder names the node it cannot express', () => {
  const graph: ModelGraph = {
    inputShape: [2, 2, 1],
    nodes: [{ name: 'bin', op: { kind: 'activation', activation: { kind: 'sign', zeroTo: 1 } }, inputs: [MODEL_INPUT] }],
    output: 'bin',
  };
  assert.throws(() => buildLayersModel(graph), /node 'bin' \(activation\): sign/);
});
