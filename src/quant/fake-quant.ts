/**
 * Fake quantization as TF.js ops: `scale · (clamp(round(x / scale) + zp, qmin, qmax) − zp)`, with the gradient
 * chosen per use.
 * - `exact`: the true derivative. Rounding is piecewise constant, so the derivative is zero almost
 *   everywhere, inside and outside the clipping range alike.
 * - `ste`: the straight-through estimator (Bengio et al. 2013, arXiv 1308.3432) with clipping, as in
 *   quantization-aware training (Jacob et al. 2018, arXiv 1712.05877) and BPDA: the gradient passes unchanged
 *   where `x` lies inside the clipping range `[scale·(qmin − zp), scale·(qmax − zp)]` and is zero outside
 *   (`steWindow: 'range'`, TensorFlow's fake-quant convention, used by quantization-aware training), or wherever
 *   the clamp does not saturate, i.e. `round(x / scale) + zp ∈ [qmin, qmax]`, which reaches half a step further
 *   (`steWindow: 'rounding'`, PyTorch's convention, used by the classifiers that attacks differentiate). The
 *   difference matters at the edges of a grid: a zero point rounded to an integer can put the range's end just
 *   inside the data's range (MNIST's normalized black pixel lies 0.004 below the 8-bit input grid's lowest
 *   value), and the 'range' window would then block the gradient of every background pixel.
 *
 * Also the weight quantizers as ops (uniform, binary, ternary, DoReFa) with a straight-through gradient to the float
 * weights: the hook quantization-aware training uses.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { clippingRange, integerRange, type QuantParams } from './quantizer.js';
import { dorefaLevels, TERNARY_THRESHOLD_FACTOR } from './weights.js';
import type { WeightQuantSpec } from './spec.js';

export type QuantGradient = 'exact' | 'ste';

/**
 * `roundHalfAway` of `rounding.ts` on a float32 tensor, element by element equal to it (`tf.round` rounds half to
 * even). The fraction |x| − ⌊|x|⌋ is exact in float32; ⌊|x| + 0.5⌋ is not: it sends the largest float32 below 0.5
 * to 1, and odd integers from 2^23 up to the next even one. Small negatives give −0 here (0 there).
 */
export function roundHalfAwayTf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.abs(x);
    const whole = tf.floor(a);
    return tf.mul(tf.sign(x), tf.where(tf.greaterEqual(tf.sub(a, whole), 0.5), tf.add(whole, 1), whole));
  });
}

/** Options of `fakeQuant`. */
export interface FakeQuantOptions {
  readonly gradient: QuantGradient;
  /** Stochastic rounding (training only) with this seed for `tf.randomUniform`; default round to nearest. */
  readonly stochasticSeed?: number;
  /** Where the STE gradient passes: inside the clipping range (default) or wherever the clamp does not saturate. */
  readonly steWindow?: 'range' | 'rounding';
}

/** Scale and zero point as tensors broadcastable against `x` (per channel along the last axis). */
interface GridTensors {
  readonly scale: tf.Tensor;
  readonly zeroPoint: tf.Tensor;
  readonly qmin: number;
  readonly qmax: number;
  readonly params: QuantParams;
}

function gridTensors(p: QuantParams): GridTensors {
  const perChannel = p.scale.length > 1;
  return {
    scale: perChannel ? tf.tensor1d(p.scale as number[]) : tf.scalar(p.scale[0]!),
    zeroPoint: perChannel ? tf.tensor1d(p.zeroPoint as number[]) : tf.scalar(p.zeroPoint[0]!),
    qmin: p.qmin,
    qmax: p.qmax,
    params: p,
  };
}

/** The clipping range as tensors, made when the gradient runs (the forward pass's tensors may be gone). */
function clipBounds(p: QuantParams): [tf.Tensor, tf.Tensor] {
  const ranges = p.scale.map((_, c) => clippingRange(p, c));
  if (ranges.length === 1) return [tf.scalar(ranges[0]![0]), tf.scalar(ranges[0]![1])];
  return [tf.tensor1d(ranges.map((r) => r[0])), tf.tensor1d(ranges.map((r) => r[1]))];
}

function fakeQuantWith(x: tf.Tensor, g: GridTensors, options: FakeQuantOptions): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const v = tf.add(tf.div(input, g.scale), g.zeroPoint);
    const r =
      options.stochasticSeed === undefined
        ? roundHalfAwayTf(v)
        : tf.floor(tf.add(v, tf.randomUniform(v.shape, 0, 1, 'float32', options.stochasticSeed)));
    const q = tf.clipByValue(r, g.qmin, g.qmax);
    const value = tf.mul(tf.sub(q, g.zeroPoint), g.scale);
    save([input]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        if (options.gradient === 'exact') return tf.zerosLike(dy);
        if (options.steWindow === 'rounding') {
          const grid = gridTensors(g.params);
          const v = tf.add(tf.div(saved[0]!, grid.scale), grid.zeroPoint);
          const unsaturated = tf.logicalAnd(tf.greaterEqual(v, g.qmin - 0.5), tf.lessEqual(v, g.qmax + 0.5));
          return tf.where(unsaturated, dy, tf.zerosLike(dy));
        }
        const [lo, hi] = clipBounds(g.params);
        const inside = tf.logicalAnd(tf.greaterEqual(saved[0]!, lo), tf.lessEqual(saved[0]!, hi));
        return tf.where(inside, dy, tf.zerosLike(dy));
      },
    };
  });
  return op(x);
}

/**
 * A fake quantizer whose parameter tensors are created once (for executors that apply it on every call).
 * Call `dispose` to release them.
 */
export class FakeQuantizer {
  private readonly grid: GridTensors;

  constructor(readonly params: QuantParams) {
    this.grid = gridTensors(params);
  }

  apply(x: tf.Tensor, options: FakeQuantOptions): tf.Tensor {
    return fakeQuantWith(x, this.grid, options);
  }

  dispose(): void {
    tf.dispose([this.grid.scale, this.grid.zeroPoint]);
  }
}

/**
 * Fake-quantizes `x` on the grid `p` (per tensor, or per channel along the last axis).
 * Differentiable w.r.t. `x` with the chosen gradient; the parameters are constants.
 */
export function fakeQuant(x: tf.Tensor, p: QuantParams, options: FakeQuantOptions): tf.Tensor {
  return tf.tidy(() => fakeQuantWith(x, gridTensors(p), options));
}

/** A straight-through sign-like op: forward `f(w)`, gradient `dy` (identity). */
function straightThrough(w: tf.Tensor, forward: (w: tf.Tensor) => tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: forward(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => dy,
  }));
  return op(w);
}

/** Reduction axes for per-tensor (all) or per-channel (all but the last) statistics of a kernel. */
function statAxes(w: tf.Tensor, spec: WeightQuantSpec): number[] {
  const all = w.shape.map((_, i) => i);
  return spec.granularity === 'per-channel' ? all.slice(0, -1) : all;
}

/**
 * The weight quantizer of `spec` as ops, with parameters computed from the current weights (as QAT does
 * every step) and a straight-through gradient to the float weights (identity: min-max weight grids clip
 * nothing). Matches `quantizeKernel` on the same weights. Float16 is not available as an op.
 */
export function quantizeWeightsTf(w: tf.Tensor, spec: WeightQuantSpec): tf.Tensor {
  if (spec.bits === 'float16') throw new QrobustError('invalid_quant_spec', 'float16 weights have no op form; quantize them with quantizeKernel');
  const bits = spec.bits;
  const axes = statAxes(w, spec);
  return tf.tidy(() => straightThrough(w, (x) => weightQuantForward(x, spec.kind, bits, spec.scheme, axes)));
}

function weightQuantForward(w: tf.Tensor, kind: WeightQuantSpec['kind'], bits: number, scheme: WeightQuantSpec['scheme'], axes: number[]): tf.Tensor {
  const absW = tf.abs(w);
  if (kind === 'uniform') {
    const { qmin, qmax } = integerRange(bits, scheme);
    let scale: tf.Tensor;
    let zeroPoint: tf.Tensor;
    if (scheme === 'symmetric') {
      const amax = tf.max(absW, axes);
      scale = tf.where(tf.greater(amax, 0), tf.div(amax, qmax), tf.onesLike(amax));
      zeroPoint = tf.zerosLike(scale);
    } else {
      const lo = tf.minimum(tf.min(w, axes), 0);
      const span = tf.sub(tf.maximum(tf.max(w, axes), 0), lo);
      scale = tf.where(tf.greater(span, 0), tf.div(span, qmax - qmin), tf.onesLike(span));
      zeroPoint = tf.clipByValue(roundHalfAwayTf(tf.sub(qmin, tf.div(lo, scale))), qmin, qmax);
    }
    const q = tf.clipByValue(tf.add(roundHalfAwayTf(tf.div(w, scale)), zeroPoint), qmin, qmax);
    return tf.mul(tf.sub(q, zeroPoint), scale);
  }
  const nonzero = tf.greater(tf.max(absW, axes), 0); // all-zero channels quantize to 0
  if (kind === 'dorefa') {
    const levels = dorefaLevels(bits);
    const t = tf.tanh(w);
    const m = tf.max(tf.abs(t), axes);
    const j = roundHalfAwayTf(tf.mul(tf.add(tf.div(t, tf.where(nonzero, tf.mul(m, 2), tf.onesLike(m))), 0.5), levels));
    const alpha = tf.where(nonzero, tf.div(tf.max(absW, axes), levels), tf.zerosLike(m));
    return tf.mul(tf.sub(tf.mul(j, 2), levels), alpha);
  }
  if (kind === 'binary') {
    const alpha = tf.mean(absW, axes);
    return tf.mul(tf.where(tf.greaterEqual(w, 0), tf.onesLike(w), tf.neg(tf.onesLike(w))), tf.where(nonzero, alpha, tf.zerosLike(alpha)));
  }
  const delta = tf.mul(tf.mean(absW, axes), TERNARY_THRESHOLD_FACTOR);
  const above = tf.cast(tf.greater(absW, delta), 'float32');
  const count = tf.sum(above, axes);
  const alpha = tf.div(tf.sum(tf.mul(absW, above), axes), tf.maximum(count, 1));
  const sign = tf.sub(tf.cast(tf.greater(w, delta), 'float32'), tf.cast(tf.less(w, tf.neg(delta)), 'float32'));
  return tf.mul(sign, alpha);
}
