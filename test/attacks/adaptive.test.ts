import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/backend/tf.js';
import { initBackend } from '../../src/backend/backend.js';
import type { Classifier, GradientMode } from '../../src/models/classifier.js';
import { adaptiveAttack, maskingFlag, memberSeed, worstCase, type AdaptiveResult, type MemberOutcome } from '../../src/attacks/adaptive.js';
import { runAttack } from '../../src/attacks/run.js';
import { EOT_DEFAULT, planMembers } from '../../src/attacks/adaptive-members.js';
import { Rng } from '../../src/core/rng.js';
import { LinearClassifier, RandomMaskClassifier, tinyMnist } from './fixtures.js';

await initBackend('wasm');

/**
 * A deliberately masked model: the input goes through the staircase x → round(x·k)/k before the classifier.
 * Differentiated exactly the staircase has zero gradient everywhere, so every gradient attack is blind; the
 * BPDA form passes the gradient straight through it (the staircase is close to the identity for k = 32).
 */
class StaircaseClassifier implements Classifier {
  readonly bounds = [0, 1] as const;
  readonly description: string;
  constructor(
    readonly inner: Classifier,
    readonly levels: number,
    readonly gradientMode: Exclude<GradientMode, 'none'>,
  ) {
    this.description = `staircase ${levels} (${gradientMode}) + ${inner.description}`;
  }
  get inputShape(): readonly [number, number, number] {
    return this.inner.inputShape;
  }
  get numClasses(): number {
    return this.inner.numClasses;
  }
  logits(x: tf.Tensor4D): tf.Tensor2D {
    const k = this.levels;
    const stair = (v: tf.Tensor): tf.Tensor => tf.div(tf.round(tf.mul(v, k)), k);
    if (this.gradientMode === 'exact') return tf.tidy(() => this.inner.logits(stair(x) as tf.Tensor4D));
    const identityGrad = (v: tf.Tensor): { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor } => ({ value: stair(v), gradFunc: (dy) => dy });
    const bpda = tf.customGrad(identityGrad as unknown as Parameters<typeof tf.customGrad>[0]);
    return tf.tidy(() => this.inner.logits(bpda(x) as tf.Tensor4D));
  }
  dispose(): void {}
}

const base = await tinyMnist();
const n = 32;
const x = tf.slice(base.x, 0, n) as tf.Tensor4D;
const labels = base.labels.subarray(0, n);
const exact = new StaircaseClassifier(base.classifier, 32, 'exact');
const bpda = new StaircaseClassifier(base.classifier, 32, 'ste');
const knobs = { steps: 10, maxQueries: 200, targetClasses: 3 } as const;
const epsilons = [0.1, 0.2];

test.after(() => {
  tf.dispose([x, base.x]);
  base.classifier.dispose();
});

/** Everything in a result except the wall times, which differ run to run. */
function withoutTimes(r: AdaptiveResult): unknown {
  return JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'seconds' ? undefined : v)));
}

let masked: AdaptiveResult;

test('a staircase input transform: exact-gradient PGD calls it robust, the adaptive evaluation breaks it and sets the masking flag', () => {
  const before = tf.memory().numTensors;
  const plain = runAttack('pgd', exact, x, labels, { epsilons, steps: 10, seed: memberSeed(0, 'pgd-exact') });
  plain.dispose();
  masked = adaptiveAttack({ exact, ste: bpda }, x, labels, { ...knobs, epsilons, seed: 0 });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  if (process.env['QROBUST_TEST_PRINT']) console.log(JSON.stringify(masked.results.map((r) => ({ eps: r.eps, clean: r.cleanAccuracy, worst: r.robustAccuracy, by: r.worst, members: Object.fromEntries(r.members.map((m) => [m.name, m.robustAccuracy])), brokenBy: r.brokenBy, masking: r.masking }))), JSON.stringify(masked.checks));
  assert.ok(plain.cleanAccuracy >= 0.7, `clean accuracy ${plain.cleanAccuracy}`);
  masked.results.forEach((row, e) => {
    const pgdExact = row.members.find((m) => m.name === 'pgd-exact')!;
    assert.equal(pgdExact.robustAccuracy, plain.results[e]!.robustAccuracy, 'pgd-exact is plain PGD on the exact form');
    assert.ok(pgdExact.robustAccuracy >= plain.cleanAccuracy - 0.1, `plain PGD should be blind: ${pgdExact.robustAccuracy}`);
    assert.ok(row.robustAccuracy <= pgdExact.robustAccuracy - 0.3, `adaptive ${row.robustAccuracy} vs exact ${pgdExact.robustAccuracy} at ε=${row.eps}`);
    assert.equal(row.masking.flagged, true);
    assert.notEqual(row.worst, 'pgd-exact');
    assert.notEqual(row.worst, 'fgsm-exact');
  });
  const zero = masked.checks.find((c) => c.name === 'zero-gradients')!;
  assert.equal(zero.status, 'flag');
  assert.equal(masked.zeroGradientShare, 1);
  assert.deepEqual(masked.skipped.map((s) => s.name).sort(), ['pgd-eot', 'square-integer', 'transfer']);
});

test('the per-sample worst case is the AND of the members, and each member breaks the samples it says', () => {
  for (const row of masked.results) {
    const and = row.robust.map((_, i) => (row.members.every((m) => m.robust[i]) ? 1 : 0));
    assert.deepEqual(row.robust, and);
    assert.equal(row.robustAccuracy, and.reduce((s: number, v) => s + v, 0) / n);
    for (const m of row.members) {
      assert.ok(row.robustAccuracy <= m.robustAccuracy);
      assert.equal(row.brokenBy[m.name], m.robust.filter((v, i) => !v && masked.cleanPredictions[i] === labels[i]).length);
    }
  }
  // Hand-made members: only sample 3 survives both, sample 0 is wrong when clean.
  const a: MemberOutcome = { name: 'a', robustAccuracy: 0.5, robust: [0, 1, 0, 1], seconds: 0 };
  const b: MemberOutcome = { name: 'b', robustAccuracy: 0.5, robust: [0, 0, 1, 1], seconds: 0 };
  assert.deepEqual(worstCase([a, b], [0, 1, 1, 1]), { robust: [0, 0, 0, 1], brokenBy: { clean: 1, a: 1, b: 1 } });
  const exactOnly: MemberOutcome = { name: 'pgd-exact', robustAccuracy: 0.3, robust: [], seconds: 0 };
  assert.equal(maskingFlag([exactOnly], 0.25).flagged, false, '5 points exactly is not more than 5');
  assert.equal(maskingFlag([exactOnly], 0.24).flagged, true);
});

test('the same seed gives the same report; every member records its seed and options', () => {
  const again = adaptiveAttack({ exact, ste: bpda }, x, labels, { ...knobs, epsilons, seed: 0 });
  assert.deepEqual(withoutTimes(again), withoutTimes(masked));
  const seeds = masked.members.map((m) => m.seed);
  assert.equal(new Set(seeds).size, seeds.length, 'each member has its own stream');
  const auto = masked.members.find((m) => m.name === 'auto')!;
  assert.equal(auto.options['steps'], 10);
  assert.equal(auto.options['maxQueries'], 200);
  assert.match(auto.attacked, /staircase 32 \(ste\)/);
});

test('the EOT member runs on randomized classifiers only, with --eot passes (default 10); the others never average', () => {
  const plain = planMembers({ exact }, { eot: 4 }, undefined);
  assert.deepEqual(plain.skipped.find((s) => s.name === 'pgd-eot')?.reason, 'the model is deterministic: no randomized classifier');
  assert.ok(plain.members.every((m) => m.options.eot === undefined));
  const randomized = planMembers({ exact, ste: bpda, randomized: true }, {}, 'l2');
  const eot = randomized.members.find((m) => m.name === 'pgd-eot')!;
  assert.equal(eot.options.eot, EOT_DEFAULT);
  assert.equal(eot.attacked, bpda, 'EOT differentiates the STE form');
  assert.ok(randomized.members.every((m) => m.options.norm === 'l2'));
  assert.equal(planMembers({ exact, randomized: true }, { eot: 4 }, undefined).members.find((m) => m.name === 'pgd-eot')!.options.eot, 4);
});

test('a randomized classifier gets the EOT member, which runs and counts in the worst case', () => {
  const rng = new Rng(5);
  const model = new LinearClassifier([4, 4, 1], Array.from({ length: 16 }, () => Array.from({ length: 10 }, () => rng.normal())), [2, ...Array<number>(9).fill(0)]);
  const randomized = new RandomMaskClassifier(model, 0.7, 9);
  const xs = tf.fill([6, 4, 4, 1], 0.5) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const r = adaptiveAttack({ exact: randomized, randomized: true }, xs, new Int32Array(6), { epsilons: [0.2], steps: 5, maxQueries: 20, eot: 3 });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  const row = r.results[0]!;
  assert.ok(row.members.some((m) => m.name === 'pgd-eot'));
  assert.equal(r.members.find((m) => m.name === 'pgd-eot')!.options['eot'], 3);
  assert.deepEqual(row.robust, row.robust.map((_, i) => (row.members.every((m) => m.robust[i]) ? 1 : 0)));
  xs.dispose();
  randomized.dispose();
});
