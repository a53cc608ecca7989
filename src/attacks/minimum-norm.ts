/**
 * Minimum-norm attacks (C&W, DeepFool, HopSkipJump) search for the smallest adversarial perturbation without
 * a budget. To report them like every other attack at a fixed ε, the found point is projected onto the ε-ball
 * (it is unchanged when it lies inside) and classified again: a sample counts as broken at ε exactly when the
 * attack found an adversarial point within ε, or its projection happens to stay adversarial.
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { isAdversarial, predictions } from './losses.js';
import { perturbationNorms, project } from './projection.js';
import type { AttackResult, AttackSpec, MinimumNormResult, Norm, ResolvedOptions } from './types.js';

/**
 * The fixed-ε result of a minimum-norm search: projection onto the ε-ball and the bounds, one forward pass to
 * check success (counted as a query). Does not dispose `found`.
 */
export function fixedEpsilon(
  classifier: Classifier,
  x: tf.Tensor4D,
  labels: Int32Array,
  targets: Int32Array | null,
  found: MinimumNormResult,
  epsilon: number,
  norm: Norm,
): AttackResult {
  const adversarial = project(found.adversarial, x, epsilon, norm, classifier.bounds);
  const logits = classifier.logits(adversarial);
  const success = isAdversarial(predictions(logits), labels, targets);
  logits.dispose();
  const queries = Int32Array.from(found.queries, (q) => q + 1);
  const { linf, l2 } = perturbationNorms(adversarial, x);
  return { adversarial, success, linf, l2, queries };
}

/** `AttackSpec.run` for a minimum-norm attack: its search, then `fixedEpsilon` at `options.epsilon`. */
export function runMinimumNorm(
  minimize: NonNullable<AttackSpec['minimize']>,
): (classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions) => AttackResult {
  return (classifier, x, labels, o) => {
    const found = minimize(classifier, x, labels, o);
    try {
      return fixedEpsilon(classifier, x, labels, o.targets, found, o.epsilon, o.norm);
    } finally {
      found.adversarial.dispose();
    }
  };
}
