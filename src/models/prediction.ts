/** Predicted classes and clean accuracy from logits: the one argmax and the one accuracy count. */

export interface AccuracyResult {
  readonly accuracy: number;
  readonly n: number;
  readonly correct: number;
}

/** Index of the largest of `v[start..end)`, counted from `start`; the first one on ties, like `tf.argMax`. */
export function argmax(v: ArrayLike<number>, start = 0, end = v.length): number {
  let best = start;
  for (let i = start + 1; i < end; i++) if (v[i]! > v[best]!) best = i;
  return best - start;
}

/** The argmax of each row of `numClasses` logits. */
export function argmaxRows(logits: ArrayLike<number>, numClasses: number): Int32Array {
  const out = new Int32Array(logits.length / numClasses);
  for (let i = 0; i < out.length; i++) out[i] = argmax(logits, i * numClasses, (i + 1) * numClasses);
  return out;
}

/** Share of predictions equal to their labels (0 for none). */
export function accuracyOf(predictions: ArrayLike<number>, labels: ArrayLike<number>): AccuracyResult {
  if (predictions.length !== labels.length) throw new Error(`accuracyOf: ${predictions.length} predictions for ${labels.length} labels`);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return { accuracy: labels.length === 0 ? 0 : correct / labels.length, n: labels.length, correct };
}
