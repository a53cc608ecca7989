/**
 * The kernels qrobust wraps around stock wasm ones, against the cpu backend: BatchMatMul / _FusedMatMul
 * (transposed operands made explicit), Sum over all but the last axis (bias gradients), and the
 * buffer-sharing Identity and same-dtype Cast.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { assertClose, assertNoLeak, onBoth, randomHost, setUpWasm, wasmDataIds } from './kernel-helpers.js';

const TOL = 1e-5;

before(setUpWasm);

test('matMul matches the cpu backend for every transpose combination, rank 2 and batched', () => {
  const rng = new Rng(31);
  const shapes: [number[], number[]][] = [
    [[3, 5], [5, 4]],
    [[2, 3, 5], [2, 5, 4]],
    [[1, 3, 5], [2, 5, 4]],
    [[17, 33], [33, 9]],
    // Few rows, many columns: here a · bᵀ is computed as (b · aᵀ)ᵀ.
    [[4, 8], [8, 64]],
    [[1, 4, 8], [2, 8, 64]],
  ];
  for (const [sa, sb] of shapes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const swap = (s: number[], t: boolean): number[] => (t ? [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!] : s);
        const a = randomHost(rng, swap(sa, ta));
        const b = randomHost(rng, swap(sb, tb));
        const [fast, ref] = onBoth([a, b], (x, y) => tf.matMul(x!, y!, ta, tb));
        assertClose(fast[0]!, ref[0]!, TOL, `matMul ${sa}x${sb} tA=${ta} tB=${tb}`);
        if (sa.length > 2) continue; // the stock wasm batched fused product adds the bias wrongly; not ours to fix
        const [fused, fusedRef] = onBoth([a, b, randomHost(rng, [sb[sb.length - 1]!])], (x, y, bias) =>
          tf.fused.matMul({ a: x!, b: y!, transposeA: ta, transposeB: tb, bias: bias!, activation: 'relu' }),
        );
        assertClose(fused[0]!, fusedRef[0]!, TOL, `fused matMul ${sa}x${sb} tA=${ta} tB=${tb}`);
      }
    }
  }
});

test('dense-layer gradients (transposed products) match the cpu backend and leak nothing', () => {
  const rng = new Rng(32);
  const x = randomHost(rng, [16, 40]);
  const w = randomHost(rng, [40, 12]);
  const bias = randomHost(rng, [12]);
  const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Scalar =>
    tf.sum(tf.square(tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: c, activation: 'relu' })));
  const [fast, ref] = onBoth([x, w, bias], (a, b, c) => tf.grads(loss)([a!, b!, c!]));
  for (let i = 0; i < 3; i++) assertClose(fast[i]!, ref[i]!, TOL, `dense gradient ${i}`);
  const ts = [x, w, bias].map((h) => tf.tensor(h.values, h.shape));
  const g = tf.grads(loss);
  assertNoLeak('dense gradients', () => tf.dispose(g(ts)));
  assertNoLeak('matMul(a, b, true, true)', () => tf.dispose(tf.matMul(ts[1]!, ts[0]!, true, true)));
  tf.dispose(ts);
});

test('clones share the buffer and stay valid after the original is disposed', () => {
  const before = wasmDataIds();
  const x = tf.tensor([1, 2, 3, 4], [2, 2]);
  const y = tf.clone(x);
  assert.equal(wasmDataIds(), before + 1, 'the clone shares the original buffer');
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
  const v = tf.variable(y);
  y.dispose();
  const next = tf.add(v, 1);
  v.assign(next);
  next.dispose();
  assert.deepEqual(Array.from(v.dataSync()), [2, 3, 4, 5]);
  v.dispose();
  assert.equal(wasmDataIds(), before);
});

test('Sum over all but the last axis matches the cpu backend; other reductions are unchanged', () => {
  const rng = new Rng(33);
  const cases: [number[], number | number[], boolean][] = [
    [[4, 5, 6, 16], [0, 1, 2], false],
    [[4, 5, 6, 13], [2, 0, 1], true],
    [[3, 7, 33], [-3, -2], false],
    [[50, 10], 0, false],
    [[50, 10], [0], true],
    [[4, 5, 6, 3], [0, 1], false],
    [[4, 5, 6, 3], [1, 2, 3], true],
    [[4, 5, 6, 3], [0, 1, 2, 3], false],
    [[20], 0, false],
  ];
  for (const [shape, axis, keepDims] of cases) {
    const x = randomHost(rng, shape);
    const [fast, ref] = onBoth([x], (t) => tf.sum(t!, axis, keepDims));
    assertClose(fast[0]!, ref[0]!, 1e-5, `sum ${shape} axis ${axis} keepDims ${keepDims}`);
  }
  const ints = tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32');
  const s = tf.sum(ints, 0);
  assert.equal(s.dtype, 'int32');
  assert.deepEqual(Array.from(s.dataSync()), [9, 12]);
  tf.dispose([ints, s]);
  const big = tf.tensor(randomHost(rng, [8, 9, 9, 16]).values, [8, 9, 9, 16]);
  assertNoLeak('bias-gradient sum', () => tf.dispose(tf.sum(big, [0, 1, 2])));
  big.dispose();
});

test('Cast to the same dtype shares the buffer; other casts convert', () => {
  const before = wasmDataIds();
  const x = tf.tensor([1.5, -2.5, 3], [3]);
  const same = tf.cast(x, 'float32');
  assert.equal(wasmDataIds(), before + 1);
  const ints = tf.cast(x, 'int32');
  assert.equal(ints.dtype, 'int32');
  assert.deepEqual(Array.from(ints.dataSync()), [1, -2, 3]);
  x.dispose();
  assert.deepEqual(Array.from(same.dataSync()), [1.5, -2.5, 3]);
  tf.dispose([same, ints]);
  assert.equal(wasmDataIds(), before);
});
