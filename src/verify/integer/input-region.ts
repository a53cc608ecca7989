/**
 * The input region in integer codes. The deployed program quantizes float32 pixels once
 * (`quantizeInput` in the integer kernels: normalize in float32, divide by the scale, add the zero point, round
 * half away from zero, clamp). Every one of those operations is monotone non-decreasing, so a pixel interval
 * [lo, hi] maps to the code interval [code(lo), code(hi)]: the verifiers reason over integer codes, and a code
 * vector they return is turned back into float32 pixels inside the box by binary search over float32 values.
 */
import { roundHalfAway, roundHalfEven } from '../../quant/rounding.js';
import type { QuantizeInputOp } from '../../quant/integer/program.js';
import type { Box } from '../property.js';

/** Per input element, the smallest and largest code. */
export interface CodeBox {
  readonly lower: Int32Array;
  readonly upper: Int32Array;
}

/**
 * The input code of one float32 pixel value at element i, bit for bit as `quantizeInput` computes it (with
 * `halfEven`, ONNX Runtime's QuantizeLinear rounding, which integer programs with 'onnxruntime' rounding use).
 */
export function inputCode(op: QuantizeInputOp, i: number, pixel: number, halfEven = false): number {
  const { params, mean, invStd, channels } = op;
  let z = Math.fround(pixel);
  if (mean && invStd) {
    const c = mean.length === 1 ? 0 : i % channels;
    z = Math.fround(Math.fround(z - mean[c]!) * invStd[c]!);
  }
  const q = halfEven
    ? roundHalfEven(Math.fround(z / params.scale[0]!)) + params.zeroPoint[0]!
    : roundHalfAway(Math.fround(Math.fround(z / params.scale[0]!) + params.zeroPoint[0]!));
  return q < params.qmin ? params.qmin : q > params.qmax ? params.qmax : q;
}

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** A key that orders float32 values as integers (−0 and +0 share 0). */
function keyOf(f: number): number {
  F32[0] = f;
  const b = I32[0]!;
  return b >= 0 ? b : -(b & 0x7fffffff);
}

function floatOfKey(k: number): number {
  I32[0] = k >= 0 ? k : -k | 0x80000000;
  return F32[0]!;
}

/** The smallest float32 ≥ x, and the largest float32 ≤ x. */
export function float32AtLeast(x: number): number {
  const f = Math.fround(x);
  return f >= x ? f : floatOfKey(keyOf(f) + 1);
}

export function float32AtMost(x: number): number {
  const f = Math.fround(x);
  return f <= x ? f : floatOfKey(keyOf(f) - 1);
}

/** The code interval of every element over the float32 pixels of the box. */
export function codeBox(op: QuantizeInputOp, box: Box, halfEven = false): CodeBox {
  const lower = new Int32Array(op.size);
  const upper = new Int32Array(op.size);
  for (let i = 0; i < op.size; i++) {
    let a = float32AtLeast(box.lower[i]!);
    let b = float32AtMost(box.upper[i]!);
    // An interval narrower than float32 spacing holds no float32 pixel; take its nearest float32 value.
    if (a > b) a = b = Math.fround(box.lower[i]!);
    lower[i] = inputCode(op, i, a, halfEven);
    upper[i] = inputCode(op, i, b, halfEven);
  }
  return { lower, upper };
}

/**
 * A float32 pixel in [lo, hi] whose code at element i is `code` (the smallest such pixel), or null when no
 * float32 value in the interval has that code.
 */
export function pixelForCode(op: QuantizeInputOp, i: number, code: number, lo: number, hi: number, halfEven = false): number | null {
  let a = keyOf(float32AtLeast(lo));
  let b = keyOf(float32AtMost(hi));
  if (a > b) return null;
  if (inputCode(op, i, floatOfKey(b), halfEven) < code) return null;
  // The first key in [a, b] whose code is ≥ code (monotone).
  while (a < b) {
    const mid = a + Math.floor((b - a) / 2);
    if (inputCode(op, i, floatOfKey(mid), halfEven) >= code) b = mid;
    else a = mid + 1;
  }
  const p = floatOfKey(a);
  return inputCode(op, i, p, halfEven) === code ? p : null;
}

/** Float32 pixels in the box with exactly the given input codes, or null when one code has no pixel. */
export function pixelsForCodes(op: QuantizeInputOp, codes: ArrayLike<number>, box: Box, halfEven = false): Float32Array | null {
  const out = new Float32Array(op.size);
  for (let i = 0; i < op.size; i++) {
    const p = pixelForCode(op, i, codes[i]!, box.lower[i]!, box.upper[i]!, halfEven);
    if (p === null) return null;
    out[i] = p;
  }
  return out;
}
