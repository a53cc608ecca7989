import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relativeRobustness, robustFlags } from '../../src/metrics/relative-robustness.js';

test('relative robustness is the share of FP-robust samples that are robust for the variant too, and the reverse', () => {
  const fp = [1, 1, 1, 1, 0, 0];
  const q = [1, 1, 0, 0, 1, 0];
  const rr = relativeRobustness(fp, q);
  assert.deepEqual([rr.n, rr.fpRobust, rr.qRobust, rr.bothRobust], [6, 4, 3, 2]);
  assert.equal(rr.relative, 0.5);
  assert.equal(rr.reverse, 2 / 3);
  const none = relativeRobustness([0, 0], [true, false]);
  assert.equal(none.relative, null);
  assert.equal(none.reverse, 0);
});

test('robust flags from attack outcomes: correct clean and attacked', () => {
  assert.deepEqual(Array.from(robustFlags([3, 3, 3], [3, 2, 3], [3, 3, 1])), [1, 0, 0]);
});
