/** Relative robustness and the kept / same-wrong / other split from search outcomes, on made-up outcomes. */
import assert from 'node:assert/strict';
import test from 'node:test';
import { quantizedRobust, searchRobustness, type SearchOutcome } from '../../src/metrics/search-robustness.js';

test('RR counts FP-robust inputs whose explored images the QNN all labels correctly; every adversarial image is split', () => {
  const outcomes: SearchOutcome[] = [
    { label: 3, explored: 10, quantizedCorrect: 10, adversarial: [] }, // FP robust, Q robust
    { label: 3, explored: 10, quantizedCorrect: 9, adversarial: [] }, // FP robust, Q not
    { label: 1, explored: 0, quantizedCorrect: 0, adversarial: [] }, // FP robust, nothing explored: Q robust
    { label: 2, explored: 5, quantizedCorrect: 5, adversarial: [{ fp: 4, quantized: 2 }, { fp: 4, quantized: 4 }, { fp: 7, quantized: 0 }] },
    { label: 0, explored: 5, quantizedCorrect: 1, adversarial: [{ fp: 9, quantized: 9 }] },
  ];
  const r = searchRobustness(outcomes);
  assert.equal(r.inputs, 5);
  assert.equal(r.relative.fpRobust, 3);
  assert.equal(r.relative.bothRobust, 2);
  assert.equal(r.relative.relative, 2 / 3);
  assert.deepEqual([r.transfer.n, r.transfer.kept, r.transfer.sameWrong, r.transfer.otherWrong], [4, 1, 2, 1]);
  assert.equal(r.transfer.transferRate, 0.5);
  assert.equal(quantizedRobust(outcomes[3]!), false);
  const none = searchRobustness([]);
  assert.equal(none.relative.relative, null);
  assert.equal(none.transfer.transferRate, null);
});
