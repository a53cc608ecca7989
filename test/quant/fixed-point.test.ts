import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import {
  multiplyByQuantizedMultiplier,
  multiplyByQuantizedMultiplierReference,
  multiplyByQuantizedMultiplierSingleRounding,
  multiplyByQuantizedMultiplierSingleRoundingReference,
  quantizeMultiplier,
  roundingDivideByPOT,
  roundingDivideByPOTReference,
  saturatingRoundingDoublingHighMul,
  saturatingRoundingDoublingHighMulReference,
} from '../../src/quant/integer/fixed-point.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const rng = new Rng(2024);
const int32 = (): number => rng.nextUint32() | 0;
/** Random int32 with a random magnitude (so small values are well represented). */
const anyInt = (): number => {
  const bits = rng.int(32);
  return (int32() >> (31 - bits)) | 0;
};
const EDGES = [0, 1, -1, 2, -2, 127, -128, 32767, -32768, 65535, 65536, -65536, 1 << 30, -(1 << 30), INT32_MAX, INT32_MIN, INT32_MIN + 1, INT32_MAX - 1];

test('SaturatingRoundingDoublingHighMul: 16-bit-limb product equals the BigInt reference', () => {
  for (const a of EDGES) for (const b of EDGES) assert.equal(saturatingRoundingDoublingHighMul(a, b), saturatingRoundingDoublingHighMulReference(a, b), `${a}·${b}`);
  for (let i = 0; i < 50000; i++) {
    const a = i % 2 ? int32() : anyInt();
    const b = i % 3 ? int32() : anyInt();
    assert.equal(saturatingRoundingDoublingHighMul(a, b), saturatingRoundingDoublingHighMulReference(a, b), `${a}·${b}`);
  }
  assert.equal(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN), INT32_MAX, 'the one overflow saturates');
  assert.equal(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MAX), -INT32_MAX);
  assert.equal(saturatingRoundingDoublingHighMul(1 << 30, 1 << 30), 1 << 29);
});

test('RoundingDivideByPOT rounds half away from zero for every exponent', () => {
  assert.equal(roundingDivideByPOT(5, 1), 3);
  assert.equal(roundingDivideByPOT(-5, 1), -3);
  assert.equal(roundingDivideByPOT(-6, 2), -2);
  assert.equal(roundingDivideByPOT(-5, 2), -1);
  for (let e = 0; e <= 31; e++) {
    for (const x of EDGES) assert.equal(roundingDivideByPOT(x, e), roundingDivideByPOTReference(x, e), `${x} >> ${e}`);
    for (let i = 0; i < 2000; i++) {
      const x = anyInt();
      assert.equal(roundingDivideByPOT(x, e), roundingDivideByPOTReference(x, e), `${x} >> ${e}`);
    }
  }
});

test('MultiplyByQuantizedMultiplier equals the BigInt reference, left shifts (with wrap) included', () => {
  for (let i = 0; i < 50000; i++) {
    const x = anyInt();
    const m = (1 << 30) + rng.int(1 << 30); // a normalised Q31 mantissa
    const shift = rng.int(40) - 31; // -31..8
    assert.equal(multiplyByQuantizedMultiplier(x, m, shift), multiplyByQuantizedMultiplierReference(x, m, shift), `${x}·${m}·2^${shift}`);
  }
  for (const x of EDGES) {
    for (const shift of [-31, -20, -1, 0, 1, 5, 30]) {
      for (const m of [0, 1 << 30, INT32_MAX]) {
        assert.equal(multiplyByQuantizedMultiplier(x, m, shift), multiplyByQuantizedMultiplierReference(x, m, shift));
      }
    }
  }
});

test('single-rounding MultiplyByQuantizedMultiplier (TFLITE_SINGLE_ROUNDING) equals its BigInt reference', () => {
  for (let i = 0; i < 50000; i++) {
    const m = (1 << 30) + rng.int(1 << 30);
    const shift = rng.int(40) - 31; // -31..8
    // Keep the result inside int32, as TFLite requires.
    const x = shift > 0 ? (anyInt() >> shift) | 0 : anyInt();
    assert.equal(multiplyByQuantizedMultiplierSingleRounding(x, m, shift), multiplyByQuantizedMultiplierSingleRoundingReference(x, m, shift), `${x}·${m}·2^${shift}`);
  }
  for (const x of EDGES) {
    for (const shift of [-31, -30, -20, -1, 0]) {
      for (const m of [0, 1 << 30, INT32_MAX]) {
        assert.equal(multiplyByQuantizedMultiplierSingleRounding(x, m, shift), multiplyByQuantizedMultiplierSingleRoundingReference(x, m, shift), `${x}·${m}·2^${shift}`);
      }
    }
  }
  // The two roundings differ for small accumulators: 1 × 0.278 is 1 with double rounding, 0 with single.
  const { multiplier, shift } = quantizeMultiplier(0.2783);
  assert.equal(multiplyByQuantizedMultiplier(1, multiplier, shift), 1);
  assert.equal(multiplyByQuantizedMultiplierSingleRounding(1, multiplier, shift), 0);
});

test('MultiplyByQuantizedMultiplier approximates x·M to within one unit', () => {
  for (let i = 0; i < 20000; i++) {
    const real = Math.exp(rng.next() * 12 - 10); // 4.5e-5 .. 7.4
    const { multiplier, shift } = quantizeMultiplier(real);
    const x = (int32() >> 8) | 0; // |x| < 2^23, so x·M fits in int32
    const exact = x * real;
    assert.ok(Math.abs(multiplyByQuantizedMultiplier(x, multiplier, shift) - exact) <= 1.0000001, `${x} · ${real}`);
    assert.ok(Math.abs(multiplyByQuantizedMultiplierSingleRounding(x, multiplier, shift) - exact) <= 0.5000001 + Math.abs(x) * 2 ** -31, `${x} · ${real}`);
  }
});

test('QuantizeMultiplier: Q31 mantissa in [2^30, 2^31), power-of-two exponent, edge cases', () => {
  for (let i = 0; i < 10000; i++) {
    const real = Math.exp(rng.next() * 30 - 20); // 2e-9 .. 2.2e4
    const { multiplier, shift } = quantizeMultiplier(real);
    assert.ok(multiplier >= 2 ** 30 && multiplier < 2 ** 31, `${real}: ${multiplier}`);
    const back = multiplier * 2 ** (shift - 31);
    assert.ok(Math.abs(back - real) / real <= 2 ** -31, `${real} vs ${back}`);
  }
  assert.deepEqual(quantizeMultiplier(0), { multiplier: 0, shift: 0 });
  assert.deepEqual(quantizeMultiplier(1), { multiplier: 2 ** 30, shift: 1 });
  assert.deepEqual(quantizeMultiplier(0.5), { multiplier: 2 ** 30, shift: 0 });
  assert.deepEqual(quantizeMultiplier(1 - 2 ** -33), { multiplier: 2 ** 30, shift: 1 }, 'rounding up to 2^31 moves to the next exponent');
  assert.deepEqual(quantizeMultiplier(2 ** -40), { multiplier: 0, shift: 0 }, 'shifts below -31 flush to zero');
  assert.deepEqual(quantizeMultiplier(2 ** 40), { multiplier: INT32_MAX, shift: 30 }, 'shifts above 30 saturate');
  assert.throws(() => quantizeMultiplier(-1));
});
