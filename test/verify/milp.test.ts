import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { intervalBounds } from '../../src/verify/ibp.js';
import { evaluateIR, type NetworkIR } from '../../src/verify/ir.js';
import { HighsRuntime } from '../../src/verify/milp/highs-runtime.js';
import { verifyCaseMilp } from '../../src/verify/milp/verify-milp.js';
import { MilpBuilder, varExpr } from '../../src/verify/milp/lp-builder.js';
import { isUnsafe, type VerificationCase } from '../../src/verify/property.js';
import { assertCounterexample, box, dense, le, network, randomNet, robustnessCase, roundingNet, vcase, VEE, VEE_BOX } from './tiny-nets.js';

async function milp(ir: NetworkIR, c: VerificationCase, timeLimit = 20) {
  return verifyCaseMilp(ir, c, intervalBounds(ir, c.input), { timeLimit });
}


test('2-2-2 ReLU net: max y0 = 2 exactly, found and proved by MILP where interval bounds say only y0 <= 4', async () => {
  const ibp = intervalBounds(VEE, VEE_BOX);
  assert.ok(ibp.steps[2]!.upper[0]! >= 3.99, 'IBP alone cannot decide thresholds between 2 and 4');
  const above = await milp(VEE, vcase(VEE_BOX, [[le([-1, 0], 2.001)]])); // y0 >= 2.001
  assert.equal(above.verdict, 'unsat');
  assert.equal(above.method, 'milp');
  const tie = vcase(VEE_BOX, [[le([-1, 0], 2)]]); // y0 >= 2: the maximum itself, a tie counts as unsafe
  const atMax = await milp(VEE, tie);
  assert.equal(atMax.verdict, 'sat');
  assertCounterexample(VEE, tie, atMax.counterexample);
  assert.equal(atMax.counterexample!.input[0], 1, 'the maximum is attained only at x0 = 1');
  const below = vcase(VEE_BOX, [[le([-1, 0], 1.999)]]);
  const b = await milp(VEE, below);
  assert.equal(b.verdict, 'sat');
  assertCounterexample(VEE, below, b.counterexample);
  assert.ok(above.stats.unstableRelus === 2 && above.stats.binaries === 2, 'one binary per unstable ReLU');
});

test('conjunctions and disjunctions: a band y0 in [1.5, 1.6] is reachable, [1.5, 1.4] is not', async () => {
  const band = vcase(VEE_BOX, [[le([-1, 0], 1.5), le([1, 0], -1.6)]]);
  const r = await milp(VEE, band);
  assert.equal(r.verdict, 'sat');
  assertCounterexample(VEE, band, r.counterexample);
  const empty = vcase(VEE_BOX, [[le([-1, 0], 1.5), le([1, 0], -1.4)]]);
  assert.equal((await milp(VEE, empty)).verdict, 'unsat');
  // An OR of an empty band and y0 <= 0.1 (reachable at x0 <= -|x1|): sat through the second disjunct.
  const either = vcase(VEE_BOX, [[le([-1, 0], 1.5), le([1, 0], -1.4)], [le([1, 0], -0.1)]]);
  const e = await milp(VEE, either);
  assert.equal(e.verdict, 'sat');
  assert.deepEqual(e.disjuncts.slice(0, 2), ['infeasible', 'feasible']);
  assertCounterexample(VEE, either, e.counterexample);
});

test('a stable-active or stable-inactive ReLU gets no binary', async () => {
  const ir = network(1, [dense('fc', [[1], [-1]], [2, -2]), { kind: 'relu', name: 'r', size: 2 }, dense('out', [[1, 1]], [0])]);
  const r = await milp(ir, vcase(box([0], [1]), [[le([-1], 3.0001)]])); // y = x + 2 on [0, 1]: max 3
  assert.equal(r.verdict, 'unsat');
  assert.equal(r.stats.binaries, 0);
  assert.equal(r.stats.stableRelus, 2);
});

test('fake-quant rounding flips the answer: the float net reaches 0.6, the quantized one 0.5 (0.25 when clamped)', async () => {
  const unsafe = [[le([-1, 1], 0)]]; // y1 - y0 <= 0: the quantized sum reaches the constant
  const region = box([0, 0], [0.3, 0.3]);
  assert.equal((await milp(roundingNet(3, 0.55), vcase(region, unsafe))).verdict, 'unsat');
  const tie = vcase(region, unsafe);
  const r = await milp(roundingNet(3, 0.5), tie);
  assert.equal(r.verdict, 'sat');
  assertCounterexample(roundingNet(3, 0.5), tie, r.counterexample);
  const x = r.counterexample!.input;
  assert.ok(x[0]! + x[1]! >= 0.375, 'code 2 needs x0 + x1 >= 0.375');
  // qmax = 1: the clamp caps the output at 0.25.
  assert.equal((await milp(roundingNet(1, 0.3), vcase(region, unsafe))).verdict, 'unsat');
  assert.equal((await milp(roundingNet(1, 0.25), vcase(region, unsafe))).verdict, 'sat');
  // Without the quantizer the same property is satisfiable.
  const float = network(2, [dense('sum', [[1, 1]], [0]), dense('out', [[1], [0]], [0, 0.55])]);
  assert.equal((await milp(float, vcase(region, unsafe))).verdict, 'sat');
});

test('max-pooling: y = max(x0, x1) - x2 on [0,1]^3 reaches exactly 1', async () => {
  const ir = network(3, [
    { kind: 'maxpool', name: 'pool', inSize: 3, outSize: 2, offsets: Int32Array.of(0, 2, 3), indices: Int32Array.of(0, 1, 2) },
    dense('out', [[1, -1]], [0]),
  ]);
  const region = box([0, 0, 0], [1, 1, 1]);
  assert.equal((await milp(ir, vcase(region, [[le([-1], 1.001)]]))).verdict, 'unsat');
  const c = vcase(region, [[le([-1], 0.999)]]);
  const r = await milp(ir, c);
  assert.equal(r.verdict, 'sat');
  assertCounterexample(ir, c, r.counterexample);
});

test('random 4-12-12-3 nets: every sat answer re-checks, and no sample of an unsat region is unsafe', async () => {
  const rng = new Rng(7);
  let sat = 0;
  let unsat = 0;
  for (let k = 0; k < 12; k++) {
    const ir = randomNet(rng, [4, 12, 12, 3]);
    const x = Array.from({ length: 4 }, () => rng.normal());
    const label = Array.from(evaluateIR(ir, x)).reduce((best, v, i, a) => (v > a[best]! ? i : best), 0);
    const c = robustnessCase(x, 0.2 + 0.6 * rng.next(), label, 3);
    const r = await milp(ir, c);
    assert.ok(r.verdict === 'sat' || r.verdict === 'unsat', `decided (${r.verdict}: ${r.reason})`);
    if (r.verdict === 'sat') {
      sat++;
      assertCounterexample(ir, c, r.counterexample);
    } else {
      unsat++;
      for (let s = 0; s < 2000; s++) {
        const p = c.input.lower.map((l, i) => l + rng.next() * (c.input.upper[i]! - l));
        assert.ok(!isUnsafe(c.unsafe, evaluateIR(ir, p)), 'a sampled point contradicts unsat');
      }
    }
  }
  assert.ok(sat > 0 && unsat > 0, `both answers occur (sat ${sat}, unsat ${unsat})`);
});

test('HiGHS runtime: a fresh wasm instance after maxSolves models and after a runtime error', async () => {
  const runtime = new HighsRuntime({ maxSolves: 2 });
  const b = new MilpBuilder();
  const x = b.addVar(0, 5, true);
  b.addRow(varExpr(x, 2), 3, Infinity); // 2x >= 3, x integer: min x = 2
  b.setObjective(varExpr(x));
  const solveOnce = async (): Promise<number> => {
    const h = await runtime.get();
    return runtime.withModel(b.toModelData(h.infinity), (m) => {
      m.options.set({ output_flag: false });
      m.run();
      return m.getObjectiveValue();
    });
  };
  for (let i = 0; i < 5; i++) assert.equal(await solveOnce(), 2);
  assert.equal(runtime.generation, 3, 'five models on instances of at most two solves each');
  const error = new Error('simulated abort');
  error.name = 'RuntimeError';
  const h = await runtime.get();
  await assert.rejects(
    runtime.withModel(b.toModelData(h.infinity), () => {
      throw error;
    }),
    /simulated abort/,
  );
  const before = runtime.generation;
  assert.equal(await solveOnce(), 2, 'the next solve works on a fresh instance');
  assert.equal(runtime.generation, before + 1);
});

test('disjuncts proved elsewhere are skipped, and an order that names only some disjuncts still covers all', async () => {
  const c = vcase(VEE_BOX, [[le([-1, 0], 4.5)], [le([-1, 0], 2.5)], [le([-1, 0], 1)]]);
  const r = await verifyCaseMilp(VEE, c, intervalBounds(VEE, VEE_BOX), { order: [1], provedInfeasible: [true, false, false] });
  assert.equal(r.verdict, 'sat', 'the third disjunct, left out of the order, is reachable');
  const safe = vcase(VEE_BOX, [[le([-1, 0], 4.5)], [le([-1, 0], 2.5)]]);
  const s = await verifyCaseMilp(VEE, safe, intervalBounds(VEE, VEE_BOX), { order: [1], provedInfeasible: [true, false] });
  assert.equal(s.verdict, 'unsat');
  assert.deepEqual(s.disjuncts, ['skipped', 'infeasible']);
});
