import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { attack } from '../../src/attacks/index.js';
import { LinearClassifier, constantBatch, LINEAR_B2, LINEAR_SHAPE, LINEAR_W2 } from './fixtures.js';

await initBackend('wasm');

const SHAPE = LINEAR_SHAPE;
const W2 = LINEAR_W2;
const B2 = LINEAR_B2;

function sub(a: number[], b: number[]): number[] {
  return a.map((v, i) => v - b[i]!);
}

test('FGSM (L∞, cross-entropy) on a 2-class linear model steps exactly ε·sign(w_other − w_true)', () => {
  const model = new LinearClassifier(SHAPE, W2, B2);
  const x = constantBatch(3, SHAPE, 0.5);
  const eps = 0.1;
  const r = attack('fgsm', model, x, Int32Array.of(0, 0, 0), { epsilon: eps });
  const delta = tf.tidy(() => tf.sub(r.adversarial, x).dataSync());
  const expected = sub(model.column(1), model.column(0)).map((v) => eps * Math.sign(v));
  for (let s = 0; s < 3; s++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(delta[s * 4 + j]! - expected[j]!) < 1e-6, `sample ${s} pixel ${j}`);
  assert.deepEqual([...r.linf].map((v) => Math.round(v * 1e6) / 1e6), [eps, eps, eps]);
  assert.deepEqual([...r.queries], [2, 2, 2]);
  tf.dispose([x, r.adversarial]);
  model.dispose();
});

test('FGSM with the CW margin on a 3-class model steps along sign(w_j − w_y) for the runner-up j', () => {
  const w3 = W2.map((row, i) => [...row, [0.2, 0.6, -0.9, 0.4][i]!]);
  const model = new LinearClassifier(SHAPE, w3, [1.5, 0, 0.5]);
  const x = constantBatch(1, SHAPE, 0.5);
  // At x = 0.5 the logits are [1.65, 0.7, 0.65]: the runner-up is class 1.
  const r = attack('fgsm', model, x, Int32Array.of(0), { epsilon: 0.05, loss: 'margin' });
  const delta = tf.tidy(() => tf.sub(r.adversarial, x).dataSync());
  const expected = sub(model.column(1), model.column(0)).map((v) => 0.05 * Math.sign(v));
  for (let j = 0; j < 4; j++) assert.ok(Math.abs(delta[j]! - expected[j]!) < 1e-6);
  tf.dispose([x, r.adversarial]);
  model.dispose();
});

test('PGD-L2 with enough steps reaches the closed-form optimum ε·(w_other − w_true)/‖w_other − w_true‖', () => {
  const model = new LinearClassifier(SHAPE, W2, B2);
  const x = constantBatch(2, SHAPE, 0.5);
  const eps = 0.2;
  for (const loss of ['ce', 'margin'] as const) {
    const r = attack('pgd', model, x, Int32Array.of(0, 0), { epsilon: eps, norm: 'l2', steps: 60, stepSize: 0.05, loss, earlyStop: false, seed: 3 });
    const delta = tf.tidy(() => tf.sub(r.adversarial, x).dataSync());
    const d = sub(model.column(1), model.column(0));
    const len = Math.hypot(...d);
    for (let s = 0; s < 2; s++) {
      for (let j = 0; j < 4; j++) assert.ok(Math.abs(delta[s * 4 + j]! - (eps * d[j]!) / len) < 1e-4, `${loss}: sample ${s} pixel ${j}`);
      assert.ok(r.l2[s]! <= eps + 1e-6);
    }
    r.adversarial.dispose();
  }
  x.dispose();
  model.dispose();
});

test('targeted attacks reach their target on a 3-class linear model', () => {
  const w3 = W2.map((row, i) => [...row, [0.2, 0.6, -0.9, 0.4][i]!]);
  // Logits at x = 0.5 are [1.5, 0.7, 0.75]: class 0 wins, and each target needs a real perturbation.
  const model = new LinearClassifier(SHAPE, w3, [1.0, 0, 0.5]);
  const x = constantBatch(4, SHAPE, 0.5);
  const labels = Int32Array.of(0, 0, 0, 0);
  const targets = Int32Array.of(1, 2, 1, 2);
  for (const name of ['fgsm', 'bim', 'pgd', 'mim', 'apgd-ce', 'apgd-dlr', 'apgd-t', 'square', 'spsa']) {
    for (const loss of ['ce', 'margin'] as const) {
      const r = attack(name, model, x, labels, { epsilon: 0.45, targets, loss, seed: 1 });
      const pred = tf.tidy(() => tf.argMax(model.logits(r.adversarial), 1).dataSync());
      assert.deepEqual([...pred], [...targets], `${name} (${loss})`);
      assert.deepEqual([...r.success], [1, 1, 1, 1], `${name} (${loss}) success`);
      r.adversarial.dispose();
    }
  }
  x.dispose();
  model.dispose();
});

test('an untargeted sample that is misclassified already is returned unchanged with success recorded', () => {
  const model = new LinearClassifier(SHAPE, W2, B2);
  const x = constantBatch(2, SHAPE, 0.5);
  for (const name of ['fgsm', 'bim', 'pgd', 'mim', 'apgd-ce']) {
    const r = attack(name, model, x, Int32Array.of(1, 0), { epsilon: 0.01, seed: 2 });
    assert.equal(r.success[0], 1, name);
    assert.equal(r.linf[0], 0, name);
    assert.equal(r.success[1], 0, `${name}: ε = 0.01 cannot flip the second sample`);
    r.adversarial.dispose();
  }
  x.dispose();
  model.dispose();
});

test('DeepFool on a 2-class linear model lands on the closed-form nearest boundary point (L2 and L∞)', () => {
  const model = new LinearClassifier(SHAPE, W2, B2);
  const x = constantBatch(1, SHAPE, 0.5);
  const d = sub(model.column(1), model.column(0));
  const f = 0.5 * d.reduce((s, v) => s + v, 0) + (B2[1]! - B2[0]!); // z_1 − z_0 at x, negative
  for (const norm of ['l2', 'linf'] as const) {
    const r = attack('deepfool', model, x, Int32Array.of(0), { epsilon: 5, norm, overshoot: 0 });
    const delta = tf.tidy(() => tf.sub(r.adversarial, x).dataSync());
    const dual = norm === 'l2' ? d.reduce((s, v) => s + v * v, 0) : d.reduce((s, v) => s + Math.abs(v), 0);
    const expected = d.map((v) => (norm === 'l2' ? ((-f + 1e-4) / dual) * v : ((-f + 1e-4) / dual) * Math.sign(v)));
    for (let j = 0; j < 4; j++) assert.ok(Math.abs(delta[j]! - expected[j]!) < 1e-5, `${norm} pixel ${j}: ${delta[j]} vs ${expected[j]}`);
    assert.equal(r.success[0], 1, norm);
    // One linearisation step suffices for a linear model: K gradient calls, one check, one final forward pass.
    assert.equal(r.queries[0], 2 * 2 + 1, norm);
    r.adversarial.dispose();
  }
  x.dispose();
  model.dispose();
});
