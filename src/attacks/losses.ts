/**
 * Per-sample attack losses (to be maximised) and the adversarial criterion, shared by every gradient attack.
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { argmaxRows } from '../models/prediction.js';
import type { LossName } from './types.js';

/** The largest logit among classes other than the one marked in `oneHot`. */
function maxOther(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Tensor1D {
  const masked = tf.where(tf.cast(oneHot, 'bool'), tf.fill(logits.shape, -Infinity), logits);
  return tf.max(masked, 1) as tf.Tensor1D;
}

/**
 * The loss an attack ascends, one value per sample. Untargeted it grows as the true class loses; targeted
 * (`targets` given) it grows as the target class wins.
 */
export function attackLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, targets: tf.Tensor1D | null, loss: LossName): tf.Tensor1D {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const cls = targets ?? labels;
    const oneHot = tf.cast(tf.oneHot(cls, k), 'float32') as tf.Tensor2D;
    const own = tf.sum(tf.mul(logits, oneHot), 1) as tf.Tensor1D;
    let value: tf.Tensor1D;
    if (loss === 'ce') {
      const logp = tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1) as tf.Tensor1D;
      value = targets ? logp : tf.neg(logp);
    } else if (loss === 'margin') {
      const other = maxOther(logits, oneHot);
      value = targets ? tf.sub(own, other) : tf.sub(other, own);
    } else {
      value = dlr(logits, labels, targets);
    }
    return value;
  });
}

/**
 * Constant masks `[N, K]` marking, per row, the logits ranked `ranks` (0 = largest). The ranking is read on the
 * host, so it is not differentiated (TF.js has no TopK gradient); the gradient flows through the masked logits.
 */
function rankMasks(logits: tf.Tensor2D, ranks: readonly number[]): tf.Tensor2D[] {
  const [n, k] = logits.shape;
  const z = logits.dataSync() as Float32Array;
  const masks = ranks.map(() => new Float32Array(n * k));
  const order = Array.from({ length: k }, (_, j) => j);
  for (let i = 0; i < n; i++) {
    order.sort((a, b) => z[i * k + b]! - z[i * k + a]! || a - b);
    ranks.forEach((r, m) => (masks[m]![i * k + order[r]!] = 1));
  }
  return masks.map((m) => tf.tensor2d(m, [n, k]));
}

/**
 * The difference-of-logits-ratio loss of Croce & Hein 2020 ("Reliable evaluation of adversarial robustness
 * with an ensemble of diverse parameter-free attacks", arXiv 2003.01690): the CW margin divided by the spread
 * of the top logits, which makes it invariant to rescaling the logits. Untargeted
 * −(z_y − max_{j≠y} z_j)/(z_π1 − z_π3); targeted −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2), π sorting the
 * logits in decreasing order.
 */
function dlr(logits: tf.Tensor2D, labels: tf.Tensor1D, targets: tf.Tensor1D | null): tf.Tensor1D {
  const k = logits.shape[1];
  const pick = (m: tf.Tensor2D): tf.Tensor1D => tf.sum(tf.mul(logits, m), 1) as tf.Tensor1D;
  const yHot = tf.cast(tf.oneHot(labels, k), 'float32') as tf.Tensor2D;
  const zy = pick(yHot);
  if (targets) {
    const [m1, m3, m4] = rankMasks(logits, [0, 2, 3]);
    const zt = pick(tf.cast(tf.oneHot(targets, k), 'float32') as tf.Tensor2D);
    const spread = tf.sub(pick(m1!), tf.mul(tf.add(pick(m3!), pick(m4!)), 0.5));
    return tf.neg(tf.div(tf.sub(zy, zt), tf.add(spread, 1e-12))) as tf.Tensor1D;
  }
  const [m1, m3] = rankMasks(logits, [0, 2]);
  const spread = tf.sub(pick(m1!), pick(m3!));
  return tf.neg(tf.div(tf.sub(zy, maxOther(logits, yHot)), tf.add(spread, 1e-12))) as tf.Tensor1D;
}

/** Index of the largest logit per row (the first on ties). */
export function predictions(logits: tf.Tensor2D): Int32Array {
  return argmaxRows(logits.dataSync() as Float32Array, logits.shape[1]);
}

/** 1 where the prediction is adversarial: not the label (untargeted) or the target (targeted). */
export function isAdversarial(pred: Int32Array, labels: Int32Array, targets: Int32Array | null): Uint8Array {
  const out = new Uint8Array(pred.length);
  for (let i = 0; i < pred.length; i++) out[i] = (targets ? pred[i] === targets[i] : pred[i] !== labels[i]) ? 1 : 0;
  return out;
}

/** Logits, per-sample loss and the input gradient of the summed loss, in one forward and backward pass. */
export interface LossGradient {
  readonly logits: tf.Tensor2D;
  readonly loss: tf.Tensor1D;
  readonly grad: tf.Tensor4D;
}

/**
 * One forward-and-gradient call of the classifier, or with `eot` > 1 the mean of that many (expectation over
 * transformation, Athalye, Carlini & Wagner 2018, arXiv 1802.00420: for a randomized classifier every call
 * draws new randomness, and the mean gradient estimates the gradient of the expected loss). The returned
 * logits and losses are the means too. The caller disposes the three tensors.
 */
export function lossGradient(
  classifier: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  targets: tf.Tensor1D | null,
  loss: LossName,
  eot = 1,
): LossGradient {
  if (eot === 1) return oneLossGradient(classifier, x, labels, targets, loss);
  let sum: LossGradient | null = null;
  for (let k = 0; k < eot; k++) {
    const g = oneLossGradient(classifier, x, labels, targets, loss);
    if (sum === null) {
      sum = g;
      continue;
    }
    const next: LossGradient = {
      logits: tf.add(sum.logits, g.logits) as tf.Tensor2D,
      loss: tf.add(sum.loss, g.loss) as tf.Tensor1D,
      grad: tf.add(sum.grad, g.grad) as tf.Tensor4D,
    };
    tf.dispose([sum.logits, sum.loss, sum.grad, g.logits, g.loss, g.grad]);
    sum = next;
  }
  const mean = tf.tidy(() => ({
    logits: tf.div(sum!.logits, eot) as tf.Tensor2D,
    loss: tf.div(sum!.loss, eot) as tf.Tensor1D,
    grad: tf.div(sum!.grad, eot) as tf.Tensor4D,
  }));
  tf.dispose([sum!.logits, sum!.loss, sum!.grad]);
  return mean;
}

function oneLossGradient(classifier: Classifier, x: tf.Tensor4D, labels: tf.Tensor1D, targets: tf.Tensor1D | null, loss: LossName): LossGradient {
  let logits: tf.Tensor2D | undefined;
  let perSample: tf.Tensor1D | undefined;
  const grad = tf.grad((input: tf.Tensor) => {
    const z = classifier.logits(input as tf.Tensor4D);
    const l = attackLoss(z, labels, targets, loss);
    logits = tf.keep(z);
    perSample = tf.keep(l);
    return tf.sum(l);
  })(x) as tf.Tensor4D;
  return { logits: logits!, loss: perSample!, grad };
}
