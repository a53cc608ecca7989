/**
 * Installing the kernels before the wasm backend is initialised: TF.js then runs the setup hooks of the
 * registered (replacement) kernels, which must still set up the stock kernels they call or restore.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src/backend/tf.js';
import { installFastKernels } from '../../src/backend/kernels/index.js';

test('kernels installed before backend initialisation work, and so do the stock ones after removal', async () => {
  installFastKernels(true);
  assert.ok(await tf.setBackend('wasm'));
  await tf.ready();
  const x = tf.ones([2, 5, 5, 3]);
  const w = tf.ones([3, 3, 3, 4]);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.matMul(tf.reshape(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), [2, 100]), tf.ones([100, 3]))),
  )([x, w]);
  assert.deepEqual(grads.map((g) => g.shape), [[2, 5, 5, 3], [3, 3, 3, 4]]);
  // Interior input pixels are read by all 9 taps of all 4 filters, each weighted 3 by the matmul: 108.
  assert.equal(grads[0]!.dataSync()[(2 * 5 + 2) * 3], 108);
  tf.dispose(grads);

  installFastKernels(false);
  const dx = tf.conv2dTranspose(tf.ones([1, 2, 2, 4]) as tf.Tensor4D, w as tf.Tensor4D, [1, 4, 4, 3], 2, 'same');
  assert.deepEqual(dx.shape, [1, 4, 4, 3]);
  const p = tf.matMul(tf.ones([2, 3]), tf.ones([4, 3]), false, true);
  assert.deepEqual(Array.from(p.dataSync()), [3, 3, 3, 3, 3, 3, 3, 3]);
  tf.dispose([x, w, dx, p]);
});
