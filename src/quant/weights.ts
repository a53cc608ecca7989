/**
 * Weight quantization of a conv2d or dense kernel (output channels on the last axis): uniform k-bit, binary
 * (XNOR-Net), ternary (TWN), DoReFa k-bit or float16. Split in two steps so that a saved model can be rebuilt exactly:
 * `weightRecord` computes the parameters (what `qrobust.json` stores), `applyWeightRecord` turns float weights
 * plus a record into integer codes and the dequantized kernel, deterministically.
 */
import { QrobustError } from '../core/errors.js';
import { roundArrayToFloat16 } from './float16.js';
import { channelCount, dequantizeArray, minMaxParams, quantizeArray, type QuantParams } from './quantizer.js';
import { roundHalfAway } from './rounding.js';
import type { WeightQuantSpec } from './spec.js';

/** How one kernel is quantized; JSON-serialisable. */
export type WeightQuantRecord =
  | { readonly kind: 'float16' }
  | { readonly kind: 'uniform'; readonly params: QuantParams }
  /** sign(w) · α (codes ±1), α per channel or per tensor in `params.scale`. */
  | { readonly kind: 'binary'; readonly params: QuantParams }
  /** α · {−1, 0, +1} with codes ±1 where |w| > Δ (`threshold`, one per channel or one per tensor). */
  | { readonly kind: 'ternary'; readonly params: QuantParams; readonly threshold: readonly number[] }
  /**
   * DoReFa k-bit (Zhou et al. 2016, arXiv 1606.06160): `α · (2·q_k(tanh(w)/(2m) + 1/2) − 1)` with
   * `q_k(v) = round((2^k − 1)·v)/(2^k − 1)` and `m = max|tanh w|` (`tanhMax`, per channel or per tensor). The
   * 2^k levels are the odd codes −(2^k − 1), …, −1, 1, …, 2^k − 1 times `params.scale` = α/(2^k − 1), so
   * `params` is the (k+1)-bit narrow symmetric grid and α = max|w|.
   */
  | { readonly kind: 'dorefa'; readonly params: QuantParams; readonly tanhMax: readonly number[] };

/** A kernel after quantization. */
export interface QuantizedKernel {
  readonly record: WeightQuantRecord;
  /** Integer codes (zero point included) for uniform, binary and ternary; null for float16. */
  readonly codes: Int32Array | null;
  /** The kernel the quantized model computes with, same layout as the float kernel. */
  readonly dequantized: Float32Array;
}

/** TWN's threshold factor: Δ = 0.7 · mean |w| (Li et al. 2016, arXiv 1605.04711). */
export const TERNARY_THRESHOLD_FACTOR = 0.7;

function meanAbsPerChannel(w: Float32Array, channels: number, include?: (abs: number, c: number) => boolean): number[] {
  const sum = new Array<number>(channels).fill(0);
  const count = new Array<number>(channels).fill(0);
  for (let i = 0; i < w.length; i++) {
    const c = channels === 1 ? 0 : i % channels;
    const a = Math.abs(w[i]!);
    if (include && !include(a, c)) continue;
    sum[c]! += a;
    count[c]!++;
  }
  return sum.map((s, c) => (count[c]! > 0 ? s / count[c]! : 0));
}

function signParams(alpha: readonly number[], bits: number, spec: WeightQuantSpec, levels = 1): QuantParams {
  // A channel whose weights are all zero gets scale 1 and codes 0 (see applyWeightRecord).
  const scale = alpha.map((a) => (a > 0 ? Math.fround(a / levels) : 1));
  return { bits, scheme: 'symmetric', qmin: -levels, qmax: levels, scale, zeroPoint: scale.map(() => 0), granularity: spec.granularity };
}

function maxPerChannel(w: Float32Array, channels: number, f: (x: number) => number): number[] {
  const out = new Array<number>(channels).fill(0);
  for (let i = 0; i < w.length; i++) {
    const c = channels === 1 ? 0 : i % channels;
    const v = Math.abs(f(w[i]!));
    if (v > out[c]!) out[c] = v;
  }
  return out;
}

/** The largest DoReFa code, 2^k − 1 (the codes are the odd integers up to it). */
export function dorefaLevels(bits: number): number {
  return 2 ** bits - 1;
}

/** The DoReFa code of one weight: `2·round(L·(tanh(w)/(2m) + 1/2)) − L` with L = 2^k − 1 (0 when m = 0). */
export function dorefaCode(w: number, tanhMax: number, levels: number): number {
  if (!(tanhMax > 0)) return 0;
  return 2 * roundHalfAway(levels * (Math.tanh(w) / (2 * tanhMax) + 0.5)) - levels;
}

/**
 * The quantization record of a kernel under a weight spec.
 * @param shape the kernel shape; its last axis is the output-channel axis used by per-channel granularity.
 */
export function weightRecord(kernel: Float32Array, shape: readonly number[], spec: WeightQuantSpec, what = 'kernel'): WeightQuantRecord {
  if (spec.bits === 'float16') return { kind: 'float16' };
  const channels = channelCount(shape, spec.granularity, what);
  switch (spec.kind) {
    case 'uniform':
      return { kind: 'uniform', params: minMaxParams(kernel, shape, spec.bits, spec.scheme, spec.granularity) };
    case 'binary':
      return { kind: 'binary', params: signParams(meanAbsPerChannel(kernel, channels), 1, spec) };
    case 'ternary': {
      const threshold = meanAbsPerChannel(kernel, channels).map((m) => TERNARY_THRESHOLD_FACTOR * m);
      const alpha = meanAbsPerChannel(kernel, channels, (a, c) => a > threshold[c]!);
      return { kind: 'ternary', params: signParams(alpha, 2, spec), threshold };
    }
    case 'dorefa': {
      const levels = dorefaLevels(spec.bits);
      const alpha = maxPerChannel(kernel, channels, (x) => x);
      const tanhMax = maxPerChannel(kernel, channels, Math.tanh);
      return { kind: 'dorefa', params: signParams(alpha, spec.bits + 1, spec, levels), tanhMax };
    }
  }
}

/** Integer codes and dequantized kernel for a record (deterministic: the same float weights give the same codes). */
export function applyWeightRecord(kernel: Float32Array, record: WeightQuantRecord): QuantizedKernel {
  switch (record.kind) {
    case 'float16':
      return { record, codes: null, dequantized: roundArrayToFloat16(kernel) };
    case 'uniform': {
      const codes = quantizeArray(kernel, record.params);
      return { record, codes, dequantized: dequantizeArray(codes, record.params) };
    }
    case 'binary':
    case 'ternary': {
      const channels = record.params.scale.length;
      const zeroChannel = zeroChannels(kernel, channels);
      const codes = new Int32Array(kernel.length);
      for (let i = 0; i < kernel.length; i++) {
        const c = channels === 1 ? 0 : i % channels;
        const w = kernel[i]!;
        if (zeroChannel[c]) codes[i] = 0;
        else if (record.kind === 'binary') codes[i] = w >= 0 ? 1 : -1;
        else codes[i] = w > record.threshold[c]! ? 1 : w < -record.threshold[c]! ? -1 : 0;
      }
      return { record, codes, dequantized: dequantizeArray(codes, record.params) };
    }
    case 'dorefa': {
      const channels = record.params.scale.length;
      const levels = record.params.qmax;
      const codes = new Int32Array(kernel.length);
      for (let i = 0; i < kernel.length; i++) codes[i] = dorefaCode(kernel[i]!, record.tanhMax[channels === 1 ? 0 : i % channels]!, levels);
      return { record, codes, dequantized: dequantizeArray(codes, record.params) };
    }
  }
}

function zeroChannels(kernel: Float32Array, channels: number): boolean[] {
  const zero = new Array<boolean>(channels).fill(true);
  for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) zero[channels === 1 ? 0 : i % channels] = false;
  return zero;
}

/** `weightRecord` then `applyWeightRecord`. */
export function quantizeKernel(kernel: Float32Array, shape: readonly number[], spec: WeightQuantSpec, what = 'kernel'): QuantizedKernel {
  return applyWeightRecord(kernel, weightRecord(kernel, shape, spec, what));
}

/** The uniform parameters behind a record's integer codes, or null for float16. */
export function recordParams(record: WeightQuantRecord): QuantParams | null {
  return record.kind === 'float16' ? null : record.params;
}

/** Throws unless `record` fits a kernel with `channels` output channels. */
export function checkRecordChannels(record: WeightQuantRecord, channels: number, layer: string): void {
  const p = recordParams(record);
  if (p && p.scale.length !== 1 && p.scale.length !== channels) {
    throw new QrobustError('not_a_model', `layer '${layer}': ${p.scale.length} weight scales for ${channels} output channels`);
  }
}
