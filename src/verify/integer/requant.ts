/**
 * Scalar requantization exactly as the integer kernels compute it (`src/quant/integer/kernels.ts`): the int32
 * accumulator times the fixed-point multiplier (TFLite's double rounding or TFLITE_SINGLE_ROUNDING) or, in ONNX
 * Runtime's form, converted to float32, times the float32 multiplier and rounded half to even; plus the output
 * zero point, clamped. For a non-negative multiplier the map is monotone non-decreasing in the
 * accumulator as long as nothing wraps around in int32, which lets interval bounds and the threshold encodings
 * work with the exact function instead of an approximation of it.
 */
import { requantize } from '../../quant/integer/kernels.js';
import type { Requant } from '../../quant/integer/program.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export { requantize };

/**
 * The real multiplier M the requantization approximates for channel c, and a bound ν on |R(acc) − zp − M·acc|
 * before the clamp for |acc| ≤ maxAbsAcc: the fixed-point forms use M = M0·2^(shift−31) (exact in float64);
 * single rounding rounds once (ν = 1/2), double rounding rounds the high product to 2^−right of a unit and then
 * to a unit (ν = 1/2 + 2^−right/2, which is 1 without a right shift); ONNX Runtime's form uses its float32
 * multiplier, two float32 roundings (relative 2^−24 each) and one rounding to an integer. The bounds assume
 * no int32 wrap-around, which `requantMonotoneOn` checks.
 */
export function requantLinearization(r: Requant, c: number, maxAbsAcc: number): { M: number; noise: number } {
  const k = r.multiplier.length === 1 ? 0 : c;
  if (r.rounding === 'onnxruntime') {
    const M = r.realMultiplier[k]!;
    return { M, noise: 0.5 + maxAbsAcc * Math.abs(M) * 2 ** -22 };
  }
  const M = r.multiplier[k]! * 2 ** (r.shift[k]! - 31);
  // Single rounding: one rounding of acc·M to an integer (so is the exact 'half-away' form). Double rounding:
  // the high multiply rounds to a unit of 2^−right of the result, then the rounding divide by 2^right rounds
  // to an integer.
  if (r.rounding === 'single' || r.rounding === 'half-away') return { M, noise: 0.5 };
  const right = Math.max(-r.shift[k]!, 0);
  return { M, noise: 0.5 + 0.5 * 2 ** -right };
}

/** The multiplier and shift of channel `c`. */
export function channelMultiplier(r: Requant, c: number): { multiplier: number; shift: number } {
  const k = r.multiplier.length === 1 ? 0 : c;
  return { multiplier: r.multiplier[k]!, shift: r.shift[k]! };
}

/**
 * Whether `requantize` is monotone on [accLo, accHi] for channel c: the accumulators fit int32 and, in the
 * double-rounding form, so does the left-shifted accumulator (a wrap-around would break monotonicity).
 */
export function requantMonotoneOn(r: Requant, c: number, accLo: number, accHi: number): boolean {
  if (accLo < INT32_MIN || accHi > INT32_MAX) return false;
  const { multiplier, shift } = channelMultiplier(r, c);
  if (r.rounding === 'onnxruntime') return r.realMultiplier[r.multiplier.length === 1 ? 0 : c]! >= 0;
  if (multiplier < 0) return false;
  if (r.rounding === 'double' && shift > 0) {
    const f = 2 ** shift;
    if (accLo * f < INT32_MIN || accHi * f > INT32_MAX) return false;
  }
  return true;
}

/**
 * The exact step structure of `requantize` on an integer range [accLo, accHi] where it is monotone: the code at
 * accLo (`base`) and the sorted accumulators at which the code goes up by one, so that
 * requantize(acc) = base + #{k : acc ≥ thresholds[k]} for every integer acc in the range. A jump by several
 * codes at one accumulator repeats that threshold. Found by binary search on the exact function.
 */
export function requantThresholds(r: Requant, c: number, accLo: number, accHi: number): { base: number; thresholds: number[] } {
  const base = requantize(accLo, c, r);
  const top = requantize(accHi, c, r);
  const thresholds: number[] = [];
  let from = accLo;
  for (let code = base + 1; code <= top; code++) {
    // The smallest acc in (from, accHi] with requantize(acc) ≥ code.
    let lo = from;
    let hi = accHi;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (requantize(mid, c, r) >= code) hi = mid;
      else lo = mid;
    }
    thresholds.push(hi);
    from = hi - 1;
  }
  return { base, thresholds };
}
