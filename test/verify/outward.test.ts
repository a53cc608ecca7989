/**
 * Item: outward rounding everywhere. A bound closed by a plain float64 sum tested against 0 can be positive
 * while the exact value is negative; the fake-quant MILP rows and the IR's float64 rounding of x/s disagree on
 * an ulp-wide sliver at each rounding edge. References: exact dyadic arithmetic on the doubles (BigInt), and
 * the IR's own float64 forward pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantizeMultiplier } from '../../src/quant/integer/fixed-point.js';
import { runIntegerProgram } from '../../src/quant/integer/kernels.js';
import type { IntegerProgram } from '../../src/quant/integer/program.js';
import { verifyIntegerCaseAuto } from '../../src/verify/auto.js';
import { crownBounds } from '../../src/verify/crown.js';
import { integerCase } from '../../src/verify/integer/integer-case.js';
import { evaluateIR } from '../../src/verify/ir.js';
import { verifyCaseMilp } from '../../src/verify/milp/verify-milp.js';
import { isUnsafe } from '../../src/verify/property.js';
import { box, dense, le, network, quantize, vcase } from './tiny-nets.js';

const SHIFT = 1100n;
/** The exact value of a double, times 2^1100, as a BigInt. */
function exact(x: number): bigint {
  if (x === 0) return 0n;
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  const hi = v.getUint32(0);
  const sign = hi >>> 31 ? -1n : 1n;
  const e = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(v.getUint32(4));
  if (e !== 0) m |= 1n << 52n;
  const p = BigInt(e === 0 ? -1074 : e - 1075);
  return sign * (m << (SHIFT + p));
}

/** c·y + o in exact arithmetic on the doubles, times 2^1100. */
function exactValue(c: readonly number[], y: readonly number[], o: number): bigint {
  let s = exact(o);
  c.forEach((a, i) => (s += (exact(a) * exact(y[i]!)) >> SHIFT));
  return s;
}

// Found by a seeded search: the plain float64 sum of c·y + o is 3.6e-15 > 0, the exact value is negative.
const C = [0.7, -0.3, -0.7];
const Y = [22, -117, 45];
const O = -19;

test('the reference: the float64 sum of the constraint is positive, its exact value negative', () => {
  let s = O;
  C.forEach((a, i) => (s += a * Y[i]!));
  assert.ok(s > 0, `float64 sum ${s}`);
  assert.ok(exactValue(C, Y, O) < 0n);
});

test('MILP: the interval closure of a disjunct is outward-rounded (a negative exact value is not closed)', async () => {
  // Constant outputs y = Y: the bounds lower = upper = Y are exact.
  const ir = network(1, [dense('const', [[0], [0], [0]], Y)]);
  const c = vcase(box([0], [1]), [[le(C, O)]]);
  const y = Float64Array.from(Y);
  const bounds = { input: { lower: Float64Array.of(0), upper: Float64Array.of(1) }, steps: [{ lower: y, upper: y }] };
  const r = await verifyCaseMilp(ir, c, bounds, { timeLimit: 10 });
  assert.notEqual(r.verdict, 'unsat', `closed by ${r.disjuncts.join(',')}`);
});

test('auto on an integer program: the interval closure is outward-rounded', async () => {
  // Three constant codes q = Y (bias 2q requantized by M = 1/2), logits on scale 1: y = q exactly.
  const q = quantizeMultiplier(0.5);
  const grid = { bits: 8, scheme: 'affine' as const, qmin: -128, qmax: 127, scale: [1], zeroPoint: [0], granularity: 'per-tensor' as const };
  const prog: IntegerProgram = {
    rounding: 'double',
    inputShape: [1, 1, 1],
    prologue: { op: 'quantizeInput', mean: null, invStd: null, params: grid, size: 1, channels: 1 },
    ops: [
      {
        op: 'dense',
        name: 'const',
        inSize: 1,
        outSize: 3,
        weights: new Float64Array(3),
        bias: Int32Array.from(Y, (v) => 2 * v),
        inZeroPoint: 0,
        requant: { multiplier: Int32Array.of(q.multiplier), shift: Int32Array.of(q.shift), outZeroPoint: 0, lo: -128, hi: 127, rounding: 'double', realMultiplier: Float32Array.of(0.5) },
        grids: { inputScale: 1, weightScale: Float32Array.of(1), weightZeroPoint: Int32Array.of(0), outputScale: 1 },
      },
    ],
    output: grid,
    outputSize: 3,
  };
  assert.deepEqual(Array.from(runIntegerProgram(prog, Float32Array.of(0), 1)), Y, 'the program computes the codes Y');
  const r = await verifyIntegerCaseAuto(integerCase(prog, vcase(box([0], [3]), [[le(C, O)]])), { timeLimit: 10 });
  assert.notEqual(r.verdict, 'unsat', `decided by ${r.method}`);
});

test("fake-quant MILP rows cover the IR's float64 rounding at an edge: x = 0.25, s = 0.1 rounds up", async () => {
  // fl(0.25 / 0.1) = 2.5 exactly, which rounds (half away) to code 3, while the exact quotient is just below 2.5.
  assert.equal(0.25 / 0.1, 2.5);
  assert.ok(exact(0.25) << SHIFT < exact(2.5) * exact(0.1), 'the exact quotient is below the edge');
  const ir = network(1, [quantize('q', 1, 0.1, 0, -8, 8), dense('out', [[1]], [0])]);
  const c = vcase(box([0.25], [0.25]), [[le([-1], 0.25)]]); // unsafe: y ≥ 0.25
  assert.ok(isUnsafe(c.unsafe, evaluateIR(ir, Float64Array.of(0.25))), 'the IR itself is unsafe at x = 0.25 (y = 0.3)');
  const r = await verifyCaseMilp(ir, c, crownBounds(ir, c.input), { timeLimit: 10 });
  assert.notEqual(r.verdict, 'unsat');
});
