/**
 * Bernhard, Moellic & Dutertre 2019 ("Impact of Low-bitwidth Quantization on the Adversarial Robustness for
 * Embedded Neural Networks", arXiv 1909.12741): an ensemble of models of several bit widths (e.g. a
 * full-precision model and 2-, 3- and 4-bit versions) as one classifier. Adversarial examples transfer poorly
 * between precisions, so one that fools a member need not fool the ensemble.
 *
 * Two ways to combine the members:
 * - `mean-probabilities`: the logits are log((1/K) Σ_k softmax(z_k)), so softmax of the ensemble's logits is
 *   the members' mean probability vector and an attack's cross-entropy is the ensemble's own. Differentiable
 *   when every member is ('ste' when any member is differentiated through the STE).
 * - `majority-vote`: the score of a class is its number of votes (each member's top class, first on ties) plus
 *   half its mean probability, which breaks ties between equally voted classes and never overturns a majority.
 *   Piecewise constant, so `gradientMode` is 'none': use score- or decision-based attacks, or transfer.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import type { Classifier, GradientMode } from '../models/classifier.js';

export const ENSEMBLE_COMBINES = ['mean-probabilities', 'majority-vote'] as const;
export type EnsembleCombine = (typeof ENSEMBLE_COMBINES)[number];

export function isEnsembleCombine(s: string): s is EnsembleCombine {
  return (ENSEMBLE_COMBINES as readonly string[]).includes(s);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function combinedGradientMode(members: readonly Classifier[], combine: EnsembleCombine): GradientMode {
  if (combine === 'majority-vote' || members.some((m) => m.gradientMode === 'none')) return 'none';
  return members.some((m) => m.gradientMode === 'ste') ? 'ste' : 'exact';
}

export class EnsembleClassifier implements Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly bounds: readonly [number, number];
  readonly gradientMode: GradientMode;
  readonly description: string;

  /**
   * @param members the classifiers to combine; the ensemble owns them (`dispose` releases them).
   * @throws QrobustError('shape_mismatch') when the members differ in input shape, classes or bounds.
   */
  constructor(
    readonly members: readonly Classifier[],
    readonly combine: EnsembleCombine = 'mean-probabilities',
  ) {
    const first = members[0];
    if (!first) throw new QrobustError('invalid_argument', 'an ensemble needs at least one member');
    for (const m of members) {
      if (!sameShape(m.inputShape, first.inputShape) || m.numClasses !== first.numClasses || !sameShape(m.bounds, first.bounds)) {
        throw new QrobustError(
          'shape_mismatch',
          `ensemble members disagree: ${first.description} takes [${first.inputShape.join(',')}] in [${first.bounds.join(', ')}] with ${first.numClasses} classes, ` +
            `${m.description} takes [${m.inputShape.join(',')}] in [${m.bounds.join(', ')}] with ${m.numClasses}`,
        );
      }
    }
    this.inputShape = first.inputShape;
    this.numClasses = first.numClasses;
    this.bounds = first.bounds;
    this.gradientMode = combinedGradientMode(members, combine);
    this.description = `ensemble (${combine}) of ${members.map((m) => m.description).join(' + ')}`;
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const logProbs = this.members.map((m) => tf.logSoftmax(m.logits(x)) as tf.Tensor2D);
      const k = logProbs.length;
      const logMean = tf.sub(tf.logSumExp(tf.stack(logProbs), 0), Math.log(k)) as tf.Tensor2D;
      if (this.combine === 'mean-probabilities') return logMean;
      const votes = logProbs.map((lp) => tf.oneHot(tf.argMax(lp, 1), this.numClasses));
      return tf.add(tf.cast(tf.addN(votes), 'float32'), tf.mul(tf.exp(logMean), 0.5)) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}
