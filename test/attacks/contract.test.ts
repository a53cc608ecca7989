import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { ATTACK_NAMES, getAttack, runAttack, type AttackOptions, type Norm } from '../../src/attacks/index.js';
import { tinyMnist } from './fixtures.js';

await initBackend('wasm');
const { classifier, x, labels } = await tinyMnist();

const EPSILONS: Record<Norm, number[]> = { linf: [0, 0.03, 0.08, 0.15], l2: [0, 0.5, 1.5, 3] };

/** Small budgets that keep each attack fast here; an attack not listed runs 6 steps. */
const FAST: Record<string, Omit<AttackOptions, 'epsilon'>> = {
  fgsm: {},
  'apgd-t': { steps: 6, targetClasses: 3 },
  'fab-t': { steps: 6, targetClasses: 3 },
  'cw-l2': { steps: 20, binarySearchSteps: 3, initialConst: 0.1, learningRate: 0.05 },
  square: { maxQueries: 150 },
  spsa: { steps: 20, samples: 32, learningRate: 0.05 },
  hopskipjump: { steps: 4, maxQueries: 300, samples: 30 },
  auto: { steps: 6, targetClasses: 2, maxQueries: 100 },
};

test('the fixture model is trained (clean accuracy well above chance)', () => {
  const r = runAttack('fgsm', classifier, x, labels, { epsilons: [0] });
  assert.ok(r.cleanAccuracy > 0.6, `clean accuracy ${r.cleanAccuracy}`);
  r.dispose();
});

for (const name of ATTACK_NAMES) {
  for (const norm of getAttack(name).norms) {
    test(`${name} (${norm}): inside the ε-ball and [0,1], ε = 0 changes nothing, robust accuracy non-increasing in ε, no leak`, () => {
      const before = tf.memory().numTensors;
      const epsilons = EPSILONS[norm];
      const r = runAttack(name, classifier, x, labels, { epsilons, norm, seed: 5, ...(FAST[name] ?? { steps: 6 }) });
      assert.equal(r.results.length, epsilons.length);
      let previous = Infinity;
      for (const e of r.results) {
        const dist = norm === 'linf' ? e.linf : e.l2;
        for (let i = 0; i < labels.length; i++) assert.ok(dist[i]! <= e.epsilon + 1e-6, `sample ${i}: ${dist[i]} > ε = ${e.epsilon}`);
        const [lo, hi] = tf.tidy(() => [tf.min(e.adversarial).dataSync()[0]!, tf.max(e.adversarial).dataSync()[0]!]);
        assert.ok(lo! >= 0 && hi! <= 1, `values in [${lo}, ${hi}]`);
        assert.equal(e.success.length, labels.length);
        assert.ok(e.meanQueries >= 1);
        assert.ok(e.robustAccuracy <= r.cleanAccuracy + 1e-12);
        assert.ok(e.robustAccuracy <= previous + 1e-12, `robust accuracy rose from ${previous} to ${e.robustAccuracy} at ε = ${e.epsilon}`);
        previous = e.robustAccuracy;
      }
      assert.equal(r.results[0]!.robustAccuracy, r.cleanAccuracy, 'ε = 0 must leave accuracy unchanged');
      assert.equal(r.results[0]!.successRate, 0);
      assert.ok(r.results.at(-1)!.robustAccuracy < r.cleanAccuracy, 'the largest ε should hurt an undefended model');
      r.dispose();
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    });
  }
}

test('PGD is at least as strong as FGSM at the same budget', () => {
  const epsilons = [0.03, 0.08, 0.15];
  const f = runAttack('fgsm', classifier, x, labels, { epsilons });
  const p = runAttack('pgd', classifier, x, labels, { epsilons, steps: 20, seed: 1 });
  for (let k = 0; k < epsilons.length; k++) {
    assert.ok(p.results[k]!.robustAccuracy <= f.results[k]!.robustAccuracy, `ε = ${epsilons[k]}: PGD ${p.results[k]!.robustAccuracy} vs FGSM ${f.results[k]!.robustAccuracy}`);
  }
  f.dispose();
  p.dispose();
});

test('the same seed reproduces a PGD run with restarts exactly; another seed differs', () => {
  const opts = { epsilons: [0.05], steps: 5, restarts: 3, seed: 9, loss: 'margin' as const };
  const a = runAttack('pgd', classifier, x, labels, opts);
  const b = runAttack('pgd', classifier, x, labels, opts);
  assert.deepEqual(a.results[0]!.adversarial.dataSync(), b.results[0]!.adversarial.dataSync());
  assert.deepEqual(a.results[0]!.queries, b.results[0]!.queries);
  const c = runAttack('pgd', classifier, x, labels, { ...opts, seed: 10 });
  assert.notDeepEqual(a.results[0]!.adversarial.dataSync(), c.results[0]!.adversarial.dataSync());
  tf.dispose([a, b, c].map((r) => r.results[0]!.adversarial));
});

test('restarts never make PGD weaker, and queries stay within restarts × (steps + 1) + 1', () => {
  const one = runAttack('pgd', classifier, x, labels, { epsilons: [0.06], steps: 5, restarts: 1, seed: 2 });
  const three = runAttack('pgd', classifier, x, labels, { epsilons: [0.06], steps: 5, restarts: 3, seed: 2 });
  assert.ok(three.results[0]!.robustAccuracy <= one.results[0]!.robustAccuracy);
  for (const q of three.results[0]!.queries) assert.ok(q >= 1 && q <= 3 * 6 + 1, `queries ${q}`);
  one.dispose();
  three.dispose();
});
