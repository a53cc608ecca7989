/**
 * Item: HiGHS's tolerances. MILP `unsat` must not rest on HiGHS's floating-point tolerances where the answer is
 * within them of the boundary. References: exhaustive enumeration of the input codes (integer programs) and
 * Z3 on the exact rational encoding (float networks), with the property offset at the exact optimum ± δ.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { quantizeMultiplier } from '../../src/quant/integer/fixed-point.js';
import { runIntegerProgram } from '../../src/quant/integer/kernels.js';
import type { IntDenseOp, IntegerProgram, Requant } from '../../src/quant/integer/program.js';
import { crownBounds } from '../../src/verify/crown.js';
import { integerCase } from '../../src/verify/integer/integer-case.js';
import { encodeNetwork } from '../../src/verify/milp/encode-network.js';
import { highsRuntime } from '../../src/verify/milp/highs-runtime.js';
import { verifyIntegerCaseMilp } from '../../src/verify/milp/verify-integer-milp.js';
import { verifyCaseMilp, withObjective } from '../../src/verify/milp/verify-milp.js';
import { verifyCaseSmt } from '../../src/verify/smt/verify-smt.js';
import { releaseZ3 } from '../../src/verify/smt/z3-runtime.js';
import { box, le, randomNet, vcase } from './tiny-nets.js';

after(releaseZ3);

const DELTAS = [-1e-5, -1e-6, -1e-7, 1e-7, 1e-6, 1e-5];

function requant(m: number, lo: number, hi: number): Requant {
  const q = quantizeMultiplier(m);
  return { multiplier: Int32Array.of(q.multiplier), shift: Int32Array.of(q.shift), outZeroPoint: 0, lo, hi, rounding: 'double', realMultiplier: Float32Array.of(Math.fround(m)) };
}

function denseOp(rng: Rng, inSize: number, outSize: number, m: number, lo: number): IntDenseOp {
  return {
    op: 'dense',
    name: 'fc',
    inSize,
    outSize,
    weights: Float64Array.from({ length: inSize * outSize }, () => rng.int(15) - 7),
    bias: Int32Array.from({ length: outSize }, () => rng.int(41) - 20),
    inZeroPoint: 0,
    requant: requant(m, lo, 127),
    grids: { inputScale: 1, weightScale: Float32Array.of(1), weightZeroPoint: Int32Array.of(0), outputScale: 1 },
  };
}

/** A random 3-5-2 integer program (input scale 1, codes 0..7 in the box), logits on the dyadic grid s = 1/8. */
function randomProgram(rng: Rng): IntegerProgram {
  const grid = { bits: 8, scheme: 'affine' as const, qmin: -128, qmax: 127, scale: [1], zeroPoint: [0], granularity: 'per-tensor' as const };
  return {
    rounding: 'double',
    inputShape: [1, 1, 3],
    prologue: { op: 'quantizeInput', mean: null, invStd: null, params: grid, size: 3, channels: 1 },
    ops: [denseOp(rng, 3, 5, 0.21, 0), denseOp(rng, 5, 2, 0.37, -128)],
    output: { ...grid, scale: [0.125] },
    outputSize: 2,
  };
}

test('integer MILP decides on the logit grid: exact answers at the optimum ± 1e-7, 1e-6, 1e-5 (enumeration)', async () => {
  const rng = new Rng(11);
  for (let t = 0; t < 4; t++) {
    const prog = randomProgram(rng);
    // Enumerate every code of the box: min of y0 − y1 (exact: codes times 1/8).
    let min = Infinity;
    for (let a = 0; a <= 7; a++) {
      for (let b = 0; b <= 7; b++) {
        for (let c = 0; c <= 7; c++) {
          const q = runIntegerProgram(prog, Float32Array.of(a, b, c), 1);
          min = Math.min(min, 0.125 * q[0]! - 0.125 * q[1]!);
        }
      }
    }
    for (const d of DELTAS) {
      // unsafe: y0 − y1 − min + δ ≤ 0, violated somewhere exactly when δ ≤ 0.
      const icase = integerCase(prog, vcase(box([0, 0, 0], [7, 7, 7]), [[le([1, -1], -min + d)]]));
      const r = await verifyIntegerCaseMilp(icase, { timeLimit: 10 });
      assert.equal(r.verdict, d < 0 ? 'sat' : 'unsat', `program ${t}, δ = ${d}: ${r.verdict} (${r.reason ?? ''})`);
    }
  }
});

/** min c·y over the box by HiGHS run to optimality on the network's MILP. */
async function milpMinimum(ir: ReturnType<typeof randomNet>, region: ReturnType<typeof box>, c: number[]): Promise<number> {
  const enc = encodeNetwork(ir, region, crownBounds(ir, region));
  const highs = await highsRuntime.get();
  const data = withObjective(enc.builder.toModelData(highs.infinity), enc.outputs, [le(c, 0)], highs.infinity);
  return highsRuntime.withModel(data, (model) => {
    model.options.set({ output_flag: false, mip_rel_gap: 0, mip_abs_gap: 0 });
    model.run();
    return model.getObjectiveValue();
  });
}

test('float MILP never answers unsat where exact-rational Z3 answers sat, at the optimum ± 1e-7, 1e-6, 1e-5', async () => {
  const rng = new Rng(5);
  let sat = 0;
  let unsat = 0;
  for (let t = 0; t < 4; t++) {
    const ir = randomNet(rng, [2, 4, 4, 2], 16);
    const region = box([-1, -1], [1, 1]);
    const opt = await milpMinimum(ir, region, [1, -1]);
    for (const d of DELTAS) {
      const c = vcase(region, [[le([1, -1], -opt + d)]]);
      const z3 = await verifyCaseSmt(ir, c, { timeLimit: 20, semantics: 'exact' });
      const milp = await verifyCaseMilp(ir, c, crownBounds(ir, region), { timeLimit: 10 });
      if (z3.verdict === 'sat') {
        sat++;
        assert.notEqual(milp.verdict, 'unsat', `net ${t}, δ = ${d}: Z3 sat, MILP unsat`);
      }
      if (z3.verdict === 'unsat') unsat++;
      if (Math.abs(d) === 1e-5 && (z3.verdict === 'sat' || z3.verdict === 'unsat')) {
        assert.equal(milp.verdict, z3.verdict, `net ${t}, δ = ${d}: far enough from the optimum to be decided`);
      }
    }
  }
  assert.ok(sat >= 5 && unsat >= 5, `both answers occur (${sat} sat, ${unsat} unsat)`);
});
