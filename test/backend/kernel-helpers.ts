/**
 * Helpers for the wasm gradient-kernel tests: running the same computation on the wasm backend (qrobust's
 * kernels) and on the cpu backend (TF.js's reference kernels) from plain arrays, and comparing the results.
 */
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';

/** Plain data for a tensor, so the same values can be rebuilt on either backend. */
export interface HostTensor {
  readonly shape: number[];
  readonly values: Float32Array;
}

/** Selects wasm with the fast kernels installed; call once per test file. */
export async function setUpWasm(): Promise<void> {
  await initBackend('wasm', { fastKernels: true });
}

export function randomHost(rng: Rng, shape: number[], scale = 1): HostTensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = rng.normal() * scale;
  return { shape, values };
}

/**
 * Runs `f` on `backend` with the inputs rebuilt there and returns every output as host data; disposes
 * everything it made and restores the previous backend.
 */
export function runOn(backend: 'wasm' | 'cpu', inputs: HostTensor[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): HostTensor[] {
  const previous = tf.getBackend();
  tf.setBackend(backend);
  try {
    const xs = inputs.map((h) => tf.tensor(h.values, h.shape, 'float32'));
    try {
      const out = tf.tidy(() => f(...xs));
      const list = Array.isArray(out) ? out : [out];
      const host = list.map((t) => ({ shape: [...t.shape], values: Float32Array.from(t.dataSync()) }));
      tf.dispose(list);
      return host;
    } finally {
      tf.dispose(xs);
    }
  } finally {
    tf.setBackend(previous);
  }
}

/** Runs `f` on both backends; returns [wasm, cpu] outputs. */
export function onBoth(inputs: HostTensor[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): [HostTensor[], HostTensor[]] {
  return [runOn('wasm', inputs, f), runOn('cpu', inputs, f)];
}

/**
 * Asserts equal shapes and `|a - b| <= tol * max(1, max |b|)` elementwise (a scale-relative bound, so values
 * near zero in a large-valued tensor are not held to a relative standard they cannot meet in float32).
 * Non-finite values must match exactly (same NaN/±Infinity positions).
 */
export function assertClose(actual: HostTensor, expected: HostTensor, tol: number, label: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  let scale = 1;
  for (const v of expected.values) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.values.length; i++) {
    const a = actual.values[i]!;
    const b = expected.values[i]!;
    if (!Number.isFinite(b) || !Number.isFinite(a)) {
      assert.ok(Object.is(a, b), `${label}: element ${i} is ${a}, expected ${b}`);
      continue;
    }
    const err = Math.abs(a - b) / scale;
    if (err > worst) {
      worst = err;
      worstAt = i;
    }
  }
  assert.ok(worst <= tol, `${label}: relative error ${worst.toExponential(2)} at ${worstAt} (${actual.values[worstAt]} vs ${expected.values[worstAt]}) > ${tol}`);
}

/** Asserts bit-identical results (Object.is per element: distinguishes -0 and +0). */
export function assertIdentical(actual: HostTensor, expected: HostTensor, label: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  for (let i = 0; i < expected.values.length; i++) {
    if (!Object.is(actual.values[i], expected.values[i])) {
      assert.fail(`${label}: element ${i} is ${actual.values[i]}, expected ${expected.values[i]}`);
    }
  }
}

/** The wasm backend's count of live buffers. */
export function wasmDataIds(): number {
  return (tf.engine().findBackend('wasm') as unknown as { numDataIds(): number }).numDataIds();
}

/**
 * Runs `f` (which must dispose what it creates) `times` times after one warm-up call and asserts that neither
 * the tensor count, nor the wasm buffer count, nor the bytes held grew.
 */
export function assertNoLeak(label: string, f: () => void, times = 3): void {
  f();
  const tensors = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  const ids = wasmDataIds();
  for (let i = 0; i < times; i++) f();
  assert.equal(tf.memory().numTensors, tensors, `${label}: tensors leaked`);
  assert.equal(wasmDataIds(), ids, `${label}: wasm buffers leaked`);
  assert.equal(tf.memory().numBytes, bytes, `${label}: bytes leaked`);
}
