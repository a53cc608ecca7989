import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlignmentAccumulator, GradientStats, cosineSimilarity, signAgreement } from '../../src/metrics/gradient-alignment.js';

test('cosine similarity of parallel, opposite, orthogonal and zero vectors', () => {
  assert.ok(Math.abs(cosineSimilarity([1, 2, 3], [2, 4, 6])! - 1) < 1e-12);
  assert.ok(Math.abs(cosineSimilarity([1, 2, 3], [-1, -2, -3])! + 1) < 1e-12);
  assert.equal(cosineSimilarity([1, 0], [0, 5]), 0);
  assert.ok(Math.abs(cosineSimilarity([1, 1], [1, 0])! - Math.SQRT1_2) < 1e-12);
  assert.equal(cosineSimilarity([0, 0], [1, 2]), null);
});

test('sign agreement compares −1, 0 and +1 per coordinate', () => {
  assert.equal(signAgreement([1, -2, 0, 3], [5, -1, 0, -3]), 0.75);
  assert.equal(signAgreement([0.1, 0], [0.2, 1]), 0.5);
});

test('the alignment accumulator averages per sample and counts undefined cosines', () => {
  const acc = new AlignmentAccumulator();
  // Three samples of 2 values each: cos = 1, −1, undefined (zero gradient).
  acc.add(Float32Array.from([1, 0, 0, 1, 0, 0]), Float32Array.from([2, 0, 0, -3, 1, 1]), 3);
  const s = acc.summary();
  assert.equal(s.n, 3);
  assert.equal(s.undefinedCosine, 1);
  assert.equal(s.meanCosine, 0);
  assert.equal(s.medianCosine, 0);
  // sign agreement per sample: 1, 0.5 (second coordinate 1 vs −3 differ, first 0 vs 0 agree), 0
  assert.ok(Math.abs(s.meanSignAgreement! - 0.5) < 1e-12);
});

test('gradient statistics count all-zero samples, zero coordinates and norms', () => {
  const st = new GradientStats();
  st.add(Float32Array.from([0, 0, 0, 3, -4, 0]), 2);
  const s = st.summary();
  assert.equal(s.n, 2);
  assert.equal(s.zeroSamples, 0.5);
  assert.equal(s.zeroCoordinates, 4 / 6);
  assert.equal(s.meanL1, 3.5);
  assert.equal(s.meanL2, 2.5);
});
