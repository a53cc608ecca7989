import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roundHalfAway, roundHalfEven } from '../../src/quant/rounding.js';

const F32_BELOW_HALF = Math.fround(0.49999997); // the largest float32 below 0.5
const BIG = 2 ** 23 + 1; // odd, and float32 has no fractions left at this size

test('ties: half away from zero against half to even, for either sign', () => {
  const ties = [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5];
  assert.deepEqual(ties.map(roundHalfAway), [1, 2, 3, 4, -1, -2, -3, -4]);
  assert.deepEqual(ties.map(roundHalfEven), [0, 2, 2, 4, 0, -2, -2, -4]);
});

test('values next to a tie round to the nearer integer in both modes', () => {
  for (const round of [roundHalfAway, roundHalfEven]) {
    assert.deepEqual([F32_BELOW_HALF, -F32_BELOW_HALF, 0.5000001, -0.5000001, 2.4999, -2.5001].map(round), [0, 0, 1, -1, 2, -3]);
    assert.equal(round(0.49999999999999994), 0, 'the largest float64 below 0.5');
  }
});

test('no −0 comes out, from ±0 or from small negatives', () => {
  for (const round of [roundHalfAway, roundHalfEven]) {
    for (const x of [0, -0, -0.2, -0.4999, 0.2, Number.MIN_VALUE, -Number.MIN_VALUE]) assert.ok(Object.is(round(x), 0), `${round.name}(${x})`);
  }
  assert.ok(Object.is(roundHalfEven(-0.5), 0));
});

test('large values and integers pass through unchanged; non-finite values too', () => {
  for (const round of [roundHalfAway, roundHalfEven]) {
    for (const x of [BIG, -BIG, 2 ** 31 - 1, -(2 ** 31), 2 ** 53 - 1, -(2 ** 53), 1e300, Infinity, -Infinity]) assert.equal(round(x), x, `${round.name}(${x})`);
    assert.ok(Number.isNaN(round(NaN)));
  }
  assert.equal(roundHalfAway(BIG + 0.5), BIG + 1);
  assert.equal(roundHalfEven(BIG + 0.5), BIG + 1);
  assert.equal(roundHalfEven(BIG - 0.5), BIG - 1);
});
