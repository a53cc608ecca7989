import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accuracyOf, argmax, argmaxRows } from '../../src/models/prediction.js';

test('argmax takes the first of equal largest values, within a row when given bounds', () => {
  assert.equal(argmax([1, 3, 3, 2]), 1);
  assert.equal(argmax([-5, -1, -1]), 1);
  assert.equal(argmax([7]), 0);
  assert.equal(argmax([9, 0, 4, 4, 1, 9], 1, 5), 1, 'counted from the start of the row');
  assert.deepEqual([...argmaxRows(Float32Array.of(0, 2, 1, 5, 5, -1), 3)], [1, 0]);
  assert.deepEqual([...argmaxRows(new Float64Array(0), 10)], []);
});

test('accuracy counts predictions equal to their labels and refuses mismatched lengths', () => {
  assert.deepEqual(accuracyOf(Int32Array.of(0, 1, 2, 0, 4), [0, 1, 2, 3, 4]), { accuracy: 4 / 5, n: 5, correct: 4 });
  assert.deepEqual(accuracyOf([], []), { accuracy: 0, n: 0, correct: 0 });
  assert.throws(() => accuracyOf([1], [1, 2]), /1 predictions for 2 labels/);
});
