/**
 * Target classes for targeted attacks, chosen per sample from the clean logits of the attacked classifier:
 * - `random`: uniformly among the classes other than the true label, from a seeded `Rng`;
 * - `least-likely`: the class with the lowest clean logit (Kurakin et al. 2017, arXiv 1607.02533), the hardest
 *   target; when that is the true label, the next lowest.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Classifier } from '../models/classifier.js';
import type { TargetMode } from './target-modes.js';

/** One target class per sample, never its label. */
export function chooseTargets(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, mode: TargetMode, rng: Rng, batchSize = 256): Int32Array {
  const k = classifier.numClasses;
  if (k < 2) throw new QrobustError('invalid_option', `targeted attacks need at least 2 classes, got ${k}`);
  const n = labels.length;
  const out = new Int32Array(n);
  if (mode === 'random') {
    for (let i = 0; i < n; i++) {
      const t = rng.int(k - 1);
      out[i] = t >= labels[i]! ? t + 1 : t;
    }
    return out;
  }
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    const logits = tf.tidy(() => classifier.logits(tf.slice(x, s, m)));
    const z = logits.dataSync() as Float32Array;
    logits.dispose();
    for (let i = 0; i < m; i++) {
      let worst = -1;
      for (let j = 0; j < k; j++) {
        if (j === labels[s + i]) continue;
        if (worst < 0 || z[i * k + j]! < z[i * k + worst]!) worst = j;
      }
      out[s + i] = worst;
    }
  }
  return out;
}
