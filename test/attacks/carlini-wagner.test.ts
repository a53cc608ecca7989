import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { attack, carliniWagnerL2, resolveOptions } from '../../src/attacks/index.js';
import { LinearClassifier, constantBatch, twoClassLinear } from './fixtures.js';

await initBackend('wasm');

const SHAPE = [4, 4, 1] as const;
const FAST = { binarySearchSteps: 6, steps: 150, learningRate: 0.01 } as const;

test('C&W L2 finds the closed-form minimal L2 perturbation of a linear model to within 2%', () => {
  const { model, minL2 } = twoClassLinear(SHAPE, 5, 0.1);
  const x = constantBatch(2, SHAPE, 0.5);
  const found = carliniWagnerL2.minimize!(model, x, Int32Array.of(0, 0), resolveOptions(carliniWagnerL2, model, 2, { epsilon: 0, seed: 1, ...FAST }));
  const dist = tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.sub(found.adversarial, x)), [1, 2, 3])).dataSync());
  const pred = tf.tidy(() => tf.argMax(model.logits(found.adversarial), 1).dataSync());
  assert.deepEqual([...pred], [1, 1], 'the point found is adversarial');
  for (const d of dist) {
    assert.ok(d >= minL2 * (1 - 1e-4), `${d} is below the minimum ${minL2}`);
    assert.ok(d <= minL2 * 1.02, `C&W ${d} vs minimal ${minL2}`);
  }
  // Every Adam step of every round is one query, and early abort can only shorten a round.
  for (const q of found.queries) assert.ok(q >= 6 && q <= 6 * 150, `queries ${q}`);
  tf.dispose([x, found.adversarial]);
  model.dispose();
});

test('at a fixed ε, C&W succeeds exactly when ε exceeds the minimal distance, and stays in the ball', () => {
  const { model, minL2 } = twoClassLinear(SHAPE, 5, 0.1);
  const x = constantBatch(2, SHAPE, 0.5);
  for (const [factor, expected] of [
    [0.9, 0],
    [1.05, 1],
  ] as const) {
    const eps = factor * minL2;
    const r = attack('cw-l2', model, x, Int32Array.of(0, 0), { epsilon: eps, seed: 1, ...FAST });
    assert.deepEqual([...r.success], [expected, expected], `ε = ${factor} × minimum`);
    for (const d of r.l2) assert.ok(d <= eps + 1e-6);
    r.adversarial.dispose();
  }
  x.dispose();
  model.dispose();
});

test('the confidence κ pushes the adversarial logit κ past the others, at a larger distance', () => {
  const { model, minL2 } = twoClassLinear(SHAPE, 9, 0.1);
  const x = constantBatch(1, SHAPE, 0.5);
  const labels = Int32Array.of(0);
  const distances: number[] = [];
  for (const confidence of [0, 0.2]) {
    const found = carliniWagnerL2.minimize!(model, x, labels, resolveOptions(carliniWagnerL2, model, 1, { epsilon: 0, confidence, ...FAST }));
    const z = tf.tidy(() => model.logits(found.adversarial).dataSync());
    assert.ok(z[1]! - z[0]! >= confidence - 1e-6, `κ = ${confidence}: margin ${z[1]! - z[0]!}`);
    distances.push(tf.tidy(() => tf.norm(tf.sub(found.adversarial, x)).dataSync()[0]!));
    found.adversarial.dispose();
  }
  assert.ok(distances[1]! > distances[0]!, `κ = 0.2 at ${distances[1]}, κ = 0 at ${distances[0]}`);
  // On a linear model the extra distance is κ/‖w_1 − w_0‖ = κ·minL2/margin.
  assert.ok(Math.abs(distances[1]! - distances[0]! - (0.2 * minL2) / 0.1) < 0.05 * minL2, `extra ${distances[1]! - distances[0]!}`);
  x.dispose();
  model.dispose();
});

test('targeted C&W reaches each requested class of a 3-class model', () => {
  const weights = [
    [0.9, -0.4, 0.2],
    [-0.3, 0.7, 0.6],
    [0.5, 1.2, -0.9],
    [-0.8, -0.1, 0.4],
  ];
  const model = new LinearClassifier([2, 2, 1], weights, [1.0, 0, 0.5]);
  const x = constantBatch(2, [2, 2, 1], 0.5);
  const targets = Int32Array.of(1, 2);
  const r = attack('cw-l2', model, x, Int32Array.of(0, 0), { epsilon: 2, targets, ...FAST });
  const pred = tf.tidy(() => tf.argMax(model.logits(r.adversarial), 1).dataSync());
  assert.deepEqual([...pred], [1, 2]);
  assert.deepEqual([...r.success], [1, 1]);
  tf.dispose([x, r.adversarial]);
  model.dispose();
});
