/**
 * Transfer attacks: adversarial examples crafted on one classifier (the source) are classified by another (the
 * target), e.g. examples from a float model against its quantized variants. Also used to re-check examples
 * found on the fake-quant path on the integer-exact path of the same model.
 */
import type { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { predict } from './run.js';

export interface TransferOutcome {
  /** Fraction of samples the target classifies correctly when clean. */
  readonly cleanAccuracy: number;
  /** Fraction classified correctly by the target both clean and on the adversarial input. */
  readonly robustAccuracy: number;
  /**
   * Among the samples the target classifies correctly when clean, the fraction whose adversarial input the
   * target misclassifies (untargeted) or assigns to the target class (targeted).
   */
  readonly successRate: number;
  /** The target's prediction for each adversarial input. */
  readonly predictions: Int32Array;
}

/**
 * Classifies `adversarial` with `target` and compares with the clean predictions `targetClean` (computed once
 * per data set by the caller with `predict`).
 */
export function evaluateTransfer(
  target: Classifier,
  adversarial: tf.Tensor4D,
  labels: Int32Array,
  targets: Int32Array | null,
  targetClean: Int32Array,
  batchSize = 256,
): TransferOutcome {
  const pred = predict(target, adversarial, batchSize);
  const n = labels.length;
  let clean = 0;
  let robust = 0;
  let success = 0;
  for (let i = 0; i < n; i++) {
    if (targetClean[i] !== labels[i]) continue;
    clean++;
    if (pred[i] === labels[i]) robust++;
    if (targets ? pred[i] === targets[i] : pred[i] !== labels[i]) success++;
  }
  return { cleanAccuracy: n ? clean / n : 0, robustAccuracy: n ? robust / n : 0, successRate: clean ? success / clean : 0, predictions: pred };
}
