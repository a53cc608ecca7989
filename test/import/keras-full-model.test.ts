/**
 * Full-model Keras files (model_config + model_weights). No Keras is installable here (Debian has no
 * python3-keras / python3-tensorflow), so the files are hand-made fixtures written with h5py in Keras's
 * documented layout (scripts/crosscheck/make_keras_fixtures.py), and the reference logits come from h5py + NumPy
 * evaluating each model in its own data format (scripts/crosscheck/keras_h5_logits.py) on the first 20
 * CIFAR-10 test images. The graph runs both in TF.js (buildLayersModel) and on a plain float64 host evaluator
 * (keras-host-graph.ts), each compared with the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { QrobustError } from '../../src/core/errors.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importKerasH5 } from '../../src/import/keras/index.js';
import type { ImportedNetwork } from '../../src/import/types.js';
import { assertLogitsClose, fixturePath, imageInput, NEEDS_DATASETS, referenceLogits, request, testImages } from './keras-fixtures.js';
import { hostGraphOutput } from './keras-host-graph.js';

await initBackend('wasm');

const CIFAR = { shape: [32, 32, 3] as const, numClasses: 10 };

async function importFixture(name: string): Promise<ImportedNetwork> {
  return importKerasH5(request(name, readFileSync(fixturePath(name)), CIFAR));
}

async function assertHostMatches(net: ImportedNetwork, refName: string): Promise<void> {
  const ref = referenceLogits(refName);
  const ds = await testImages('cifar10', ref.indices.length);
  assert.deepEqual(Array.from(ds.labels), ref.labels, 'the test images are not the ones the reference used');
  ref.logits.forEach((want, i) => assertLogitsClose(hostGraphOutput(net.graph, imageInput(ds, i)), want, 1e-4, `${ref.model} image ${i} (host)`));
  const before = tf.memory().numTensors;
  const model = buildLayersModel(net.graph);
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const x = new Float32Array(ds.count * size);
  for (let i = 0; i < ds.count; i++) x.set(imageInput(ds, i), i * size);
  const out = tf.tidy(() => (model.predict(tf.tensor4d(x, [ds.count, ...ds.shape])) as tf.Tensor).arraySync() as number[][]);
  model.dispose();
  assert.equal(tf.memory().numTensors, before, 'building and running the model leaks tensors');
  ref.logits.forEach((want, i) => assertLogitsClose(out[i]!, want, 1e-4, `${ref.model} image ${i} (TF.js)`));
}

test('Keras 2 functional channels-last CNN: padding, conv, batch norm, depthwise, ReLU6, Add, LeakyReLU, pools, Concatenate, GAP', { skip: NEEDS_DATASETS }, async () => {
  const net = await importFixture('k2-functional-cnn.h5');
  assert.equal(net.layout, 'nhwc');
  assert.equal(net.details['modelClass'], 'Model');
  assert.equal(net.details['softmaxStripped'], true);
  const kinds = Object.fromEntries(net.graph.nodes.map((n) => [n.name, n.op.kind]));
  assert.deepEqual(kinds, {
    pad: 'pad', conv: 'conv2d', bn: 'channelAffine', dw: 'conv2d', relu6: 'activation', proj: 'conv2d', residual: 'add',
    leaky: 'activation', maxpool: 'maxPool', avgpool: 'avgPool', concat: 'concat', gap: 'globalAvgPool', logits: 'dense',
  });
  const dw = net.graph.nodes.find((n) => n.name === 'dw')!.op;
  assert.ok(dw.kind === 'conv2d' && dw.groups === 4 && dw.kernelShape.join() === '3,3,1,8');
  assert.deepEqual(net.graph.nodes.find((n) => n.name === 'residual')!.inputs, ['relu6', 'proj']);
  await assertHostMatches(net, 'k2-functional-cnn-logits.json');
});

test('Keras 1 Sequential with th dim ordering: [out,in,kh,kw] kernels transposed, C-H-W flatten, running_std as variance', { skip: NEEDS_DATASETS }, async () => {
  const net = await importFixture('k1-sequential-th.h5');
  assert.equal(net.layout, 'nchw');
  assert.equal(net.details['dataFormat'], 'channels_first');
  assert.equal(net.details['kerasVersion'], '1.2.2');
  const flatten = net.graph.nodes.find((n) => n.op.kind === 'flatten')!;
  assert.ok(flatten.op.kind === 'flatten' && flatten.op.order === 'chw');
  assert.equal(net.graph.nodes[net.graph.nodes.length - 1]!.name, 'dense_2', 'the final softmax layer adds no node');
  await assertHostMatches(net, 'k1-sequential-th-logits.json');
});

test('Keras 2 Sequential channels-first: HWIO kernels kept, average pooling, Flatten over NCHW in C-H-W order', { skip: NEEDS_DATASETS }, async () => {
  const net = await importFixture('k2-sequential-channels-first.h5');
  assert.equal(net.layout, 'nchw');
  await assertHostMatches(net, 'k2-sequential-channels-first-logits.json');
});

test('a declared layout that contradicts the file is refused', async () => {
  const bytes = readFileSync(fixturePath('k2-sequential-channels-first.h5'));
  await assert.rejects(
    importKerasH5(request('cf.h5', bytes, CIFAR, { layout: 'nhwc' })),
    (e: unknown) => e instanceof QrobustError && e.code === 'invalid_argument' && e.message === 'cf.h5: --layout nhwc contradicts the file, whose model takes [3,32,32] (nchw)',
  );
});
