/**
 * The on-the-fly input quantizer of TFLite's dynamic-range ("hybrid") kernels, one batch row at a time, in
 * float32 arithmetic as the C++ source performs it (tensorflow/lite/kernels/internal/reference/
 * portable_tensor_utils.cc: SymmetricQuantizeFloats, AsymmetricQuantizeFloats; the row loop is
 * tensor_utils::BatchQuantizeFloats, called from fully_connected.cc EvalHybridDense).
 *
 * - Symmetric: range = max(|min|, |max|) of the row; if 0, every code is 0 and the scale is 1. Otherwise
 *   scale = range / 127 and codes are round(x · (127 / range)), both quotients rounded to float32, the product
 *   rounded to float32 before rounding half away from zero, clamped to [−127, 127].
 * - Asymmetric: the range [min(0, min), max(0, max)] is mapped to [−128, 127]: scale = (rmax − rmin) / 255
 *   (in double, stored as float32), the zero point is taken from whichever end gives the smaller error,
 *   clamped to [−128, 127] and rounded; codes are round(zp + x · (1 / scale)) clamped to [−128, 127]. A row
 *   that is all zeros gets scale 0 and zero point 0 (all codes 0).
 */
import { roundHalfAway, roundHalfEven } from '../rounding.js';

const f32 = Math.fround;

function rowMinMax(x: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return x.length === 0 ? [0, 0] : [lo, hi];
}

/** Quantizes `x` into `out` (same length) symmetrically; returns the row's scale (float32). */
export function quantizeRowSymmetric(x: Float32Array, out: Int8Array | Int16Array): number {
  const [lo, hi] = rowMinMax(x);
  const range = Math.max(Math.abs(lo), Math.abs(hi));
  if (range === 0) {
    out.fill(0);
    return 1;
  }
  const inv = f32(127 / range);
  for (let i = 0; i < x.length; i++) {
    const q = roundHalfAway(f32(x[i]! * inv));
    out[i] = q > 127 ? 127 : q < -127 ? -127 : q;
  }
  return f32(range / 127);
}

export interface AsymmetricRow {
  /** float32 */
  readonly scale: number;
  readonly zeroPoint: number;
}

/** Quantizes `x` into `out` (same length) asymmetrically; returns the row's scale and zero point. */
export function quantizeRowAsymmetric(x: Float32Array, out: Int8Array | Int16Array): AsymmetricRow {
  const [lo, hi] = rowMinMax(x);
  const rmin = Math.min(0, lo);
  const rmax = Math.max(0, hi);
  let scale = 0;
  let zeroPoint = 0;
  if (rmin !== rmax) {
    const qmin = -128;
    const qmax = 127;
    const s = f32(rmax - rmin) / (qmax - qmin);
    const fromMin = qmin - rmin / s;
    const fromMax = qmax - rmax / s;
    const errMin = Math.abs(qmin) + Math.abs(rmin / s);
    const errMax = Math.abs(qmax) + Math.abs(rmax / s);
    const zp = errMin < errMax ? fromMin : fromMax;
    zeroPoint = zp < qmin ? qmin : zp > qmax ? qmax : roundHalfAway(zp);
    scale = f32(s);
  }
  const inv = scale === 0 ? 0 : f32(1 / scale);
  for (let i = 0; i < x.length; i++) {
    const q = roundHalfAway(f32(zeroPoint + f32(x[i]! * inv)));
    out[i] = q > 127 ? 127 : q < -128 ? -128 : q;
  }
  return { scale, zeroPoint };
}

/**
 * ONNX's `DynamicQuantizeLinear` over one example's whole tensor, in ONNX Runtime's float32 arithmetic
 * (onnxruntime/core/providers/cpu/quantization: the min-max parameters, then MLAS's QuantizeLinear): the range
 * [min(0, min), max(0, max)] is mapped to [0, 255]; scale = (rmax − rmin) / 255 in float32 (1 when the range is
 * empty); zero point = round half to even of clamp(−rmin / scale, 0, 255); codes = clamp(round half to even of
 * x / scale, in float32, plus the zero point, 0, 255). Writes uint8 codes into `out`.
 */
export function quantizeDynamicLinear(x: Float32Array, out: Int16Array): AsymmetricRow {
  const [lo, hi] = rowMinMax(x);
  const rmin = Math.min(0, lo);
  const rmax = Math.max(0, hi);
  const scale = rmax === rmin ? 1 : f32(f32(rmax - rmin) / 255);
  const initial = f32(0 - f32(rmin / scale));
  const zeroPoint = roundHalfEven(initial < 0 ? 0 : initial > 255 ? 255 : initial);
  for (let i = 0; i < x.length; i++) {
    const q = roundHalfEven(f32(x[i]! / scale)) + zeroPoint;
    out[i] = q < 0 ? 0 : q > 255 ? 255 : q;
  }
  return { scale, zeroPoint };
}

/**
 * The vector a hybrid layer effectively multiplies by its dequantized weights: `x` (rounded to float32, as the
 * runtime receives it) quantized by the scheme and dequantized again, (code − zero point) · scale, in float64.
 */
export function dynamicallyQuantized(scheme: 'symmetric' | 'asymmetric' | 'dynamic-quantize-linear', x: ArrayLike<number>): Float64Array {
  const x32 = Float32Array.from(x);
  const codes = new Int16Array(x32.length);
  let scale: number;
  let zeroPoint = 0;
  if (scheme === 'symmetric') {
    scale = quantizeRowSymmetric(x32, codes);
  } else {
    const row = scheme === 'asymmetric' ? quantizeRowAsymmetric(x32, codes) : quantizeDynamicLinear(x32, codes);
    scale = row.scale;
    zeroPoint = row.zeroPoint;
  }
  return Float64Array.from(codes, (q) => (q - zeroPoint) * scale);
}
