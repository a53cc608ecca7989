/**
 * Item: float64 proofs, float32 networks. ONNX Runtime and TF.js evaluate in float32; a verifier answer
 * `unsat` must also hold there (in any summation order). Reference: float32 evaluation with Math.fround in
 * several summation orders.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { verifyCaseAuto } from '../../src/verify/auto.js';
import { verifyCaseBab } from '../../src/verify/bab/verify-bab.js';
import { affineEvalMargins } from '../../src/verify/bounds/evaluation.js';
import { IrBuilder } from '../../src/verify/bounds/ir-builder.js';
import { denseMatrix } from '../../src/verify/bounds/matrix.js';
import { crownBounds, crownSpecLowerBounds } from '../../src/verify/crown.js';
import { intervalBounds } from '../../src/verify/ibp.js';
import type { AffineStep, NetworkIR } from '../../src/verify/ir.js';
import { verifyCaseMilp } from '../../src/verify/milp/verify-milp.js';
import { isUnsafe } from '../../src/verify/property.js';
import { verifyCaseSmt } from '../../src/verify/smt/verify-smt.js';
import { releaseZ3 } from '../../src/verify/smt/z3-runtime.js';
import { box, dense, le, network, relu, vcase } from './tiny-nets.js';

after(releaseZ3);

const f = Math.fround;

/** y = w·x + b on float32 in one of three summation orders (forward, backward, pairwise). */
function dot32(w: ArrayLike<number>, x: ArrayLike<number>, b: number, order: 0 | 1 | 2): number {
  const p = Array.from(x, (v, i) => f(w[i]! * v));
  if (order === 0) return f(p.reduce((s, v) => f(s + v), 0) + b);
  if (order === 1) return p.reduceRight((s, v) => f(s + v), f(b));
  const pair = (a: number[]): number => (a.length === 1 ? a[0]! : f(pair(a.slice(0, a.length >> 1)) + pair(a.slice(a.length >> 1))));
  return pair([...p, b]);
}

/** The IR (dense affine and ReLU steps) evaluated in float32. */
function eval32(ir: NetworkIR, x: ArrayLike<number>, order: 0 | 1 | 2): Float64Array {
  let v = Float64Array.from(x, f);
  for (const s of ir.steps) {
    if (s.kind === 'relu') v = v.map((t) => (t > 0 ? t : 0));
    else if (s.kind === 'affine' && s.weights.format === 'dense') {
      const w = s.weights;
      const inp = v;
      v = Float64Array.from({ length: w.rows }, (_, i) => dot32(w.data.subarray(i * w.cols, (i + 1) * w.cols), inp, s.bias[i]!, order));
    } else throw new Error('dense affine and relu only');
  }
  return v;
}

// w = x = 1 + 2^-23 and b = −(1 + 2^-22), all float32: the real (and float64) value of w·x + b is 2^-46 ≈ 1.4e-14,
// but fl32(w·x) = 1 + 2^-22, so the float32 output is exactly 0: "y ≤ 0" (a tie counts as unsafe) holds.
const W = 1 + 2 ** -23;
const B = -(1 + 2 ** -22);
const GEMM = network(1, [dense('gemm', [[W]], [B])]);
const TIE = vcase(box([W], [W]), [[le([1], 0)]]);

test('the reference: float64 gives the margin 2^-46, float32 a tie (a valid counterexample)', () => {
  assert.equal(W * W + B, 2 ** -46);
  assert.equal(f(f(W * W) + B), 0);
  assert.ok(isUnsafe(TIE.unsafe, eval32(GEMM, [W], 0)));
});

test('float32: interval and CROWN bounds contain the float32 output of the one-weight Gemm', () => {
  const y = eval32(GEMM, [W], 0)[0]!;
  for (const b of [intervalBounds(GEMM, TIE.input), crownBounds(GEMM, TIE.input)]) {
    const out = b.steps[0]!;
    assert.ok(out.lower[0]! <= y && y <= out.upper[0]!, `${y} in [${out.lower[0]}, ${out.upper[0]}]`);
  }
  assert.ok(crownSpecLowerBounds(GEMM, TIE.input, [le([1], 0)])[0]! <= 0);
});

test('float32: no method answers unsat on the one-weight Gemm', async () => {
  for (const r of [
    await verifyCaseAuto(GEMM, TIE, { timeLimit: 5, noAttack: true }),
    await verifyCaseAuto(GEMM, TIE, { timeLimit: 5, complete: 'milp', noAttack: true }),
    await verifyCaseMilp(GEMM, TIE, crownBounds(GEMM, TIE.input), { timeLimit: 5 }),
    await verifyCaseBab(GEMM, TIE, { timeLimit: 5 }),
    await verifyCaseSmt(GEMM, TIE, { timeLimit: 5 }),
  ]) {
    assert.notEqual(r.verdict, 'unsat', `${r.method} answered unsat`);
  }
});

test('float32: on random nets and point boxes, IBP and CROWN bounds contain the float32 outputs in three summation orders', () => {
  const rng = new Rng(7);
  for (let t = 0; t < 20; t++) {
    const sizes = [6, 8, 8, 3];
    const steps = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const rows = Array.from({ length: sizes[l + 1]! }, () => Array.from({ length: sizes[l]! }, () => f(rng.normal())));
      steps.push(dense(`fc${l}`, rows, Array.from({ length: sizes[l + 1]! }, () => f(rng.normal()))));
      if (l + 2 < sizes.length) steps.push(relu(`r${l}`, sizes[l + 1]!));
    }
    const ir = network(6, steps);
    const x = Array.from({ length: 6 }, () => f(rng.normal()));
    const region = box(x, x);
    for (const b of [intervalBounds(ir, region), crownBounds(ir, region)]) {
      const out = b.steps[b.steps.length - 1]!;
      for (const order of [0, 1, 2] as const) {
        const y = eval32(ir, x, order);
        y.forEach((v, j) => assert.ok(out.lower[j]! <= v && v <= out.upper[j]!, `net ${t} order ${order} output ${j}: ${v} in [${out.lower[j]}, ${out.upper[j]}]`));
      }
    }
  }
});

test('float32: a folded Sub → Div → Gemm chain carries the evaluation margin of the unfolded float32 ops', () => {
  // x ↦ W·((x − m) / s) + c evaluated op by op in float32, against the bounds of the one folded affine step.
  const rng = new Rng(3);
  const n = 5;
  const m = Float64Array.from({ length: n }, () => f(rng.normal()));
  const s = Float64Array.from({ length: n }, () => f(0.1 + Math.abs(rng.normal())));
  const w = Float64Array.from({ length: 2 * n }, () => f(rng.normal()));
  const c = Float64Array.from({ length: 2 }, () => f(rng.normal()));
  const b = new IrBuilder(n, 'chain');
  b.add(m.map((v) => -v), 'sub');
  b.scale(s.map((v) => 1 / v), 'div');
  b.linear(denseMatrix(2, n, w), c, 'gemm');
  const ir = b.finish([n]);
  assert.equal(ir.steps.length, 1, 'folded into one affine step');
  assert.ok((ir.steps[0] as AffineStep & { float32?: unknown }).float32, 'the folded step records its float32 evaluation');
  for (let t = 0; t < 50; t++) {
    const x = Array.from({ length: n }, () => f(3 * rng.normal()));
    const u = x.map((v, i) => f(f(v - m[i]!) / s[i]!));
    const out = intervalBounds(ir, box(x, x)).steps[0]!;
    for (let j = 0; j < 2; j++) {
      for (const order of [0, 1, 2] as const) {
        const y = dot32(w.subarray(j * n, (j + 1) * n), u, c[j]!, order);
        assert.ok(out.lower[j]! <= y && y <= out.upper[j]!, `sample ${t} output ${j} order ${order}: ${y} in [${out.lower[j]}, ${out.upper[j]}]`);
      }
    }
  }
});

test('float32: a folded chain whose bias cancels (Sub 1000.1, Gemm bias +1000.1) keeps the margin of the big terms', () => {
  // In the IR this is y = x (the folded bias is 0); evaluated op by op, fl32(x − 1000.1) loses up to 3e-5.
  const m = f(1000.1);
  const b = new IrBuilder(1, 'cancel');
  b.add(Float64Array.of(-m), 'sub');
  b.linear(denseMatrix(1, 1, Float64Array.of(1)), Float64Array.of(m), 'gemm');
  const ir = b.finish([1]);
  assert.equal((ir.steps[0] as AffineStep).bias[0], 0);
  let worst = 0;
  for (let k = 1; k <= 200; k++) {
    const x = f(k / 7);
    const y = f(f(x - m) + m);
    worst = Math.max(worst, Math.abs(y - x));
    const out = intervalBounds(ir, box([x], [x])).steps[0]!;
    assert.ok(out.lower[0]! <= y && y <= out.upper[0]!, `x = ${x}: ${y} in [${out.lower[0]}, ${out.upper[0]}]`);
  }
  assert.ok(worst > 1e-6, `the float32 chain does lose precision (${worst})`);
});

test('float32: a row whose only nonzero term is a float32 bias or one ±1 weight is exact (margin 0); any other row keeps a margin', () => {
  const step = network(2, [dense('rows', [[0, 0], [1, 0], [0, -1], [1, 0], [0.5, 0], [0, 0], [1, 1]], [0.5, 0, 0, 0.25, 0, 0.1, 0])]).steps[0] as AffineStep;
  const m = affineEvalMargins(step, [3, 3]);
  assert.deepEqual(Array.from(m.subarray(0, 3)), [0, 0, 0], 'bias only, +x, −x');
  for (let i = 3; i < 7; i++) assert.ok(m[i]! > 0, `row ${i} (x + b, 0.5·x, a bias 0.1 that float32 rounds, x0 + x1) keeps a margin`);
  // The exact rows really are exact in float32, in every summation order, on random float32 inputs.
  const rng = new Rng(7);
  const ir = network(2, [dense('exact', [[0, 0], [1, 0], [0, -1]], [0.5, 0, 0])]);
  for (let t = 0; t < 200; t++) {
    const x = [f((rng.next() - 0.5) * 6), f((rng.next() - 0.5) * 6)];
    const exact = [0.5, x[0]!, -x[1]!];
    for (const order of [0, 1, 2] as const) assert.deepEqual(Array.from(eval32(ir, x, order)), exact);
  }
});
