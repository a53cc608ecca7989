/**
 * The Keras importer on the published networks in shared/models: the seed paper's Keras 1 CIFAR-10 MLP
 * (duncan2020, weights only) and Henzinger et al.'s Keras 2 / TF2 MNIST MLP (weights of a subclassed model).
 * Reference: logits of the same files on the same first 20 test images, computed by h5py + NumPy
 * (scripts/crosscheck/keras_h5_logits.py; each fixture records its command).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { QrobustError } from '../../src/core/errors.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importKerasH5 } from '../../src/import/keras/index.js';
import type { ImportedNetwork } from '../../src/import/types.js';
import {
  assertLogitsClose,
  imageInput,
  NEEDS_DATASETS,
  NEEDS_SHARED_MODELS,
  referenceLogits,
  request,
  SHARED_MODELS,
  testImages,
  type ReferenceLogits,
} from './keras-fixtures.js';
import { hostGraphOutput } from './keras-host-graph.js';

await initBackend('wasm');

const skip = NEEDS_SHARED_MODELS || NEEDS_DATASETS;
const DUNCAN = SHARED_MODELS ? join(SHARED_MODELS, 'duncan2020', 'weights_keras1.h5') : '';
const HENZINGER = SHARED_MODELS ? join(SHARED_MODELS, 'henzinger2021', 'mnist_mlp.h5') : '';

/** The TF.js model of the graph on the reference's images, compared logit by logit. */
async function assertMatchesReference(net: ImportedNetwork, ref: ReferenceLogits, bytes: Uint8Array): Promise<void> {
  assert.equal(createHash('sha256').update(bytes).digest('hex'), ref.modelSha256, 'the reference was computed on another file');
  const ds = await testImages(ref.dataset, ref.indices.length);
  assert.deepEqual(Array.from(ds.labels), ref.labels, 'the test images are not the ones the reference used');
  const before = tf.memory().numTensors;
  const model = buildLayersModel(net.graph);
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const x = new Float32Array(ds.count * size);
  for (let i = 0; i < ds.count; i++) x.set(imageInput(ds, i), i * size);
  const out = tf.tidy(() => (model.predict(tf.tensor4d(x, [ds.count, ...ds.shape])) as tf.Tensor).arraySync() as number[][]);
  model.dispose();
  assert.equal(tf.memory().numTensors, before, 'building and running the model leaks tensors');
  ref.logits.forEach((want, i) => assertLogitsClose(out[i]!, want, 1e-4, `${ref.model} image ${i}`));
}

test('duncan2020: the Keras 1 weights-only CIFAR-10 MLP with --arch dense:256,256,10 --layout flat-nchw', { skip }, async () => {
  const bytes = readFileSync(DUNCAN);
  const ref = referenceLogits('duncan2020-logits.json');
  const net = await importKerasH5(request(DUNCAN, bytes, { shape: [32, 32, 3], numClasses: 10 }, { arch: 'dense:256,256,10', layout: 'flat-nchw' }));
  assert.equal(net.layout, 'flat-nchw');
  assert.deepEqual(
    net.graph.nodes.map((n) => [n.name, n.op.kind, n.op.kind === 'flatten' ? n.op.order : n.op.kind === 'dense' ? n.op.activation.kind : '']),
    [['flatten', 'flatten', 'chw'], ['dense_1', 'dense', 'relu'], ['dense_2', 'dense', 'relu'], ['dense_3', 'dense', 'linear']],
  );
  assert.deepEqual(net.details['weightLayers'], ['dense_1', 'dense_2', 'dense_3']);
  await assertMatchesReference(net, ref, bytes);
});

test("duncan2020: the zoo name 'mlp' gives the same graph as its layer list", { skip }, async () => {
  const bytes = readFileSync(DUNCAN);
  const ds = { shape: [32, 32, 3] as const, numClasses: 10 };
  const byName = await importKerasH5(request(DUNCAN, bytes, ds, { arch: 'mlp', layout: 'flat-nchw' }));
  const byList = await importKerasH5(request(DUNCAN, bytes, ds, { arch: 'dense:256,256,10', layout: 'flat-nchw' }));
  assert.deepEqual(byName.graph, byList.graph);
});

test('duncan2020: without --layout the flatten order of a 3-channel image is refused, not guessed', { skip }, async () => {
  const bytes = readFileSync(DUNCAN);
  await assert.rejects(
    importKerasH5(request('weights_keras1.h5', bytes, { shape: [32, 32, 3], numClasses: 10 }, { arch: 'dense:256,256,10' })),
    (e: unknown) => e instanceof QrobustError && e.code === 'invalid_argument' && /^weights_keras1\.h5: .*--layout flat-nchw or flat-nhwc$/.test(e.message),
  );
});

test('henzinger2021: the file holds two dense layers (784→64→32, argmax over 32 outputs), so dense:64,32,10 is refused', { skip }, async () => {
  const bytes = readFileSync(HENZINGER);
  await assert.rejects(
    importKerasH5(request('mnist_mlp.h5', bytes, { shape: [28, 28, 1], numClasses: 10 }, { arch: 'dense:64,32,10' })),
    (e: unknown) =>
      e instanceof QrobustError &&
      e.code === 'weights_mismatch' &&
      e.message === 'mnist_mlp.h5: --arch dense:64,32,10 has 3 layers with weights, the file has 2 (quantized_dense [784,64]+[64], quantized_dense_1 [64,32]+[32])',
  );
});

test('henzinger2021: the Keras 2 subclassed-model weights with --arch dense:64,32 give the float network', { skip }, async () => {
  const bytes = readFileSync(HENZINGER);
  const ref = referenceLogits('henzinger2021-mnist-logits.json');
  const net = await importKerasH5(request(HENZINGER, bytes, { shape: [28, 28, 1], numClasses: 10 }, { arch: 'dense:64,32' }));
  assert.equal(net.layout, 'flat-nhwc', 'one channel: the layout is inferred');
  assert.equal(net.details['kerasVersion'], '2.2.4-tf');
  assert.equal(net.details['outputs'], 32);
  await assertMatchesReference(net, ref, bytes);
  // The host evaluator agrees with TF.js on this graph too (it is what the full-model tests run on).
  const ds = await testImages('mnist', 2);
  assertLogitsClose(hostGraphOutput(net.graph, imageInput(ds, 1)), ref.logits[1]!, 1e-5, 'host evaluator image 1');
});
