/**
 * Fixed-point requantization as deployed integer kernels do it (gemmlowp / TFLite reference semantics, Jacob
 * et al. 2018, arXiv 1712.05877, §2.2): a real multiplier M > 0 is stored as an int32 Q31 mantissa M0 in
 * [2^30, 2^31) and a power-of-two exponent, and `x · M` is computed as
 *
 *     RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x · 2^left, M0), right)
 *
 * with `left = max(shift, 0)`, `right = max(−shift, 0)` (TFLite's default build; two roundings), or, as TFLite
 * Micro and CMSIS-NN build it (`TFLITE_SINGLE_ROUNDING`), as one 64-bit product rounded once. The 64-bit
 * product of two int32 values is exact here without BigInt: the multiplier is split into 16-bit limbs so every
 * partial product stays below 2^53. BigInt versions (`…Reference`) state the same arithmetic directly; tests
 * check the two agree.
 */
import { QrobustError } from '../../core/errors.js';

const TWO31 = 2147483648;
const TWO30 = 1073741824;
const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;
/** Products below 2^52 in magnitude are exact doubles, and so is adding a rounding term below 2^52. */
const FAST_LIMIT = 2 ** 52;
/** 2^i for i = 0..63. */
const POW2 = Float64Array.from({ length: 64 }, (_, i) => 2 ** i);

/** A real multiplier as an int32 Q31 mantissa and a shift: M ≈ multiplier · 2^(shift − 31). */
export interface QuantizedMultiplier {
  readonly multiplier: number;
  readonly shift: number;
}

/**
 * Decomposes a real multiplier M ≥ 0 like TFLite's `QuantizeMultiplier`: M = q · 2^shift with q in [0.5, 1),
 * multiplier = round(q · 2^31) (half away from zero; 2^31 is folded into the exponent); shifts below −31
 * give multiplier 0, shifts above 30 saturate to (2^31 − 1, 30).
 */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (!(real >= 0) || !Number.isFinite(real)) throw new QrobustError('invalid_argument', `a requantization multiplier must be finite and >= 0, got ${real}`);
  if (real === 0) return { multiplier: 0, shift: 0 };
  let shift = Math.ceil(Math.log2(real));
  let q = real / 2 ** shift;
  while (q >= 1) {
    q /= 2;
    shift++;
  }
  while (q < 0.5) {
    q *= 2;
    shift--;
  }
  let fixed = Math.round(q * TWO31);
  if (fixed === TWO31) {
    fixed /= 2;
    shift++;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  if (shift > 30) return { multiplier: INT32_MAX, shift: 30 };
  return { multiplier: fixed, shift };
}

/** The exact 64-bit product of two int32 values as `hi·2^31 + lo` with 0 <= lo < 2^31 (both exact doubles). */
let productHi = 0;
let productLo = 0;
function mulExact(a: number, b: number): void {
  // b = bh·2^16 + bl with 0 <= bl < 2^16, so a·b = p1·2^16 + p0 with |p1| <= 2^46, |p0| < 2^47.
  const bh = Math.floor(b / 65536);
  const p1 = a * bh;
  const p0 = a * (b - bh * 65536);
  // p1 = q1·2^15 + r1 with 0 <= r1 < 2^15, so a·b = q1·2^31 + rem with |rem| < 2^48.
  const q1 = Math.floor(p1 / 32768);
  const rem = (p1 - q1 * 32768) * 65536 + p0;
  const rq = Math.floor(rem / TWO31);
  productHi = q1 + rq;
  productLo = rem - rq * TWO31;
}

/**
 * The high 32 bits of 2·a·b, rounded to nearest (ties away from zero), with the single overflow case
 * a = b = INT32_MIN saturating to INT32_MAX. `a`, `b` are int32.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const direct = a * b;
  if (direct > -FAST_LIMIT && direct < FAST_LIMIT) {
    // The product and the nudged sum are exact doubles; `| 0` truncates toward zero (the quotient is < 2^21).
    return ((direct + (direct >= 0 ? TWO30 : 1 - TWO30)) / TWO31) | 0;
  }
  mulExact(a, b);
  const negative = (a < 0 && b > 0) || (a > 0 && b < 0);
  // (a·b + nudge) / 2^31 truncated toward zero; the sum's sign is the product's sign.
  const t = productLo + (negative ? 1 - TWO30 : TWO30); // |t| < 2^32
  const tq = Math.floor(t / TWO31);
  const floor = productHi + tq;
  return negative && t - tq * TWO31 !== 0 ? floor + 1 : floor;
}

/** x / 2^exponent rounded to nearest, ties away from zero (gemmlowp's RoundingDivideByPOT); 0 <= exponent <= 31. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  const mask = exponent === 31 ? 0x7fffffff : (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * x · M for an int32 accumulator x and M given as (multiplier, shift), TFLite's `MultiplyByQuantizedMultiplier`
 * (the double-rounding form). A left shift that overflows int32 wraps (two's complement), as compiled C does.
 */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const shifted = left > 0 ? Math.imul(x, 1 << left) : x;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(shifted, multiplier), right);
}

/**
 * x · M with a single rounding, TFLite's `MultiplyByQuantizedMultiplier` when built with
 * `TFLITE_SINGLE_ROUNDING` (TFLite Micro / CMSIS-NN): `(x·M0 + 2^(s−1)) >> s` with s = 31 − shift, in 64 bits
 * (round half up). The result is assumed to fit int32, as TFLite checks.
 */
export function multiplyByQuantizedMultiplierSingleRounding(x: number, multiplier: number, shift: number): number {
  const total = 31 - shift; // 1..62
  const direct = x * multiplier;
  if (total <= 52 && direct > -FAST_LIMIT && direct < FAST_LIMIT) return Math.floor((direct + POW2[total - 1]!) / POW2[total]!);
  mulExact(x, multiplier);
  if (total <= 31) {
    // hi·2^31 is a multiple of 2^total.
    return productHi * POW2[31 - total]! + Math.floor((productLo + POW2[total - 1]!) / POW2[total]!);
  }
  // With d = total − 31: floor((hi·2^31 + lo + 2^(total−1)) / 2^total) = floor((hi + 2^(d−1)) / 2^d), as 0 <= lo < 2^31.
  const d = total - 31;
  return Math.floor((productHi + POW2[d - 1]!) / POW2[d]!);
}

/**
 * Which requantization the integer path uses: TFLite's default fixed-point form ('double': two roundings),
 * TFLITE_SINGLE_ROUNDING ('single'), ONNX Runtime's ('onnxruntime': the int32 accumulator converted to
 * float32, multiplied by the float32 multiplier s_in·s_w/s_out, rounded half to even, as its QLinearConv and
 * QLinearMatMul kernels do; its QuantizeLinear also rounds half to even), or exact fixed-point arithmetic
 * ('half-away': acc · M rounded half away from zero, for a multiplier M that is a power of two, as in the
 * fixed-point networks of Henzinger et al.; exact in float64).
 */
export type RequantRounding = 'double' | 'single' | 'onnxruntime' | 'half-away';
export const REQUANT_ROUNDINGS: readonly RequantRounding[] = ['double', 'single', 'onnxruntime', 'half-away'];

/** BigInt statement of `multiplyByQuantizedMultiplierSingleRounding`. */
export function multiplyByQuantizedMultiplierSingleRoundingReference(x: number, multiplier: number, shift: number): number {
  const total = BigInt(31 - shift);
  return Number((BigInt(x) * BigInt(multiplier) + (1n << (total - 1n))) >> total); // BigInt >> floors
}

/** BigInt statement of `saturatingRoundingDoublingHighMul`. */
export function saturatingRoundingDoublingHighMulReference(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, like C++
}

/** BigInt statement of `roundingDivideByPOT`: round half away from zero of x / 2^e. */
export function roundingDivideByPOTReference(x: number, exponent: number): number {
  if (exponent === 0) return x;
  const v = BigInt(x);
  const half = 1n << BigInt(exponent - 1);
  const mag = ((v < 0n ? -v : v) + half) >> BigInt(exponent);
  return Number(v < 0n ? -mag : mag);
}

/** BigInt statement of `multiplyByQuantizedMultiplier`. */
export function multiplyByQuantizedMultiplierReference(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const shifted = Number(BigInt.asIntN(32, BigInt(x) << BigInt(left)));
  return roundingDivideByPOTReference(saturatingRoundingDoublingHighMulReference(shifted, multiplier), right);
}
