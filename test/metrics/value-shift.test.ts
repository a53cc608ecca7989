import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LayerShiftAccumulator } from '../../src/metrics/value-shift.js';
import { fakeQuantArray, paramsFromRanges } from '../../src/quant/quantizer.js';

test('value shift of hand-made activations', () => {
  const acc = new LayerShiftAccumulator('dense_1', true);
  acc.add([1, 2, 0, 1], [1.5, 2, 0, 1.5], [1, 2.5, 0, 1], [1, 2.5, 0, 2]);
  const s = acc.summary();
  assert.equal(s.elements, 4);
  assert.equal(s.cleanShift, 0.5 / 4); // Σ|q−f| = 0.5 over Σ|f| = 4
  assert.equal(s.fpPerturbation, 1 / 4);
  assert.equal(s.qPerturbation, 1 / 4);
  assert.equal(s.perturbationRatio, 1);
  assert.equal(s.binChangeRate, 1 / 4);
  assert.equal(new LayerShiftAccumulator('x', false).summary().binChangeRate, null);
});

test('a uniform quantizer absorbs a perturbation inside a bin and turns a crossing into a whole step', () => {
  // 2-bit affine grid over [0, 3]: levels 0, 1, 2, 3 (scale 1).
  const p = paramsFromRanges([0], [3], 2, 'affine', 'per-tensor');
  const x = Float32Array.from([0.2, 1.1, 1.45, 2.6]);
  const delta = 0.1;
  const xp = x.map((v) => v + delta);
  const q = (a: Float32Array): Float32Array => fakeQuantArray(a, p);
  const acc = new LayerShiftAccumulator('act', true);
  acc.add(x, xp, q(x), q(xp));
  const s = acc.summary();
  // Only 1.45 → 1.55 crosses the boundary at 1.5 (a whole step of 1); the others stay in their bins.
  assert.equal(s.binChangeRate, 0.25);
  assert.ok(Math.abs(s.fpPerturbation - delta) < 1e-6);
  assert.ok(Math.abs(s.qPerturbation - 0.25) < 1e-6);
  assert.ok(Math.abs(s.perturbationRatio! - 2.5) < 1e-5);
});
