/**
 * qrobust's wasm MaxPoolGrad must equal TF.js's cpu kernel bit for bit, ties included: the first maximum of a
 * window (row-major) takes the gradient, overlapping windows sum, NaN / -Infinity windows pass nothing.
 */
import { test, before } from 'node:test';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { assertIdentical, assertNoLeak, onBoth, randomHost, setUpWasm, type HostTensor } from './kernel-helpers.js';

interface PoolCase {
  size: number | [number, number];
  stride: number | [number, number];
  pad: 'same' | 'valid' | number;
  roundingMode?: 'floor' | 'round' | 'ceil';
  shape: [number, number, number, number];
}

const CASES: PoolCase[] = [
  { size: 2, stride: 2, pad: 'valid', shape: [3, 8, 8, 5] },
  { size: 2, stride: 2, pad: 'valid', shape: [2, 7, 9, 3] },
  { size: 2, stride: 2, pad: 'same', shape: [2, 7, 7, 4] },
  { size: 3, stride: 2, pad: 'same', shape: [2, 9, 8, 3] },
  { size: 3, stride: 2, pad: 'valid', shape: [2, 9, 8, 3] },
  { size: 3, stride: 1, pad: 'same', shape: [2, 6, 7, 2] },
  { size: 3, stride: 1, pad: 'valid', shape: [2, 6, 7, 2] },
  { size: 1, stride: 1, pad: 'valid', shape: [1, 4, 4, 2] },
  { size: [2, 3], stride: [1, 2], pad: 'same', shape: [2, 7, 8, 3] },
  { size: 3, stride: 2, pad: 1, roundingMode: 'floor', shape: [2, 8, 8, 2] },
  { size: 2, stride: 2, pad: 'valid', shape: [128, 28, 28, 16] },
];

/** ReLU outputs on a coarse grid: many zeros and repeated values, so windows tie often. */
function tiedInput(rng: Rng, shape: number[]): HostTensor {
  const h = randomHost(rng, shape);
  for (let i = 0; i < h.values.length; i++) h.values[i] = Math.max(0, Math.round(h.values[i]! * 2) / 2);
  return h;
}

function poolGrad(c: PoolCase, x: HostTensor, dy: HostTensor): [HostTensor, HostTensor] {
  const attrs = { filterSize: c.size, strides: c.stride, pad: c.pad, dimRoundingMode: c.roundingMode };
  const [[a], [b]] = onBoth([x, dy], (xx, d) => {
    const y = tf.engine().runKernel('MaxPool', { x: xx! }, attrs as never) as tf.Tensor;
    return tf.engine().runKernel('MaxPoolGrad', { dy: d!, input: xx!, output: y }, attrs as never) as tf.Tensor;
  });
  return [a!, b!];
}

function pooledShape(c: PoolCase): number[] {
  return tf.backend_util.computePool2DInfo(c.shape, c.size, c.stride, 1, c.pad, c.roundingMode).outShape;
}

before(setUpWasm);

test('MaxPoolGrad equals the cpu kernel exactly, ties included', () => {
  const rng = new Rng(21);
  for (const c of CASES) {
    const x = tiedInput(rng, c.shape);
    const dy = randomHost(rng, pooledShape(c));
    dy.values[0] = -0;
    const [fast, ref] = poolGrad(c, x, dy);
    assertIdentical(fast, ref, `MaxPoolGrad ${JSON.stringify(c)}`);
  }
});

test('MaxPoolGrad treats NaN, -Infinity and all-equal windows like the cpu kernel', () => {
  const rng = new Rng(22);
  for (const c of [CASES[0]!, CASES[3]!, CASES[5]!]) {
    const x = tiedInput(rng, c.shape);
    const specials = [NaN, -Infinity, Infinity, 0, -0, 1];
    for (let i = 0; i < x.values.length; i += 3) x.values[i] = specials[rng.int(specials.length)]!;
    // Whole windows of NaN and of -Infinity.
    x.values.fill(NaN, 0, 2 * c.shape[2] * c.shape[3]);
    x.values.fill(-Infinity, 2 * c.shape[2] * c.shape[3], 4 * c.shape[2] * c.shape[3]);
    const dy = randomHost(rng, pooledShape(c));
    const [fast, ref] = poolGrad(c, x, dy);
    assertIdentical(fast, ref, `MaxPoolGrad with special values ${JSON.stringify(c)}`);
  }
});

test('MaxPoolGrad through autodiff matches the cpu backend and leaks nothing', () => {
  const rng = new Rng(23);
  const x = tiedInput(rng, [2, 10, 10, 3]);
  const w = randomHost(rng, [5, 5, 3]);
  const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
    tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid'), b)))(a);
  const [fast, ref] = onBoth([x, w], f);
  assertIdentical(fast[0]!, ref[0]!, 'maxPool gradient');
  const xt = tf.tensor(x.values, x.shape);
  const wt = tf.tensor(w.values, w.shape);
  for (const [size, stride] of [[2, 2], [3, 1], [3, 2]]) {
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.maxPool(v as tf.Tensor4D, size!, stride!, 'same')));
    assertNoLeak(`maxPool ${size}/${stride} gradient`, () => tf.dispose(g(xt)));
  }
  tf.dispose([xt, wt]);
});
