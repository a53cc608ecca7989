import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { AUTO_MEMBERS, attack, classAtRank, predict, runAttack } from '../../src/attacks/index.js';
import { tinyMnist } from './fixtures.js';

await initBackend('wasm');
const { classifier, x, labels } = await tinyMnist();

const BUDGET = { steps: 10, targetClasses: 3, maxQueries: 200 } as const;
const MEMBER_OPTIONS: Record<string, object> = {
  'apgd-ce': { steps: BUDGET.steps },
  'apgd-t': { steps: BUDGET.steps, targetClasses: BUDGET.targetClasses },
  'fab-t': { steps: BUDGET.steps, targetClasses: BUDGET.targetClasses },
  square: { maxQueries: BUDGET.maxQueries },
};

test('auto runs APGD-CE, APGD-T, FAB-T and Square in that order', () => {
  assert.deepEqual(
    AUTO_MEMBERS.map((m) => m.name),
    ['apgd-ce', 'apgd-t', 'fab-t', 'square'],
  );
});

test('the auto ensemble is at least as strong as each of its members run alone with the same budget', () => {
  const epsilons = [0.03, 0.06, 0.1];
  const auto = runAttack('auto', classifier, x, labels, { epsilons, seed: 3, ...BUDGET });
  for (const member of AUTO_MEMBERS) {
    const alone = runAttack(member.name, classifier, x, labels, { epsilons, seed: 3, ...MEMBER_OPTIONS[member.name] });
    epsilons.forEach((eps, k) => {
      const a = auto.results[k]!.robustAccuracy;
      const m = alone.results[k]!.robustAccuracy;
      assert.ok(a <= m, `ε = ${eps}: auto ${a} vs ${member.name} ${m}`);
    });
    alone.dispose();
  }
  auto.dispose();
});

test('auto records which member broke each sample, attacks only robust samples, and counts every query', () => {
  const before = tf.memory().numTensors;
  const clean = predict(classifier, x);
  const r = attack('auto', classifier, x, labels, { epsilon: 0.05, seed: 4, ...BUDGET });
  const brokenBy = r.brokenBy!;
  assert.equal(brokenBy.length, labels.length);
  const apgdMax = BUDGET.steps + 2;
  for (let i = 0; i < labels.length; i++) {
    assert.equal(brokenBy[i] !== null, r.success[i] === 1, `sample ${i}: brokenBy ${brokenBy[i]} vs success ${r.success[i]}`);
    if (clean[i] !== labels[i]) {
      assert.equal(brokenBy[i], 'clean');
      assert.equal(r.queries[i], 1, 'a misclassified input is not attacked');
      assert.equal(r.linf[i], 0);
    }
    if (brokenBy[i] === 'apgd-ce') assert.ok(r.queries[i]! <= 1 + apgdMax, `sample ${i}: ${r.queries[i]} queries`);
    if (brokenBy[i] === null) {
      // Survived every member: paid all of APGD-CE, every APGD-T run and the whole Square budget.
      assert.ok(r.queries[i]! > 1 + BUDGET.targetClasses * BUDGET.steps + BUDGET.maxQueries - 1, `robust sample ${i}: ${r.queries[i]} queries`);
    }
    assert.ok(r.linf[i]! <= 0.05 + 1e-6);
  }
  const pred = predict(classifier, r.adversarial);
  for (let i = 0; i < labels.length; i++) assert.equal(pred[i] !== labels[i], r.success[i] === 1, `sample ${i}`);
  r.adversarial.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
});

test('APGD-T targets the classes ranked 2 to k+1 by the clean logits, and with targets given hits them', () => {
  assert.deepEqual([...classAtRank(Float32Array.of(0.1, 3, 2, -1, 2), 5, 1)], [2], 'ties go to the lower index');
  assert.deepEqual([...classAtRank(Float32Array.of(0.1, 3, 2, -1, 2), 5, 2)], [4]);
  const targets = Int32Array.from(labels, (y) => (y + 1) % 10);
  const r = attack('apgd-t', classifier, x, labels, { epsilon: 0.3, targets, steps: 20, seed: 5 });
  const pred = predict(classifier, r.adversarial);
  let hit = 0;
  for (let i = 0; i < labels.length; i++) {
    assert.equal(r.success[i] === 1, pred[i] === targets[i], `sample ${i}: success must mean the target class`);
    hit += r.success[i]!;
  }
  assert.ok(hit >= 0.9 * labels.length, `only ${hit} of ${labels.length} targets reached at ε = 0.3`);
  r.adversarial.dispose();
});

test('targeted auto hands the targets to every member: success means the target class', () => {
  const targets = Int32Array.from(labels, (y) => (y + 3) % 10);
  const r = attack('auto', classifier, x, labels, { epsilon: 0.3, targets, seed: 6, ...BUDGET });
  const pred = predict(classifier, r.adversarial);
  for (let i = 0; i < labels.length; i++) assert.equal(r.success[i] === 1, pred[i] === targets[i], `sample ${i}`);
  const hit = r.success.reduce((s, v) => s + v, 0);
  assert.ok(hit >= 0.9 * labels.length, `only ${hit} of ${labels.length} targets reached at ε = 0.3`);
  r.adversarial.dispose();
});

test('auto and APGD-T reproduce exactly from the seed', () => {
  for (const name of ['apgd-t', 'auto']) {
    const a = attack(name, classifier, x, labels, { epsilon: 0.05, seed: 8, ...(name === 'auto' ? BUDGET : MEMBER_OPTIONS['apgd-t']) });
    const b = attack(name, classifier, x, labels, { epsilon: 0.05, seed: 8, ...(name === 'auto' ? BUDGET : MEMBER_OPTIONS['apgd-t']) });
    assert.deepEqual(a.adversarial.dataSync(), b.adversarial.dataSync(), name);
    assert.deepEqual(a.queries, b.queries, name);
    assert.deepEqual(a.brokenBy, b.brokenBy, name);
    tf.dispose([a.adversarial, b.adversarial]);
  }
});

test.after(() => {
  x.dispose();
  classifier.dispose();
});
