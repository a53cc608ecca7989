import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { apgdCheckpoints, attackLoss, runAttack } from '../../src/attacks/index.js';
import { tinyMnist } from './fixtures.js';

await initBackend('wasm');

test('APGD checkpoints follow the schedule p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)', () => {
  assert.deepEqual(apgdCheckpoints(100), [22, 41, 57, 70, 80, 87, 93, 99]);
  assert.deepEqual(apgdCheckpoints(10), [3, 5, 6, 7, 8, 9]);
});

test('the DLR loss is invariant to scaling and shifting the logits; untargeted it has the sign of the CW margin', () => {
  const z = tf.tensor2d([
    [3, 1, 0.5, -1],
    [0.2, 2.5, 1, 0],
    [1, 1.1, 4, -2],
  ]);
  const labels = tf.tensor1d([0, 0, 2], 'int32');
  const targets = tf.tensor1d([1, 2, 3], 'int32');
  for (const t of [null, targets]) {
    const base = attackLoss(z as tf.Tensor2D, labels, t, 'dlr');
    const scaled = tf.tidy(() => attackLoss(tf.add(tf.mul(z, 7), 3) as tf.Tensor2D, labels, t, 'dlr'));
    const margin = attackLoss(z as tf.Tensor2D, labels, t, 'margin');
    const [b, s, m] = [base.dataSync(), scaled.dataSync(), margin.dataSync()];
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(b[i]! - s[i]!) < 1e-5, `row ${i}: ${b[i]} vs ${s[i]}`);
      // Targeted DLR compares z_t with z_y only, not with the largest other logit, so only untargeted signs agree.
      if (!t) assert.equal(Math.sign(b[i]!), Math.sign(m[i]!), `row ${i}`);
    }
    tf.dispose([base, scaled, margin]);
  }
  // Untargeted row 0: −(z_y − max_{j≠y} z_j)/(z_π1 − z_π3) = −(3 − 1)/(3 − 0.5).
  const value = tf.tidy(() => attackLoss(z as tf.Tensor2D, labels, null, 'dlr').dataSync()[0]!);
  assert.ok(Math.abs(value + 2 / 2.5) < 1e-6);
  tf.dispose([z, labels, targets]);
});

test('APGD-CE and APGD-DLR are at least as strong as FGSM, stay in budget and do not leak', async () => {
  const { classifier, x, labels } = await tinyMnist();
  const before = tf.memory().numTensors;
  const epsilons = [0.05, 0.1];
  const f = runAttack('fgsm', classifier, x, labels, { epsilons });
  for (const name of ['apgd-ce', 'apgd-dlr']) {
    const a = runAttack(name, classifier, x, labels, { epsilons, steps: 20, seed: 4 });
    for (let k = 0; k < epsilons.length; k++) {
      const e = a.results[k]!;
      assert.ok(e.robustAccuracy <= f.results[k]!.robustAccuracy, `${name} at ε = ${epsilons[k]}: ${e.robustAccuracy} vs FGSM ${f.results[k]!.robustAccuracy}`);
      for (const d of e.linf) assert.ok(d <= epsilons[k]! + 1e-6);
      for (const q of e.queries) assert.ok(q >= 1 && q <= 22, `queries ${q}`); // clean check, 20 gradient calls, final check
    }
    a.dispose();
  }
  f.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  tf.dispose(x);
  classifier.dispose();
});
