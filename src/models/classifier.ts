/**
 * `Classifier`: the one interface attacks, metrics and evaluation use, whatever runs underneath (a TF.js layers
 * model, the fake-quant executor or the integer-exact executor). Inputs are NHWC pixels in `bounds` (normally
 * [0,1]); normalization lives inside the model, so ε and attacks speak pixel space.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { makeBatch, type ImageRecords } from './batch.js';
import { accuracyOf, argmaxRows, type AccuracyResult } from './prediction.js';

/**
 * How gradients of `logits` with respect to the input are defined.
 * - `exact`: the true derivative of the computed function. Through a quantizer (piecewise constant) it is
 *   zero almost everywhere, which is what gradient masking looks like.
 * - `ste`: the straight-through estimator (Bengio et al. 2013, "Estimating or Propagating Gradients Through
 *   Stochastic Neurons for Conditional Computation", arXiv 1308.3432), also BPDA in the attack literature:
 *   each quantizer is treated as the identity inside its clipping range and as a constant outside it.
 * - `none`: not differentiable (e.g. the integer-exact path); use score- or decision-based attacks.
 */
export type GradientMode = 'exact' | 'ste' | 'none';

export interface Classifier {
  /** Per-example input shape `[H, W, C]`. */
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  /** The valid input range, e.g. [0, 1]. */
  readonly bounds: readonly [number, number];
  readonly gradientMode: GradientMode;
  /** A short human-readable description, e.g. "fake-quant w4 a8 (ste)". */
  readonly description: string;
  /** Logits `[N, numClasses]` for a batch `[N, H, W, C]`. Allocates only the returned tensor. */
  logits(x: tf.Tensor4D): tf.Tensor2D;
  /** Releases the tensors the classifier owns. */
  dispose(): void;
}

/** A TF.js layers model as a `Classifier` (full precision, exact gradients). */
export class LayersClassifier implements Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly gradientMode = 'exact' as const;
  readonly description: string;

  constructor(
    readonly model: tfl.LayersModel,
    readonly bounds: readonly [number, number] = [0, 1],
    description = 'float32',
  ) {
    this.inputShape = model.inputs[0]!.shape.slice(1) as [number, number, number];
    this.numClasses = (model.outputs[0]!.shape as number[])[1]!;
    this.description = description;
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.model.apply(x, { training: false }) as tf.Tensor2D);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Logits of every record as one `[count, numClasses]` Float32Array, computed in batches. */
export function classifierLogits(c: Classifier, data: ImageRecords, batchSize = 256): Float32Array {
  const out = new Float32Array(data.count * c.numClasses);
  for (let s = 0; s < data.count; s += batchSize) {
    const n = Math.min(batchSize, data.count - s);
    const batch = makeBatch(data, Int32Array.from({ length: n }, (_, i) => s + i));
    const logits = c.logits(batch.x);
    out.set(logits.dataSync() as Float32Array, s * c.numClasses);
    tf.dispose([logits, batch.x, batch.labels]);
  }
  return out;
}

/** Predicted class of every record. */
export function classifierPredictions(c: Classifier, data: ImageRecords, batchSize = 256): Int32Array {
  return argmaxRows(classifierLogits(c, data, batchSize), c.numClasses);
}

/** Clean accuracy of a classifier. */
export function classifierAccuracy(c: Classifier, data: ImageRecords, batchSize = 256): AccuracyResult {
  return accuracyOf(classifierPredictions(c, data, batchSize), data.labels);
}
