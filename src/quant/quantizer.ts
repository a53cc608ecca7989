/**
 * Uniform quantizer arithmetic on plain Float32Arrays: integer ranges, scales and zero points, quantize and
 * dequantize, per tensor or per channel. This is the reference the tf fake-quant ops and the integer path are
 * tested against.
 *
 * The affine map is `real = scale · (q − zeroPoint)` with integer `q ∈ [qmin, qmax]` (Jacob et al. 2018,
 * "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference",
 * arXiv 1712.05877). Conventions follow TFLite:
 * - symmetric grids use the narrow range `±(2^(b−1) − 1)` with zero point 0 (TFLite's int8 weights);
 * - affine grids use `[−2^(b−1), 2^(b−1) − 1]` (int8 storage) and an integer zero point chosen so that real 0
 *   is exactly representable (the range is widened to contain 0 and "nudged");
 * - scales are float32 values (what a deployed model stores);
 * - rounding to nearest is half away from zero (C's `round`, TFLite's `TfLiteRound`).
 */
import { QrobustError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { roundHalfAway } from './rounding.js';
import type { Granularity, QuantScheme } from './spec.js';

/** Quantization parameters of one tensor; JSON-serialisable. */
export interface QuantParams {
  readonly bits: number;
  readonly scheme: QuantScheme;
  readonly qmin: number;
  readonly qmax: number;
  /** One scale per channel (per-channel, along the tensor's last axis) or a single scale (per tensor). */
  readonly scale: readonly number[];
  /** Same length as `scale`. */
  readonly zeroPoint: readonly number[];
  readonly granularity: Granularity;
}

/** The integer range of a `bits`-wide grid: narrow and symmetric, or full and signed (affine). */
export function integerRange(bits: number, scheme: QuantScheme): { qmin: number; qmax: number } {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new QrobustError('invalid_quant_spec', `bits must be an integer from 1 to 16, got ${bits}`);
  const half = 2 ** (bits - 1);
  if (scheme === 'symmetric') {
    if (bits < 2) throw new QrobustError('invalid_quant_spec', 'a symmetric grid needs at least 2 bits');
    return { qmin: -(half - 1), qmax: half - 1 };
  }
  return { qmin: -half, qmax: half - 1 };
}

/** `x` rounded down or up at random with probability given by the fraction (unbiased; for training only). */
export function roundStochastic(x: number, rng: Rng): number {
  return Math.floor(x + rng.next());
}

/** Scale and zero point of one channel whose values lie in [min, max]. */
export function channelParams(min: number, max: number, qmin: number, qmax: number, scheme: QuantScheme): { scale: number; zeroPoint: number } {
  if (!(min <= max) || !Number.isFinite(min) || !Number.isFinite(max)) {
    throw new QrobustError('invalid_quant_spec', `a quantization range must be finite with min <= max, got [${min}, ${max}]`);
  }
  if (scheme === 'symmetric') {
    const amax = Math.max(Math.abs(min), Math.abs(max));
    const scale = Math.fround(amax / qmax);
    return { scale: scale > 0 && Number.isFinite(scale) ? scale : 1, zeroPoint: 0 };
  }
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  let scale = Math.fround((hi - lo) / (qmax - qmin));
  if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfAway(qmin - lo / scale)));
  return { scale, zeroPoint };
}

/** Parameters for a tensor from per-channel (or single) ranges. */
export function paramsFromRanges(
  mins: readonly number[],
  maxs: readonly number[],
  bits: number,
  scheme: QuantScheme,
  granularity: Granularity,
): QuantParams {
  const { qmin, qmax } = integerRange(bits, scheme);
  const scale: number[] = [];
  const zeroPoint: number[] = [];
  for (let c = 0; c < mins.length; c++) {
    const p = channelParams(mins[c]!, maxs[c]!, qmin, qmax, scheme);
    scale.push(p.scale);
    zeroPoint.push(p.zeroPoint);
  }
  return { bits, scheme, qmin, qmax, scale, zeroPoint, granularity };
}

/**
 * Number of channels for a granularity: 1 per tensor, the size of the last axis per channel.
 * @throws QrobustError when per-channel quantization is asked for a tensor with no channel axis (rank < 2).
 */
export function channelCount(shape: readonly number[], granularity: Granularity, what = 'tensor'): number {
  if (granularity === 'per-tensor') return 1;
  if (shape.length < 2) {
    throw new QrobustError(
      'invalid_quant_spec',
      `per-channel quantization needs an output-channel axis, but ${what} has shape [${shape.join(',')}]; use per-tensor`,
    );
  }
  return shape[shape.length - 1]!;
}

/** Per-channel minimum and maximum along the last axis (`channels` = 1 for the whole tensor). */
export function channelRanges(values: Float32Array, channels: number): { mins: number[]; maxs: number[] } {
  const mins = new Array<number>(channels).fill(Infinity);
  const maxs = new Array<number>(channels).fill(-Infinity);
  for (let i = 0; i < values.length; i++) {
    const c = channels === 1 ? 0 : i % channels;
    const v = values[i]!;
    if (v < mins[c]!) mins[c] = v;
    if (v > maxs[c]!) maxs[c] = v;
  }
  for (let c = 0; c < channels; c++) {
    if (mins[c] === Infinity) {
      mins[c] = 0;
      maxs[c] = 0;
    }
  }
  return { mins, maxs };
}

/** Min-max parameters of a tensor of the given shape (per tensor, or per channel along the last axis). */
export function minMaxParams(values: Float32Array, shape: readonly number[], bits: number, scheme: QuantScheme, granularity: Granularity): QuantParams {
  const { mins, maxs } = channelRanges(values, channelCount(shape, granularity));
  return paramsFromRanges(mins, maxs, bits, scheme, granularity);
}

/** Options for `quantizeArray`. */
export interface RoundingOptions {
  /** Default 'nearest'; 'stochastic' needs `rng`. */
  readonly rounding?: 'nearest' | 'stochastic';
  readonly rng?: Rng;
}

/** One value on the grid of channel `c`: `clamp(round(x / scale) + zeroPoint, qmin, qmax)`. */
export function quantizeValue(x: number, p: QuantParams, c = 0): number {
  const q = roundHalfAway(x / p.scale[c]!) + p.zeroPoint[c]!;
  return q < p.qmin ? p.qmin : q > p.qmax ? p.qmax : q;
}

/** Integer codes of a tensor (channel = index mod the number of scales). Codes fit in int8 for bits <= 8. */
export function quantizeArray(values: Float32Array, p: QuantParams, options: RoundingOptions = {}): Int32Array {
  const channels = p.scale.length;
  const out = new Int32Array(values.length);
  const stochastic = options.rounding === 'stochastic';
  if (stochastic && !options.rng) throw new QrobustError('invalid_argument', 'stochastic rounding needs an rng');
  for (let i = 0; i < values.length; i++) {
    const c = channels === 1 ? 0 : i % channels;
    const v = values[i]! / p.scale[c]!;
    const q = (stochastic ? roundStochastic(v, options.rng!) : roundHalfAway(v)) + p.zeroPoint[c]!;
    out[i] = q < p.qmin ? p.qmin : q > p.qmax ? p.qmax : q;
  }
  return out;
}

/** Real values of integer codes: `scale · (q − zeroPoint)`, as float32. */
export function dequantizeArray(codes: ArrayLike<number>, p: QuantParams): Float32Array {
  const channels = p.scale.length;
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const c = channels === 1 ? 0 : i % channels;
    out[i] = p.scale[c]! * (codes[i]! - p.zeroPoint[c]!);
  }
  return out;
}

/** Quantize then dequantize: the value the quantized model computes with. */
export function fakeQuantArray(values: Float32Array, p: QuantParams, options: RoundingOptions = {}): Float32Array {
  return dequantizeArray(quantizeArray(values, p, options), p);
}

/** The real interval a channel's grid covers: `[scale·(qmin − zp), scale·(qmax − zp)]` (the clipping range). */
export function clippingRange(p: QuantParams, c = 0): readonly [number, number] {
  return [p.scale[c]! * (p.qmin - p.zeroPoint[c]!), p.scale[c]! * (p.qmax - p.zeroPoint[c]!)];
}
