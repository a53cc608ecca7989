import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { attack, classAtRank, predict, runAttack } from '../../src/attacks/index.js';
import { projectOntoHyperplaneInBox, vectorNorm } from '../../src/attacks/fab-projection.js';
import { LinearClassifier, constantBatch, tinyMnist, LINEAR_B2, LINEAR_SHAPE, LINEAR_W2 } from './fixtures.js';

await initBackend('wasm');

/**
 * Brute force in 3 dimensions: walk a fine grid of (z0, z1) in the box, solve the plane for z2, keep points
 * inside the box, return the smallest distance from x.
 */
function bruteForceDistance(x: number[], w: number[], b: number, norm: 'linf' | 'l2'): number {
  let best = Infinity;
  const steps = 400;
  for (let i = 0; i <= steps; i++) {
    for (let j = 0; j <= steps; j++) {
      const z0 = i / steps;
      const z1 = j / steps;
      const z2 = -(b + w[0]! * z0 + w[1]! * z1) / w[2]!;
      if (z2 < 0 || z2 > 1) continue;
      best = Math.min(best, vectorNorm([z0 - x[0]!, z1 - x[1]!, z2 - x[2]!], norm));
    }
  }
  return best;
}

test('the FAB projection lands on the hyperplane inside the box at the smallest L∞ / L2 distance (brute force in 3-D)', () => {
  const rng = new Rng(11);
  let checked = 0;
  for (let trial = 0; trial < 40; trial++) {
    const x = [rng.next(), rng.next(), rng.next()];
    const w = [rng.next() * 2 - 1, rng.next() * 2 - 1, 0.3 + rng.next()];
    const b = -(w[0]! * rng.next() + w[1]! * rng.next() + w[2]! * rng.next()); // the plane meets the box
    for (const norm of ['linf', 'l2'] as const) {
      const { point, reached } = projectOntoHyperplaneInBox(x, w, b, 0, 1, norm);
      assert.ok(reached, `trial ${trial}`);
      const value = b + w[0]! * point[0]! + w[1]! * point[1]! + w[2]! * point[2]!;
      assert.ok(Math.abs(value) < 1e-9, `trial ${trial} ${norm}: w·z + b = ${value}`);
      for (const v of point) assert.ok(v >= 0 && v <= 1, `trial ${trial} ${norm}: ${v} outside the box`);
      const dist = vectorNorm(point.map((v, j) => v - x[j]!), norm);
      const brute = bruteForceDistance(x, w, b, norm);
      // The grid is 1/400 fine: brute force can only be larger, and by at most about a grid step.
      assert.ok(dist <= brute + 1e-9, `trial ${trial} ${norm}: ${dist} > brute force ${brute}`);
      assert.ok(brute - dist < 0.01, `trial ${trial} ${norm}: ${dist} vs brute force ${brute}`);
      checked++;
    }
  }
  assert.equal(checked, 80);
});

test('the FAB projection reports an unreachable hyperplane and returns the box corner closest to it', () => {
  const { point, reached } = projectOntoHyperplaneInBox([0.5, 0.5], [1, -1], 5, 0, 1, 'linf');
  assert.equal(reached, false);
  assert.deepEqual([...point], [0, 1]); // w·z + b is smallest (4) at z = (0, 1)
  const same = projectOntoHyperplaneInBox([0.2, 0.7], [1, 1], -0.9, 0, 1, 'l2');
  assert.ok(same.reached);
  assert.deepEqual([...same.point], [0.2, 0.7]); // already on the plane
});

const SHAPE = LINEAR_SHAPE;
const W2 = LINEAR_W2;
const B2 = LINEAR_B2;

test('FAB on a 2-class linear model converges to the closed-form minimal perturbation (L∞ and L2)', () => {
  const model = new LinearClassifier(SHAPE, W2, B2);
  const x = constantBatch(1, SHAPE, 0.5);
  const d = model.column(1).map((v, i) => v - model.column(0)[i]!);
  const f = 0.5 * d.reduce((s, v) => s + v, 0) + (B2[1]! - B2[0]!); // z_1 − z_0 at x, negative
  for (const norm of ['linf', 'l2'] as const) {
    // Minimal distance to the boundary z_1 = z_0 (the box is not active at this size): |f| / ‖d‖_dual.
    const optimum = norm === 'linf' ? -f / d.reduce((s, v) => s + Math.abs(v), 0) : -f / Math.hypot(...d);
    for (const name of ['fab', 'fab-t'] as const) {
      const r = attack(name, model, x, Int32Array.of(0), { epsilon: 5, norm, steps: 60 });
      const found = norm === 'linf' ? r.linf[0]! : r.l2[0]!;
      assert.equal(r.success[0], 1, `${name} ${norm}`);
      assert.ok(found >= optimum * (1 - 1e-5), `${name} ${norm}: ${found} below the optimum ${optimum}`);
      assert.ok(found <= optimum * 1.01, `${name} ${norm}: ${found} vs optimum ${optimum}`);
      // One gradient call per step (two classes: the Jacobian has one useful row, fab still pays for both).
      assert.equal(r.queries[0], 1 + 60 * (name === 'fab' ? 3 : 2) + 1, `${name} ${norm}`);
      r.adversarial.dispose();
    }
  }
  x.dispose();
  model.dispose();
});

test('FAB and FAB-T on a trained model stay close to PGD, given targets are hit, seeds reproduce', async () => {
  const { classifier, x, labels } = await tinyMnist();
  const before = tf.memory().numTensors;
  const eps = [0.02, 0.05, 0.1];
  const fabT = runAttack('fab-t', classifier, x, labels, { epsilons: eps, steps: 20, targetClasses: 3, seed: 1 });
  const fab = runAttack('fab', classifier, x, labels, { epsilons: eps, steps: 20, seed: 1 });
  const pgd = runAttack('pgd', classifier, x, labels, { epsilons: eps, steps: 20, seed: 1 });
  eps.forEach((e, k) => {
    const t = fabT.results[k]!.robustAccuracy;
    // FAB-T's first run targets the runner-up; together with two more classes it should not trail PGD by much.
    assert.ok(t <= pgd.results[k]!.robustAccuracy + 0.15, `ε = ${e}: FAB-T ${t} vs PGD ${pgd.results[k]!.robustAccuracy}`);
    assert.ok(fab.results[k]!.robustAccuracy <= pgd.results[k]!.robustAccuracy + 0.15, `ε = ${e}: FAB ${fab.results[k]!.robustAccuracy}`);
  });
  assert.ok(fabT.results[2]!.robustAccuracy < fabT.cleanAccuracy - 0.2, 'FAB-T should break a fifth of the samples at ε = 0.1');
  [fabT, fab, pgd].forEach((r) => r.dispose());

  const targets = Int32Array.from(labels, (y) => (y + 1) % 10);
  const r = attack('fab-t', classifier, x, labels, { epsilon: 0.3, targets, steps: 30, seed: 2 });
  const pred = predict(classifier, r.adversarial);
  let hit = 0;
  for (let i = 0; i < labels.length; i++) {
    assert.equal(r.success[i] === 1, pred[i] === targets[i], `sample ${i}: success must mean the target class`);
    hit += r.success[i]!;
  }
  assert.ok(hit >= 0.8 * labels.length, `only ${hit} of ${labels.length} targets reached at ε = 0.3`);
  const again = attack('fab-t', classifier, x, labels, { epsilon: 0.3, targets, steps: 30, seed: 2 });
  assert.deepEqual(again.adversarial.dataSync(), r.adversarial.dataSync());
  tf.dispose([r.adversarial, again.adversarial]);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.deepEqual([...classAtRank(Float32Array.of(0.1, 3, 2), 3, 1)], [2]);
  x.dispose();
  classifier.dispose();
});
