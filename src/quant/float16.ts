/**
 * Rounding to IEEE 754 binary16 (half precision): round to nearest, ties to even, with subnormals and overflow
 * to ±Infinity, returned as an ordinary number. Used for `float16` weights.
 */
import { roundHalfEven } from './rounding.js';

const MAX_HALF = 65504;
const MIN_NORMAL = 2 ** -14;
const SUBNORMAL_STEP = 2 ** -24;

/** The binary16 value nearest to `x`. */
export function roundToFloat16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  let r: number;
  if (a < MIN_NORMAL) {
    r = roundHalfEven(a / SUBNORMAL_STEP) * SUBNORMAL_STEP;
  } else {
    let e = Math.floor(Math.log2(a));
    if (2 ** e > a) e--;
    else if (2 ** (e + 1) <= a) e++;
    const step = 2 ** (e - 10);
    r = roundHalfEven(a / step) * step;
    // Halfway between MAX_HALF and 2^16 (65520) and above overflow to infinity.
    if (r > MAX_HALF) r = Infinity;
  }
  return x < 0 ? -r : r;
}

/** Every element rounded to binary16 (stored back as float32, which holds every binary16 value exactly). */
export function roundArrayToFloat16(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = roundToFloat16(values[i]!);
  return out;
}
