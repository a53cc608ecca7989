import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { QrobustError } from '../../src/core/errors.js';
import { graphFromModel } from '../../src/models/graph.js';
import { LayersClassifier } from '../../src/models/classifier.js';
import { Normalize } from '../../src/models/normalize-layer.js';
import { buildModel } from '../../src/models/zoo.js';
import { FakeQuantClassifier } from '../../src/quant/quantized-classifier.js';
import { untrained } from './fixtures.js';

await initBackend('wasm');

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

function assertSameLogits(model: tfl.LayersModel, shape: number[], tol = 1e-5): void {
  const graph = graphFromModel(model);
  const fq = new FakeQuantClassifier(graph, null);
  const ref = new LayersClassifier(model);
  const x = tf.randomUniform([3, shape[0]!, shape[1]!, shape[2]!], 0, 1, 'float32', 9) as tf.Tensor4D;
  const a = fq.logits(x);
  const b = ref.logits(x);
  const scale = tf.tidy(() => tf.max(tf.abs(b)).dataSync()[0]!);
  assert.ok(maxAbsDiff(a, b) <= tol * Math.max(1, scale), `graph executor differs from model.predict by ${maxAbsDiff(a, b)}`);
  tf.dispose([x, a, b]);
  fq.dispose();
}

test('the zoo architectures become typed step lists with weights, shapes and fused activations', () => {
  const g = graphFromModel(untrained('cnn-small'));
  assert.deepEqual(g.steps.map((s) => s.kind), ['normalize', 'conv2d', 'maxPool', 'conv2d', 'maxPool', 'flatten', 'dense', 'dense']);
  assert.deepEqual(g.inputShape, [28, 28, 1]);
  assert.equal(g.outputSize, 10);
  const conv = g.steps[1]!;
  assert.ok(conv.kind === 'conv2d');
  assert.deepEqual(conv.kernelShape, [3, 3, 1, 16]);
  assert.equal(conv.kernel.length, 3 * 3 * 16);
  assert.equal(conv.padding, 'same');
  assert.equal(conv.activation, 'relu');
  assert.deepEqual(conv.outputShape, [28, 28, 16]);
  assert.deepEqual(g.steps[5]!.outputShape, [7 * 7 * 32]);
  const norm = g.steps[0]!;
  assert.ok(norm.kind === 'normalize');
  assert.deepEqual(norm.mean, [0.1307]);
  const last = g.steps[7]!;
  assert.ok(last.kind === 'dense' && last.activation === 'linear' && last.kernelShape[1] === 10);
  assert.deepEqual(graphFromModel(untrained('mlp')).steps.map((s) => s.kind), ['normalize', 'flatten', 'dense', 'dense', 'dense']);
});

test('executing the graph in float reproduces model.predict for every zoo architecture', () => {
  for (const arch of ['mlp-tiny', 'mlp', 'cnn-small'] as const) {
    const m = untrained(arch, 4);
    assertSameLogits(m, [28, 28, 1]);
    m.dispose();
  }
  const cifar = buildModel('cnn-cifar', { inputShape: [32, 32, 3], numClasses: 10, mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] }, 2);
  assertSameLogits(cifar, [32, 32, 3]);
  cifar.dispose();
});

test('strided valid convolutions, ReLU/Activation/Dropout layers, same-padded pools and bias-free layers', () => {
  const m = tfl.sequential();
  m.add(new Normalize({ mean: [0.2, 0.4], std: [0.3, 0.5], inputShape: [11, 9, 2] }));
  m.add(tfl.layers.conv2d({ filters: 5, kernelSize: [3, 2], strides: 2, padding: 'valid', activation: 'linear' }));
  m.add(tfl.layers.reLU());
  m.add(tfl.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }));
  m.add(tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', useBias: false, activation: 'relu' }));
  m.add(tfl.layers.dropout({ rate: 0.5 }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.activation({ activation: 'linear' }));
  m.add(tfl.layers.dense({ units: 6, activation: 'relu', biasInitializer: 'randomNormal' }));
  m.add(tfl.layers.activation({ activation: 'relu' }));
  m.add(tfl.layers.dense({ units: 3 }));
  const g = graphFromModel(m);
  assert.deepEqual(g.steps.map((s) => s.kind), ['normalize', 'conv2d', 'relu', 'maxPool', 'conv2d', 'flatten', 'dense', 'relu', 'dense']);
  assert.deepEqual(g.steps[1]!.outputShape, [5, 4, 5]);
  assertSameLogits(m, [11, 9, 2]);
  m.dispose();
});

test('an unsupported layer is named with its class', () => {
  const bn = tfl.sequential();
  bn.add(tfl.layers.flatten({ inputShape: [4, 4, 1] }));
  bn.add(tfl.layers.batchNormalization({ name: 'bn_1' }));
  bn.add(tfl.layers.dense({ units: 2 }));
  assert.throws(() => graphFromModel(bn), (e: unknown) => {
    assert.ok(e instanceof QrobustError && e.code === 'unsupported_layer');
    assert.match(e.message, /layer 'bn_1' \(BatchNormalization\)/);
    return true;
  });
  const tanh = tfl.sequential();
  tanh.add(tfl.layers.flatten({ inputShape: [4, 4, 1] }));
  tanh.add(tfl.layers.dense({ units: 2, activation: 'tanh', name: 'squash' }));
  assert.throws(() => graphFromModel(tanh), /layer 'squash' \(Dense\): activation 'tanh' is not supported/);
  tf.dispose([bn, tanh].flatMap((m) => m.getWeights()));
});
