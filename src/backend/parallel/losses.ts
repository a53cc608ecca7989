/**
 * Per-sample losses that attacks differentiate with respect to the input. Each maps logits [n, C] and integer
 * labels [n] to a loss vector [n]; the gradient of its sum gives every sample the gradient of its own loss, since
 * samples do not interact in inference mode. Higher always means "more adversarial".
 *
 * The table is shared by the main thread and the workers (both import this module), so a loss is selected by
 * name across threads. To add one, add a row here; functions registered at run time would not exist in workers.
 */
import { tf } from '../tf.js';

export type PerSampleLoss = (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor1D;

function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const onehot = tf.oneHot(labels, logits.shape[1]);
  return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D;
}

/** max over j != y of z_j, minus z_y: positive exactly when the sample is misclassified (Carlini-Wagner). */
function logitMargin(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const isLabel = tf.cast(tf.oneHot(labels, logits.shape[1]), 'bool');
  const labelLogit = tf.sum(tf.where(isLabel, logits, tf.zerosLike(logits)), 1);
  const bestOther = tf.max(tf.where(isLabel, tf.fill(logits.shape, -Infinity), logits), 1);
  return tf.sub(bestOther, labelLogit) as tf.Tensor1D;
}

export const INPUT_LOSSES = {
  /** Softmax cross-entropy of the true label. */
  ce: crossEntropy,
  /** Logit margin, `max_{j≠y} z_j − z_y` (needs at least two classes). */
  margin: logitMargin,
} as const satisfies Record<string, PerSampleLoss>;

export type InputLossName = keyof typeof INPUT_LOSSES;
export const INPUT_LOSS_NAMES = Object.keys(INPUT_LOSSES) as InputLossName[];

export function isInputLossName(s: string): s is InputLossName {
  return Object.prototype.hasOwnProperty.call(INPUT_LOSSES, s);
}
