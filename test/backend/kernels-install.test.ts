/**
 * Installing and removing qrobust's wasm kernels: removal restores exactly the stock registry (the stock wasm
 * backend has no Conv2DBackpropFilter, so CNN training fails there), and installing is idempotent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/backend/tf.js';
import { initBackend } from '../../src/backend/backend.js';
import { fastKernelsInstalled, installFastKernels } from '../../src/backend/kernels/index.js';

const NAMES = ['Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPoolGrad', 'BatchMatMul', '_FusedMatMul', 'Sum', 'Identity', 'Cast'];

function registry(): Map<string, tf.KernelConfig | undefined> {
  return new Map(NAMES.map((n) => [n, tf.getKernel(n, 'wasm')]));
}

function filterGradient(): tf.Tensor {
  const x = tf.ones([1, 4, 4, 1]);
  const w = tf.ones([2, 2, 1, 2]);
  try {
    return tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid')))(w);
  } finally {
    tf.dispose([x, w]);
  }
}

before(async () => {
  await initBackend('wasm', { fastKernels: false });
});

after(async () => {
  await initBackend('wasm', { fastKernels: true });
});

test('installFastKernels(false) restores the stock kernel registry exactly', () => {
  assert.equal(fastKernelsInstalled(), false);
  const stock = registry();
  assert.equal(stock.get('Conv2DBackpropFilter'), undefined, 'stock wasm has no Conv2DBackpropFilter');
  assert.throws(() => filterGradient(), /Conv2DBackpropFilter/);

  installFastKernels(true);
  installFastKernels(true); // idempotent
  assert.equal(fastKernelsInstalled(), true);
  const fast = registry();
  for (const name of NAMES) assert.notEqual(fast.get(name), stock.get(name), `${name} replaced`);
  const g = filterGradient();
  assert.deepEqual(Array.from(g.dataSync()), [9, 9, 9, 9, 9, 9, 9, 9]);
  g.dispose();

  installFastKernels(false);
  installFastKernels(false); // idempotent
  assert.equal(fastKernelsInstalled(), false);
  const restored = registry();
  for (const name of NAMES) assert.equal(restored.get(name), stock.get(name), `${name} restored`);
  assert.throws(() => filterGradient(), /Conv2DBackpropFilter/);
});

test('initBackend switches the kernels with its fastKernels option', async () => {
  await initBackend('wasm', { fastKernels: true });
  assert.equal(fastKernelsInstalled(), true);
  assert.notEqual(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
  await initBackend('wasm', { fastKernels: false });
  assert.equal(fastKernelsInstalled(), false);
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
});
