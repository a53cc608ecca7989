import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { verifyCaseBab } from '../../src/verify/bab/verify-bab.js';
import { coefficient, makeRows, withAddedCoefficients } from '../../src/verify/bounds/backward.js';
import { crownSpecAnalysis, crownSpecLowerBounds } from '../../src/verify/crown.js';
import { intervalBounds } from '../../src/verify/ibp.js';
import { evaluateIR, type NetworkIR } from '../../src/verify/ir.js';
import { verifyCaseMilp } from '../../src/verify/milp/verify-milp.js';
import { convStep, denseStep, poolStep } from './fixtures.js';
import { assertCounterexample, le, randomNet, robustnessCase, vcase, VEE, VEE_BOX } from './tiny-nets.js';
import { argmax } from '../../src/models/prediction.js';

test('CROWN with ReLU splits: bounds hold on every sampled input of the split region, and crossing splits are empty', () => {
  const rng = new Rng(11);
  const ir = randomNet(rng, [3, 8, 8, 2]);
  const input = { lower: Float64Array.from([-1, -1, -1]), upper: Float64Array.from([1, 1, 1]) };
  const c = [le([1, -1], 0), le([-1, 1], 0)];
  const root = crownSpecAnalysis(ir, input, c, { alphaIterations: 0 })!;
  // Split the first layer's neurons that are unstable: the first ≥ 0, the second ≤ 0.
  const pre = root.bounds.steps[0]!;
  const unstable = [...pre.lower.keys()].filter((j) => pre.lower[j]! < 0 && pre.upper[j]! > 0);
  assert.ok(unstable.length >= 2, 'the test net has unstable first-layer neurons');
  const signs = new Int8Array(8);
  signs[unstable[0]!] = 1;
  signs[unstable[1]!] = -1;
  const splits = new Map([[0, signs]]);
  // Clamped intervals alone, refined from the parent's bounds, and with alpha-beta optimization (the split
  // multipliers move the bound; every value of them must stay sound over the region).
  for (const [refined, iterations] of [[false, 0], [true, 0], [true, 30]] as const) {
    const a = crownSpecAnalysis(ir, input, c, refined ? { alphaIterations: iterations, splits, reuse: root.bounds, refineFrom: 1, betaLearningRate: 0.5 } : { alphaIterations: 0, splits })!;
    assert.ok(a, 'the region is not empty');
    let inside = 0;
    for (let s = 0; s < 4000; s++) {
      const x = Float64Array.from({ length: 3 }, () => -1 + 2 * rng.next());
      const z = evaluateIR({ ...ir, steps: ir.steps.slice(0, 1) }, x);
      if (z[unstable[0]!]! < 0 || z[unstable[1]!]! > 0) continue;
      inside++;
      const y = evaluateIR(ir, x);
      assert.ok(y[0]! - y[1]! >= a.lower[0]!, 'y0 − y1 respects its lower bound over the region');
      assert.ok(y[1]! - y[0]! >= a.lower[1]!, 'y1 − y0 respects its lower bound over the region');
      a.bounds.steps.forEach((b, i) => {
        const v = evaluateIR({ ...ir, steps: ir.steps.slice(0, i + 1) }, x);
        v.forEach((vj, j) => assert.ok(vj >= b.lower[j]! && vj <= b.upper[j]!, `step ${i} neuron ${j} inside its region bounds`));
      });
    }
    assert.ok(inside > 100, `enough samples fall in the region (${inside})`);
  }
  // A neuron forced both ways over the same box is impossible: split ≥ 0 a neuron whose upper bound is < 0.
  const dead = [...pre.upper.keys()].find((j) => pre.upper[j]! < 0);
  if (dead !== undefined) {
    const s2 = new Int8Array(8);
    s2[dead] = 1;
    assert.equal(crownSpecAnalysis(ir, input, c, { splits: new Map([[0, s2]]) }), null, 'an empty region is reported as null');
  }
});

test('BaB decides the 2-2-2 net exactly: y0 ≤ 2 everywhere (unsat above, sat at the tie)', async () => {
  const above = await verifyCaseBab(VEE, vcase(VEE_BOX, [[le([-1, 0], 2.001)]]), { timeLimit: 10 });
  assert.equal(above.verdict, 'unsat');
  const tie = vcase(VEE_BOX, [[le([-1, 0], 2)]]);
  const atMax = await verifyCaseBab(VEE, tie, { timeLimit: 10 });
  assert.equal(atMax.verdict, 'sat');
  assertCounterexample(VEE, tie, atMax.counterexample);
});

test('BaB agrees with MILP on random nets, and proves cases alpha-CROWN cannot', async () => {
  const rng = new Rng(5);
  let sat = 0;
  let unsat = 0;
  let beyondCrown = 0;
  for (let k = 0; k < 24; k++) {
    const ir = randomNet(rng, [4, 16, 16, 3]);
    const x = Array.from({ length: 4 }, () => rng.normal());
    const label = argmax(evaluateIR(ir, x));
    const c = robustnessCase(x, 0.1 + 0.5 * rng.next(), label, 3);
    const m = await verifyCaseMilp(ir, c, intervalBounds(ir, c.input), { timeLimit: 20 });
    const b = await verifyCaseBab(ir, c, { timeLimit: 20 });
    // Keeping the parent's intermediate bounds (no refinement) is looser but must give the same answers.
    const unrefined = await verifyCaseBab(ir, c, { timeLimit: 20, refineIntermediate: false });
    assert.ok(m.verdict === 'sat' || m.verdict === 'unsat', `MILP decided case ${k}`);
    assert.equal(b.verdict, m.verdict, `case ${k}: BaB ${b.verdict} (${b.reason ?? ''}, ${b.stats.regions} regions), MILP ${m.verdict}`);
    assert.equal(unrefined.verdict, m.verdict, `case ${k}: BaB without refinement ${unrefined.verdict}, MILP ${m.verdict}`);
    if (b.verdict === 'sat') {
      sat++;
      assertCounterexample(ir, c, b.counterexample);
    } else {
      unsat++;
      const crown = crownSpecLowerBounds(ir, c.input, c.unsafe.disjuncts.map((d) => d[0]!), { alphaIterations: 10 });
      if (crown.some((l) => l <= 0)) {
        beyondCrown++;
        assert.ok(b.stats.regions > 1, 'a case CROWN leaves open needs splits');
      }
    }
  }
  assert.ok(sat > 0 && unsat > 0, `both answers occur (sat ${sat}, unsat ${unsat})`);
  assert.ok(beyondCrown > 0, `some unsat cases needed branching (${beyondCrown})`);
});

test('BaB stops at its region limit with unknown, and never reports unsat for a sat case when stopped', async () => {
  const rng = new Rng(2);
  const ir = randomNet(rng, [6, 24, 24, 24, 4]);
  const x = Array.from({ length: 6 }, () => rng.normal());
  const label = argmax(evaluateIR(ir, x));
  const c = robustnessCase(x, 0.4, label, 4);
  const r = await verifyCaseBab(ir, c, { timeLimit: 20, maxRegions: 3 });
  assert.ok(r.stats.regions <= 3, `no region bounded past the limit (${r.stats.regions})`);
  if (r.verdict === 'unknown') assert.match(r.reason ?? '', /region limit/);
  else assert.ok(r.verdict === 'sat' || r.verdict === 'unsat');
  if (r.verdict === 'sat') assertCounterexample(ir, c, r.counterexample);
});

test('adding split multipliers to objectives widens their spans, including rows with no coefficient yet', () => {
  const start = Int32Array.from([0, 2]);
  const end = Int32Array.from([0, 4]); // row 0 is empty, row 1 spans [2, 4)
  const r = makeRows(2, 6, start, end);
  r.lambda.set([1.5, -2], r.offset[1]!);
  r.constant.set([3, 4]);
  const out = withAddedCoefficients(r, [0, 5], Float64Array.from([0.25, 0, -1, 0.5]));
  const dense = (row: number) => Array.from({ length: 6 }, (_, j) => coefficient(out, row, j));
  assert.deepEqual(dense(0), [0.25, 0, 0, 0, 0, 0]);
  assert.deepEqual(dense(1), [-1, 0, 1.5, -2, 0, 0.5]);
  assert.deepEqual(Array.from(out.constant), [3, 4]);
});

test('BaB agrees with MILP on random conv (CSR) nets; with max-pooling it never contradicts MILP', async () => {
  let sat = 0;
  let unsat = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const rng = new Rng(100 + seed);
    const img = { channels: 2, h: 4, w: 4 };
    const pooled = seed > 6;
    const ir: NetworkIR = {
      inputSize: 32,
      inputShape: [2, 4, 4],
      outputSize: 4,
      source: `random conv net seed ${seed}`,
      steps: [
        convStep(rng, { ...img, outChannels: 3 }, 'conv'),
        { kind: 'relu', name: 'conv/relu', size: 48 },
        ...(pooled ? [poolStep({ channels: 3, h: 4, w: 4 }, 'pool'), denseStep(rng, 12, 10, 'dense', 2)] : [denseStep(rng, 48, 10, 'dense', 2)]),
        { kind: 'relu', name: 'dense/relu', size: 10 },
        denseStep(rng, 10, 4, 'logits'),
      ],
    };
    const x = Array.from({ length: 32 }, () => rng.next());
    const label = argmax(evaluateIR(ir, x));
    const c = robustnessCase(x, 0.02 + 0.1 * rng.next(), label, 4);
    const m = await verifyCaseMilp(ir, c, intervalBounds(ir, c.input), { timeLimit: 20 });
    // Max-pooling is not branched on (only the leaf LP/MILP resolves it), so pooled nets get a short budget.
    const b = await verifyCaseBab(ir, c, { timeLimit: pooled ? 2 : 20 });
    assert.ok(m.verdict === 'sat' || m.verdict === 'unsat', `MILP decided seed ${seed}`);
    if (pooled && b.verdict === 'timeout') continue;
    assert.equal(b.verdict, m.verdict, `seed ${seed}: BaB ${b.verdict} (${b.reason ?? ''}), MILP ${m.verdict}`);
    if (pooled) continue;
    if (b.verdict === 'sat') {
      sat++;
      assertCounterexample(ir, c, b.counterexample);
    } else unsat++;
  }
  assert.ok(sat > 0 && unsat > 0, `both answers occur on the conv nets (sat ${sat}, unsat ${unsat})`);
});
