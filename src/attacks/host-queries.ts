/**
 * Model queries for the black-box attacks (Square, SPSA, HopSkipJump), which keep their iterates on the host
 * as `Float32Array`s (n × d, NHWC) and need only outputs: predicted labels, or labels plus the attack loss.
 * Images are sent in chunks so that a large query set (SPSA's n × samples perturbations) never sits in one
 * tensor.
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { attackLoss, predictions } from './losses.js';
import type { LossName } from './types.js';

/** Images per forward pass. */
const CHUNK = 1024;

export interface Scores {
  readonly predictions: Int32Array;
  /** The attack loss per image (larger = closer to adversarial). */
  readonly loss: Float32Array;
}

function chunks(classifier: Classifier, images: Float32Array, count: number, visit: (logits: tf.Tensor2D, start: number) => void): void {
  const [h, w, c] = classifier.inputShape;
  const d = h * w * c;
  for (let s = 0; s < count; s += CHUNK) {
    const m = Math.min(CHUNK, count - s);
    const logits = tf.tidy(() => classifier.logits(tf.tensor4d(images.subarray(s * d, (s + m) * d), [m, h, w, c])));
    try {
      visit(logits, s);
    } finally {
      logits.dispose();
    }
  }
}

/** Predicted class of each of the `count` images. */
export function predictImages(classifier: Classifier, images: Float32Array, count: number): Int32Array {
  const out = new Int32Array(count);
  chunks(classifier, images, count, (logits, s) => out.set(predictions(logits), s));
  return out;
}

/**
 * Predicted class and attack loss of each image; `labels` (and `targets`, when targeted) hold one entry per
 * image.
 */
export function scoreImages(
  classifier: Classifier,
  images: Float32Array,
  count: number,
  labels: Int32Array,
  targets: Int32Array | null,
  loss: LossName,
): Scores {
  const pred = new Int32Array(count);
  const values = new Float32Array(count);
  chunks(classifier, images, count, (logits, s) => {
    const m = logits.shape[0];
    pred.set(predictions(logits), s);
    const l = tf.tidy(() =>
      attackLoss(logits, tf.tensor1d(labels.subarray(s, s + m), 'int32'), targets ? tf.tensor1d(targets.subarray(s, s + m), 'int32') : null, loss),
    );
    values.set(l.dataSync() as Float32Array, s);
    l.dispose();
  });
  return { predictions: pred, loss: values };
}

/** Host copies of a batch: its pixels as one Float32Array. */
export function hostPixels(x: tf.Tensor4D): Float32Array {
  return Float32Array.from(x.dataSync() as Float32Array);
}
