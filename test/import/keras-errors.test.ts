/**
 * What the Keras importer refuses, and that each refusal is one line naming the file: bytes that are not HDF5
 * or are cut short (checked against HDF5's own view: libhdf5 through h5wasm, the library h5py wraps), HDF5
 * that is not Keras, a layer it cannot express, weights that do not fit the config, a weights-only file
 * without --arch, an unknown --arch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { QrobustError, type ErrorCode } from '../../src/core/errors.js';
import { importKerasH5 } from '../../src/import/keras/index.js';
import type { ImportRequest } from '../../src/import/types.js';
import { fixturePath, request } from './keras-fixtures.js';

const CIFAR = { shape: [32, 32, 3] as const, numClasses: 10 };

async function refusal(req: ImportRequest, code: ErrorCode): Promise<string> {
  try {
    await importKerasH5(req);
  } catch (e) {
    assert.ok(e instanceof QrobustError, `not a QrobustError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(!e.message.includes('\n'), `more than one line: ${e.message}`);
    assert.ok(e.message.startsWith(`${req.file}: `), `does not start with the file: ${e.message}`);
    return e.message;
  }
  assert.fail(`${req.file} was imported`);
}

const functional = readFileSync(fixturePath('k2-functional-cnn.h5'));

test('bytes that are not HDF5 are an invalid model', async () => {
  const msg = await refusal(request('model.onnx', new TextEncoder().encode('not an hdf5 file at all, just text'), CIFAR), 'invalid_model');
  assert.match(msg, /not a readable HDF5 file \(file signature not found\)/);
  await refusal(request('empty.h5', new Uint8Array(0), CIFAR), 'invalid_model');
});

test('a truncated file is an invalid model: cut inside the superblock, in the middle, one byte short', async () => {
  for (const keep of [8, 96]) {
    assert.match(await refusal(request('cut.h5', functional.subarray(0, keep), CIFAR), 'invalid_model'), /^cut\.h5: not a readable HDF5 file \(/);
  }
  for (const keep of [2048, Math.floor(functional.length / 2), functional.length - 1]) {
    const msg = await refusal(request('cut.h5', functional.subarray(0, keep), CIFAR), 'invalid_model');
    assert.match(msg, new RegExp(`^cut\\.h5: not a readable HDF5 file \\(truncated file: eof = ${keep},`), `cut at ${keep}: ${msg}`);
  }
});

test('HDF5 that is not a Keras file', async () => {
  const msg = await refusal(request('data.h5', readFileSync(fixturePath('not-keras.h5')), CIFAR), 'invalid_model');
  assert.match(msg, /without Keras's 'layer_names' attribute/);
});

test('a layer qrobust cannot express is named with its class', async () => {
  const msg = await refusal(request('sep.h5', readFileSync(fixturePath('k2-unsupported-layer.h5')), CIFAR), 'unsupported_layer');
  assert.match(msg, /^sep\.h5: layer 'separable' \(SeparableConv2D\): not supported \(supported: InputLayer, Dense, /);
});

test('a kernel that does not fit the config names the layer and both shapes', async () => {
  const msg = await refusal(request('bad.h5', readFileSync(fixturePath('k2-wrong-kernel-shape.h5')), CIFAR), 'weights_mismatch');
  assert.equal(msg, "bad.h5: layer 'conv2d' (Conv2D): kernel conv2d/kernel:0 is [3,3,3,3] in the file, [3,3,3,2] expected");
});

test('images that do not fit the model input', async () => {
  const msg = await refusal(request('cnn.h5', functional, { shape: [28, 28, 1], numClasses: 10 }), 'shape_mismatch');
  assert.equal(msg, "cnn.h5: the model's input is [32,32,3] (channels_last), the dataset's images are 28×28×1");
});

test('a weights-only file needs --arch, and --arch must be known and fit the weights', async () => {
  const weightsOnly = readFileSync(fixturePath('k2-weights-only-mlp.h5'));
  const mnist = { shape: [28, 28, 1] as const, numClasses: 10 };
  assert.match(await refusal(request('w.h5', weightsOnly, mnist), 'invalid_argument'), /weights-only Keras file \(no model_config\): give its topology with --arch/);
  assert.match(await refusal(request('w.h5', weightsOnly, mnist, { arch: 'resnet50' }), 'unknown_arch'), /--arch 'resnet50': expected a zoo architecture/);
  assert.equal(
    await refusal(request('w.h5', weightsOnly, mnist, { arch: 'dense:8,12' }), 'weights_mismatch'),
    "w.h5: layer 'dense_1' (dense 12): kernel dense_1/kernel:0 is [8,10] in the file, [8,12] expected",
  );
  assert.match(await refusal(request('w.h5', weightsOnly, mnist, { arch: 'cnn-small' }), 'weights_mismatch'), /--arch cnn-small has 4 layers with weights, the file has 2/);
});
