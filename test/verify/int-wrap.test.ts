/**
 * Item: int32 wrap-around in bit-precise verification. The integer kernels take the accumulator modulo 2^32
 * (`acc | 0`); a verifier that models code = clamp(M·acc + zp + e) on the unwrapped accumulator proves
 * properties the deployed program violates. Reference: enumeration of every input code of the box on the
 * integer program itself.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { quantizeMultiplier } from '../../src/quant/integer/fixed-point.js';
import { runIntegerProgram } from '../../src/quant/integer/kernels.js';
import type { IntegerProgram } from '../../src/quant/integer/program.js';
import { verifyIntegerCaseAuto } from '../../src/verify/auto.js';
import { integerCrownBounds } from '../../src/verify/integer/crown-bounds.js';
import { integerCase } from '../../src/verify/integer/integer-case.js';
import { integerIntervalBounds } from '../../src/verify/integer/interval.js';
import { verifyIntegerCaseMilp } from '../../src/verify/milp/verify-integer-milp.js';
import { isUnsafe } from '../../src/verify/property.js';
import { verifyIntegerCaseSmt } from '../../src/verify/smt/verify-smt.js';
import { releaseZ3 } from '../../src/verify/smt/z3-runtime.js';
import { box, le, vcase } from './tiny-nets.js';

after(releaseZ3);

/**
 * One input on a 16-bit grid (scale 1, zero point 0: pixel z has code z), two outputs: output 0 requantizes
 * acc = 2^21·x with M = 2^−24 (the real product is x/8, clamped to 127), output 1 is the constant code 0. On
 * x ∈ [1000, 1100] the accumulator passes 2^31 at x = 1024, where the int32 register wraps to −2^31 and
 * output 0 drops to the bottom of its range.
 */
function wrapping(): IntegerProgram {
  const q = quantizeMultiplier(2 ** -24);
  const grid = { bits: 16, scheme: 'affine' as const, qmin: -32768, qmax: 32767, scale: [1], zeroPoint: [0], granularity: 'per-tensor' as const };
  const out = { bits: 8, scheme: 'affine' as const, qmin: -128, qmax: 127, scale: [1], zeroPoint: [0], granularity: 'per-tensor' as const };
  return {
    rounding: 'double',
    inputShape: [1, 1, 1],
    prologue: { op: 'quantizeInput', mean: null, invStd: null, params: grid, size: 1, channels: 1 },
    ops: [
      {
        op: 'dense',
        name: 'fc',
        inSize: 1,
        outSize: 2,
        weights: Float64Array.of(2 ** 21, 0),
        bias: Int32Array.of(0, 0),
        inZeroPoint: 0,
        requant: { multiplier: Int32Array.of(q.multiplier), shift: Int32Array.of(q.shift), outZeroPoint: 0, lo: -128, hi: 127, rounding: 'double', realMultiplier: Float32Array.of(2 ** -24) },
        grids: { inputScale: 1, weightScale: Float32Array.of(1), weightZeroPoint: Int32Array.of(0), outputScale: 1 },
      },
    ],
    output: out,
    outputSize: 2,
  };
}

/** "Output 0 is not above output 1" (y0 − y1 ≤ 0). */
const region = box([1000], [1100]);
const unsafe = [[le([1, -1], 0)]];

/** Every code of the box run on the deployed kernel: [code, output codes]. */
function enumerate(prog: IntegerProgram): [number, Int16Array][] {
  const rows: [number, Int16Array][] = [];
  for (let x = 1000; x <= 1100; x++) rows.push([x, runIntegerProgram(prog, Float32Array.of(x), 1)]);
  return rows;
}

test('int32 wrap-around: enumeration finds the counterexample the unwrapped model misses', () => {
  const rows = enumerate(wrapping());
  const bad = rows.filter(([, y]) => isUnsafe({ disjuncts: unsafe }, Float64Array.from(y)));
  assert.ok(bad.length > 0, 'the deployed program violates the property inside the box');
  assert.equal(bad[0]![0], 1024, 'first at the accumulator 2^31');
  assert.equal(rows[0]![1][0], 125, 'below the wrap the code is the real product x/8');
});

test('int32 wrap-around: interval and CROWN code bounds contain every enumerated execution', () => {
  const prog = wrapping();
  const icase = integerCase(prog, vcase(region, unsafe));
  for (const b of [integerIntervalBounds(prog, icase.codes), integerCrownBounds(prog, icase.codes)]) {
    const out = b.ops[b.ops.length - 1]!;
    for (const [x, y] of enumerate(prog)) {
      for (let j = 0; j < 2; j++) assert.ok(out.lower[j]! <= y[j]! && y[j]! <= out.upper[j]!, `x = ${x}, output ${j} = ${y[j]} in [${out.lower[j]}, ${out.upper[j]}]`);
    }
  }
});

test('int32 wrap-around: no verifier answers unsat; the exact encodings refuse the op', async () => {
  const prog = wrapping();
  const icase = integerCase(prog, vcase(region, unsafe));
  const auto = await verifyIntegerCaseAuto(icase, { timeLimit: 10 });
  assert.notEqual(auto.verdict, 'unsat', `auto decided by ${auto.method}`);
  assert.equal(auto.verdict, 'unknown');
  assert.match(auto.reason ?? '', /wrap/);
  const bounds = integerCrownBounds(prog, icase.codes);
  await assert.rejects(verifyIntegerCaseMilp(icase, { timeLimit: 10, bounds }), /wrap/);
  await assert.rejects(verifyIntegerCaseSmt(icase, { timeLimit: 10, bounds }), /wrap/);
});
