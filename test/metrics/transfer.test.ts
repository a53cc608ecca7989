import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transferBreakdown } from '../../src/metrics/transfer.js';

test('transfer splits fooled-source examples into kept, same wrong and other label', () => {
  const labels = [1, 1, 1, 1, 1, 1, 1];
  const sourceClean = [1, 1, 1, 1, 1, 0, 1]; // sample 5: source wrong when clean → excluded
  const sourceAdv = [2, 2, 2, 2, 1, 2, 3]; // sample 4: attack failed on the source → excluded
  const targetClean = [1, 1, 1, 1, 1, 1, 0]; // sample 6: target wrong when clean → excluded
  const targetAdv = [1, 2, 3, 2, 1, 2, 3];
  const b = transferBreakdown(labels, sourceClean, sourceAdv, targetClean, targetAdv);
  assert.equal(b.n, 4);
  assert.equal(b.kept, 1); // sample 0
  assert.equal(b.sameWrong, 2); // samples 1 and 3
  assert.equal(b.otherWrong, 1); // sample 2
  assert.equal(b.transferRate, 0.5);
  assert.equal(b.untargetedTransferRate, 0.75);
});

test('transfer rates are null when no example fooled the source', () => {
  const b = transferBreakdown([0, 1], [0, 1], [0, 1], [0, 1], [5, 5]);
  assert.equal(b.n, 0);
  assert.equal(b.transferRate, null);
  assert.equal(b.untargetedTransferRate, null);
});
