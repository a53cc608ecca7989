/**
 * Gradients through an imported network: the input gradient of a fixed linear function of the logits, taken by
 * TF.js autodiff through the built functional model (conv with asymmetric pads, channel affine, padded average
 * pool, residual add, tanh, chw flatten), against central finite differences of ONNX Runtime's outputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importOnnx } from '../../src/import/onnx/index.js';
import { float, int, ints, node, onnxBytes, randomImages, toLayout, uniform, weights, type Image, type ModelSpec } from './onnx-fixtures.js';

await initBackend('wasm');

const IMG: Image = [6, 6, 2];
const CLASSES = 3;

function network(rng: Rng): ModelSpec {
  return {
    nodes: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], [ints('pads', [1, 0, 1, 2])]),
      node('Tanh', ['c1'], ['t1']),
      node('BatchNormalization', ['t1', 's', 'bb', 'm', 'v'], ['n'], [float('epsilon', 1e-5)]),
      node('Conv', ['n', 'w2', 'b2'], ['c2'], [ints('pads', [1, 1, 1, 1])]),
      node('Add', ['c2', 't1'], ['r']),
      node('AveragePool', ['r'], ['p'], [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1])]),
      node('Sigmoid', ['p'], ['g']),
      node('Flatten', ['g'], ['f']),
      node('Gemm', ['f', 'w3', 'b3'], ['logits'], [int('transB', 1)]),
    ],
    initializers: [
      weights(rng, 'w1', [3, 2, 3, 3]),
      weights(rng, 'b1', [3], 1),
      uniform(rng, 's', [3], 0.5, 1.5),
      uniform(rng, 'bb', [3], -0.5, 0.5),
      uniform(rng, 'm', [3], -0.2, 0.2),
      uniform(rng, 'v', [3], 0.5, 2),
      weights(rng, 'w2', [3, 3, 3, 3]),
      weights(rng, 'b2', [3], 1),
      weights(rng, 'w3', [CLASSES, 3 * 3 * 3], 3),
      weights(rng, 'b3', [CLASSES], 1),
    ],
    input: ['N', 2, 6, 6],
    output: 'logits',
  };
}

test('the input gradient through the built model equals central differences of ONNX Runtime', async () => {
  const rng = new Rng(31);
  const bytes = onnxBytes(network(rng));
  const imported = importOnnx({ file: 'grad.onnx', bytes, imageShape: IMG, numClasses: CLASSES });
  const model = buildLayersModel(imported.graph);
  assert.equal(model.getClassName(), 'Model');
  const x = randomImages(rng, 1, IMG);
  const c = Float32Array.from({ length: CLASSES }, () => rng.normal());

  const before = tf.memory().numTensors;
  const grad = tf.tidy(() => {
    const f = (t: tf.Tensor): tf.Tensor => tf.sum(tf.mul(model.predict(t) as tf.Tensor, tf.tensor1d(c)));
    return tf.grad(f)(tf.tensor4d(x, [1, ...IMG])).dataSync() as Float32Array;
  });
  assert.equal(tf.memory().numTensors, before, 'the gradient leaks tensors');

  // Finite differences on 12 seeded coordinates, all perturbed images in one ONNX Runtime batch.
  const size = x.length;
  const coords = Array.from(rng.permutation(size).subarray(0, 12));
  const h = 1e-2;
  const batch = new Float32Array(2 * coords.length * size);
  coords.forEach((i, k) => {
    for (const [j, sign] of [[0, 1], [1, -1]] as const) {
      const xi = Float32Array.from(x);
      xi[i] += sign * h;
      batch.set(toLayout(xi, IMG, 'nchw'), (2 * k + j) * size);
    }
  });
  const session = await ort.InferenceSession.create(bytes);
  const out = (await session.run({ x: new ort.Tensor('float32', batch, [2 * coords.length, 2, 6, 6]) }))['logits']!.data as Float32Array;
  await session.release();
  const loss = (row: number): number => c.reduce((s, ck, k) => s + ck * out[row * CLASSES + k]!, 0);
  let worst = 0;
  coords.forEach((i, k) => {
    const fd = (loss(2 * k) - loss(2 * k + 1)) / (2 * h);
    const err = Math.abs(fd - grad[i]!);
    worst = Math.max(worst, err);
    assert.ok(err <= 2e-3 + 1e-2 * Math.abs(fd), `coordinate ${i}: autodiff ${grad[i]} vs finite difference ${fd}`);
  });
  assert.ok(grad.some((g) => Math.abs(g) > 1e-2), 'the gradient is not trivially zero');
  model.dispose();
});
