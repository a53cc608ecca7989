import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { intervalBounds } from '../../src/verify/ibp.js';
import { evaluateIR } from '../../src/verify/ir.js';
import { verifyCaseMilp } from '../../src/verify/milp/verify-milp.js';
import { dyadic, rationalToNumber, realLit } from '../../src/verify/smt/smtlib.js';
import { verifyCaseSmt } from '../../src/verify/smt/verify-smt.js';
import { configureZ3, releaseZ3, withZ3Context, z3Generation } from '../../src/verify/smt/z3-runtime.js';
import { assertCounterexample, box, le, randomNet, robustnessCase, roundingNet, vcase, VEE, VEE_BOX } from './tiny-nets.js';

// Z3's worker threads keep a process alive; when killing them times out (a thread that aborted), end the file
// once its tests have reported rather than hang the suite.
after(async () => {
  await releaseZ3();
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
});


test('exact rationals: every float64 is written as m / 2^k without rounding', () => {
  for (const x of [0.1, -3.75, 1e-300, 2 ** 60, 5e-324, 0.30000000000000004]) {
    const { num, den } = dyadic(x);
    assert.equal(rationalToNumber(num, den), x);
    assert.equal(den & (den - 1n), 0n, 'the denominator is a power of two');
  }
  assert.equal(realLit(-0.5), '(- (/ 1.0 2.0))');
  assert.equal(realLit(3), '3.0');
});

test('SMT in real arithmetic: the 2-2-2 ReLU net reaches 2 exactly, not 2.001', async () => {
  assert.equal((await verifyCaseSmt(VEE, vcase(VEE_BOX, [[le([-1, 0], 2.001)]]))).verdict, 'unsat');
  const tie = vcase(VEE_BOX, [[le([-1, 0], 2)]]);
  const r = await verifyCaseSmt(VEE, tie);
  assert.equal(r.verdict, 'sat');
  assert.equal(r.method, 'smt');
  assertCounterexample(VEE, tie, r.counterexample);
});

test('SMT models fake-quant rounding and clamping exactly (round half away from zero)', async () => {
  const region = box([0, 0], [0.3, 0.3]);
  const unsafe = [[le([-1, 1], 0)]];
  assert.equal((await verifyCaseSmt(roundingNet(3, 0.55), vcase(region, unsafe))).verdict, 'unsat');
  assert.equal((await verifyCaseSmt(roundingNet(1, 0.3), vcase(region, unsafe))).verdict, 'unsat');
  const c = vcase(region, unsafe);
  const r = await verifyCaseSmt(roundingNet(3, 0.5), c);
  assert.equal(r.verdict, 'sat');
  assertCounterexample(roundingNet(3, 0.5), c, r.counterexample);
  // The rounding tie: x0 + x1 = 0.375 exactly is code 2 (1.5 rounds away from zero); just below it is code 1.
  const atTie = vcase(box([0.375, 0], [0.375, 0]), unsafe);
  assert.equal((await verifyCaseSmt(roundingNet(3, 0.5), atTie)).verdict, 'sat');
  const belowTie = vcase(box([0.374, 0], [0.374, 0]), unsafe);
  assert.equal((await verifyCaseSmt(roundingNet(3, 0.5), belowTie)).verdict, 'unsat');
});

test('MILP and SMT agree on random 2-6-6-3 nets (weights on a 1/8 grid), and both counterexamples re-check', async () => {
  // On a fresh instance: after other checks, Z3's wasm build sometimes fails to decide these nets (see z3-runtime.ts).
  await releaseZ3();
  const rng = new Rng(21);
  const seen = { sat: 0, unsat: 0 };
  for (let k = 0; k < 8; k++) {
    const ir = randomNet(rng, [2, 6, 6, 3], 8);
    const x = Array.from({ length: 2 }, () => Math.round(8 * rng.normal()) / 8);
    const label = Array.from(evaluateIR(ir, x)).reduce((best, v, i, a) => (v > a[best]! ? i : best), 0);
    const c = robustnessCase(x, (1 + Math.floor(6 * rng.next())) / 8, label, 3);
    const bounds = intervalBounds(ir, c.input);
    const m = await verifyCaseMilp(ir, c, bounds, { timeLimit: 20 });
    const s = await verifyCaseSmt(ir, c, { bounds, timeLimit: 20 });
    assert.equal(s.verdict, m.verdict, `net ${k}: SMT ${s.verdict} (${s.reason ?? ''}), MILP ${m.verdict} (${m.reason ?? ''})`);
    if (m.verdict === 'sat') {
      assertCounterexample(ir, c, m.counterexample);
      assertCounterexample(ir, c, s.counterexample);
    }
    seen[m.verdict as 'sat' | 'unsat']++;
  }
  assert.ok(seen.sat > 0 && seen.unsat > 0, `both answers occur (${JSON.stringify(seen)})`);
});

test('the Z3 runtime starts a fresh wasm instance after its quota of checks', async () => {
  configureZ3({ maxChecks: 2 });
  try {
    await releaseZ3();
    const before = z3Generation();
    for (let i = 0; i < 5; i++) {
      const threshold = i % 2 === 0 ? 2.001 : 1.5;
      const r = await verifyCaseSmt(VEE, vcase(VEE_BOX, [[le([-1, 0], threshold)]]));
      assert.equal(r.verdict, i % 2 === 0 ? 'unsat' : 'sat');
    }
    assert.equal(z3Generation() - before, 3, 'five checks on instances of two checks each');
  } finally {
    configureZ3({ maxChecks: 40 });
  }
});

test('an abandoned Z3 instance (a check past its limit) is replaced: the next check starts a fresh one and answers', async () => {
  await verifyCaseSmt(VEE, vcase(VEE_BOX, [[le([-1, 0], 1.5)]]));
  const before = z3Generation();
  await withZ3Context(async (_ctx, _api, abandon) => {
    await abandon();
  });
  assert.equal(z3Generation(), before, 'abandoning starts nothing by itself');
  const r = await verifyCaseSmt(VEE, vcase(VEE_BOX, [[le([-1, 0], 2.001)]]));
  assert.equal(r.verdict, 'unsat');
  assert.equal(z3Generation(), before + 1, 'the check after an abandoned instance runs on a fresh one');
});
