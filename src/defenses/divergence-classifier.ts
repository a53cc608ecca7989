/**
 * TRADES' inner maximisation (Zhang et al. 2019, arXiv 1901.08573) looks for the x' in the ε-ball around x that
 * maximises KL(f(x) ‖ f(x')), the divergence of the prediction at x' from the prediction at the clean input.
 * The attack engine ascends per-sample losses of logits against labels; this classifier presents the divergence
 * as a two-class score `[0, KL]`, whose logit margin against label 0 (`max_{j≠0} z_j − z_0`) is exactly the
 * KL divergence. PGD with the 'margin' loss and all-zero labels therefore ascends KL(f(x) ‖ f(x')) itself, with
 * the same steps, projection and random start as every other PGD run.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import type { Classifier } from '../models/classifier.js';

export class DivergenceClassifier implements Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses = 2;
  readonly bounds: readonly [number, number];
  readonly gradientMode: Classifier['gradientMode'];
  readonly description: string;
  /** log f(x) of the clean batch, a constant of the maximisation. */
  private readonly referenceLog: tf.Tensor2D;
  private readonly reference: tf.Tensor2D;

  /** @param clean the clean batch whose predictions are the reference; only batches of its size may be scored. */
  constructor(
    private readonly inner: Classifier,
    clean: tf.Tensor4D,
  ) {
    this.inputShape = inner.inputShape;
    this.bounds = inner.bounds;
    this.gradientMode = inner.gradientMode;
    this.description = `KL divergence from the clean prediction of ${inner.description}`;
    this.referenceLog = tf.tidy(() => tf.logSoftmax(inner.logits(clean)) as tf.Tensor2D);
    this.reference = tf.tidy(() => tf.exp(this.referenceLog) as tf.Tensor2D);
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    const n = this.reference.shape[0];
    if (x.shape[0] !== n) throw new QrobustError('shape_mismatch', `the divergence classifier scores batches of ${n}, got ${x.shape[0]}`);
    return tf.tidy(() => {
      const logQ = tf.logSoftmax(this.inner.logits(x));
      const kl = tf.sum(tf.mul(this.reference, tf.sub(this.referenceLog, logQ)), 1, true);
      return tf.concat([tf.zerosLike(kl), kl], 1) as tf.Tensor2D;
    });
  }

  /** Releases the reference (not the inner classifier). */
  dispose(): void {
    tf.dispose([this.referenceLog, this.reference]);
  }
}
