import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyIncreases, curveCrossings, robustAccuracy } from '../../src/metrics/robust-accuracy.js';

test('robust accuracy counts a sample only when it is correct both clean and attacked', () => {
  const labels = [0, 1, 2, 3, 4];
  const clean = [0, 1, 2, 0, 4]; // sample 3 wrong when clean
  const adv = [0, 7, 2, 3, 1]; // sample 3 "right" under attack but wrong clean: not robust
  assert.equal(robustAccuracy(labels, clean, adv), 2 / 5);
  assert.equal(robustAccuracy([], [], []), 0);
  assert.throws(() => robustAccuracy([1, 2], [1], [1, 2]), /different lengths/);
});

test('curve crossings are found between the last strict order and the next opposite one, ties skipped', () => {
  const a = [0, 0.1, 0.2, 0.3, 0.4].map((eps, i) => ({ eps, value: [0.9, 0.7, 0.5, 0.5, 0.4][i]! }));
  const b = [0, 0.1, 0.2, 0.3, 0.4].map((eps, i) => ({ eps, value: [0.8, 0.6, 0.5, 0.6, 0.3][i]! }));
  // a−b: +0.1, +0.1, 0 (tie), −0.1, +0.1 → crossings between 0.1 and 0.3 (a higher before), and between 0.3 and 0.4.
  const c = curveCrossings(a, b);
  assert.deepEqual(
    c.map((x) => [x.from, x.to, x.higherBefore]),
    [
      [0.1, 0.3, 'a'],
      [0.3, 0.4, 'b'],
    ],
  );
  assert.deepEqual(curveCrossings(a, a), []);
  // Only ε measured on both curves count.
  assert.deepEqual(curveCrossings([{ eps: 0.1, value: 1 }], [{ eps: 0.2, value: 0 }]), []);
});

test('accuracy increases are the steps where a curve rises with ε', () => {
  const rises = accuracyIncreases([
    { eps: 0.3, value: 0.2 },
    { eps: 0.1, value: 0.5 },
    { eps: 0.2, value: 0.1 },
  ]);
  assert.equal(rises.length, 1);
  assert.equal(rises[0]!.from, 0.2);
  assert.equal(rises[0]!.to, 0.3);
  assert.ok(Math.abs(rises[0]!.increase - 0.1) < 1e-12);
  assert.deepEqual(accuracyIncreases([{ eps: 0, value: 1 }, { eps: 1, value: 0 }]), []);
});
