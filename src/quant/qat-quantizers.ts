/**
 * Weight quantizers for quantization-aware training: TF.js ops whose forward pass is the quantizer of the spec
 * and whose backward pass is a straight-through estimator (Bengio et al. 2013, arXiv 1308.3432) to the latent
 * float weights, and the record each one leaves in the saved plan.
 *
 * - `uniform`: a fixed grid per tensor or output channel (set by `weightGridParams` from the current weights,
 *   min-max or MSE, and refreshed by the training loop at the start of every epoch). The gradient passes where
 *   the weight lies inside the grid's clipping range and is zero outside it (Jacob et al. 2018,
 *   arXiv 1712.05877). With MSE ranges the outermost weights are clipped.
 * - `binary`: α·sign(w), α = mean|w| (XNOR-Net: Rastegari et al. 2016, arXiv 1603.05279) with BinaryNet's
 *   gradient `1{|w| ≤ 1}` (Courbariaux et al. 2016, arXiv 1602.02830; α is held constant in the backward pass).
 * - `ternary`: TWN's α·{−1, 0, 1} (Li et al. 2016, arXiv 1605.04711), identity gradient.
 * - `dorefa`: `α · (2·q_k(tanh(w)/(2m) + 1/2) − 1)` (Zhou et al. 2016, arXiv 1606.06160) with only the rounding
 *   straight through: the gradient is `α·(1 − tanh²w)/m`, with α = max|w| and m = max|tanh w| held constant.
 *
 * Scales that depend on the weights (binary, ternary, DoReFa) are recomputed from the current weights on every
 * forward pass, as the papers do; the record saved at the end is `weightRecord` of the final weights.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { mseRange } from './calibration.js';
import { FakeQuantizer, quantizeWeightsTf, roundHalfAwayTf } from './fake-quant.js';
import { channelCount, paramsFromRanges, type QuantParams } from './quantizer.js';
import type { WeightQuantSpec } from './spec.js';
import { dorefaLevels, weightRecord, type WeightQuantRecord } from './weights.js';

/** How a uniform weight grid is set from the weights: their extremes, or the range of least squared error. */
export type WeightRangeRule = 'minmax' | 'mse';

/** BinaryNet's gradient window for binary weights: `1{|w| ≤ 1}`. */
export const BINARY_STE_CLIP = 1;

/**
 * The uniform grid of a kernel (per tensor or per output channel, along the last axis): min-max, or the
 * shrunken range of least quantization MSE (`mseRange`, searched per channel on the weights themselves).
 */
export function weightGridParams(kernel: Float32Array, shape: readonly number[], spec: WeightQuantSpec, rule: WeightRangeRule): QuantParams {
  if (spec.kind !== 'uniform' || spec.bits === 'float16') {
    throw new QrobustError('invalid_quant_spec', `weightGridParams needs a uniform integer weight spec, got ${spec.kind} ${spec.bits}`);
  }
  const channels = channelCount(shape, spec.granularity);
  const mins: number[] = [];
  const maxs: number[] = [];
  const per = kernel.length / channels;
  const values = new Float32Array(per);
  for (let c = 0; c < channels; c++) {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < per; i++) {
      const v = kernel[i * channels + c]!;
      values[i] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (spec.scheme === 'symmetric') {
      const a = Math.max(-lo, hi);
      lo = -a;
      hi = a;
    }
    const r = rule === 'mse' ? mseRange(values, lo, hi, spec.bits, spec.scheme) : { min: lo, max: hi };
    mins.push(r.min);
    maxs.push(r.max);
  }
  return paramsFromRanges(mins, maxs, spec.bits, spec.scheme, spec.granularity);
}

/** Reduction axes of per-tensor (all) or per-channel (all but the last) statistics. */
function statAxes(rank: number, spec: WeightQuantSpec): number[] {
  const all = Array.from({ length: rank }, (_, i) => i);
  return spec.granularity === 'per-channel' ? all.slice(0, -1) : all;
}

/** α·sign(w) (w ≥ 0 gives +1, as `applyWeightRecord`), α = mean|w|; gradient `dy·1{|w| ≤ 1}`. */
export function binaryWeightsTf(w: tf.Tensor, spec: WeightQuantSpec): tf.Tensor {
  const axes = statAxes(w.rank, spec);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([x]);
    const absX = tf.abs(x);
    const alpha = tf.mean(absX, axes);
    const nonzero = tf.greater(tf.max(absX, axes), 0);
    const sign = tf.sub(tf.mul(tf.cast(tf.greaterEqual(x, 0), 'float32'), 2), 1);
    return {
      value: tf.mul(sign, tf.where(nonzero, alpha, tf.zerosLike(alpha))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.where(tf.lessEqual(tf.abs(saved[0]!), BINARY_STE_CLIP), dy, tf.zerosLike(dy)),
    };
  });
  return tf.tidy(() => op(w));
}

/** DoReFa k-bit weights times α = max|w|; the rounding is straight through, tanh is differentiated. */
export function dorefaWeightsTf(w: tf.Tensor, spec: WeightQuantSpec): tf.Tensor {
  if (spec.bits === 'float16') throw new QrobustError('invalid_quant_spec', 'DoReFa weights need an integer bit width');
  const levels = dorefaLevels(spec.bits);
  const axes = statAxes(w.rank, spec);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const t = tf.tanh(x);
    const m = tf.max(tf.abs(t), axes);
    const nonzero = tf.greater(m, 0);
    const safeM = tf.where(nonzero, m, tf.onesLike(m));
    const alphaMax = tf.max(tf.abs(x), axes);
    const step = tf.where(nonzero, tf.div(alphaMax, levels), tf.zerosLike(m));
    const j = roundHalfAwayTf(tf.mul(tf.add(tf.div(t, tf.mul(safeM, 2)), 0.5), levels));
    // d w_q / d w = α·(1 − tanh²w)/m with the rounding straight through; zero on all-zero channels.
    const slope = tf.mul(tf.sub(1, tf.square(t)), tf.where(nonzero, tf.div(alphaMax, safeM), tf.zerosLike(m)));
    (args[1] as tf.GradSaveFunc)([slope]);
    return {
      value: tf.mul(tf.sub(tf.mul(j, 2), levels), step),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]!),
    };
  });
  return tf.tidy(() => op(w));
}

/** One kernel's quantizer during QAT. */
export class QatWeightQuantizer {
  private grid: FakeQuantizer | null = null;

  /**
   * @param spec the layer's weight spec (float16 is refused: it has no training form).
   * @param rule how uniform grids are set (ignored by the other kinds).
   */
  constructor(
    readonly spec: WeightQuantSpec,
    readonly rule: WeightRangeRule,
    private readonly layer: string,
  ) {
    if (spec.bits === 'float16') {
      throw new QrobustError('invalid_quant_spec', `layer '${layer}': float16 weights have no quantization-aware training form`);
    }
  }

  /** Sets a uniform grid from the current weights (the other kinds need nothing). */
  refresh(kernel: Float32Array, shape: readonly number[]): void {
    if (this.spec.kind !== 'uniform') return;
    this.grid?.dispose();
    this.grid = new FakeQuantizer(weightGridParams(kernel, shape, this.spec, this.rule));
  }

  /** The quantized kernel, differentiable w.r.t. the latent kernel by the straight-through rule above. */
  apply(w: tf.Tensor): tf.Tensor {
    switch (this.spec.kind) {
      case 'uniform':
        if (!this.grid) throw new Error(`QatWeightQuantizer('${this.layer}'): refresh() before apply()`);
        return this.grid.apply(w, { gradient: 'ste' });
      case 'binary':
        return binaryWeightsTf(w, this.spec);
      case 'ternary':
        return quantizeWeightsTf(w, this.spec);
      case 'dorefa':
        return dorefaWeightsTf(w, this.spec);
    }
  }

  /** The uniform grid in use (null for the other kinds). */
  get gridParams(): QuantParams | null {
    return this.grid?.params ?? null;
  }

  /** The record of the final weights: the uniform grid in use, else `weightRecord` of the weights. */
  record(kernel: Float32Array, shape: readonly number[]): WeightQuantRecord {
    if (this.spec.kind === 'uniform') {
      if (!this.grid) throw new Error(`QatWeightQuantizer('${this.layer}'): refresh() before record()`);
      return { kind: 'uniform', params: this.grid.params };
    }
    return weightRecord(kernel, shape, this.spec, `layer '${this.layer}'`);
  }

  dispose(): void {
    this.grid?.dispose();
    this.grid = null;
  }
}
