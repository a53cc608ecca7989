/** Clean accuracy and batched prediction. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { makeBatch, type ImageRecords } from './batch.js';

/** Predicted class of every record, computed in batches. */
export function predictLabels(model: tfl.LayersModel, data: ImageRecords, batchSize = 256): Int32Array {
  const out = new Int32Array(data.count);
  for (let s = 0; s < data.count; s += batchSize) {
    const n = Math.min(batchSize, data.count - s);
    const idx = Int32Array.from({ length: n }, (_, i) => s + i);
    const batch = makeBatch(data, idx);
    const pred = tf.tidy(() => tf.argMax(model.predict(batch.x) as tf.Tensor2D, 1));
    out.set(pred.dataSync() as Int32Array, s);
    tf.dispose([pred, batch.x, batch.labels]);
  }
  return out;
}

export interface AccuracyResult {
  readonly accuracy: number;
  readonly n: number;
  readonly correct: number;
}

export function evaluateAccuracy(model: tfl.LayersModel, data: ImageRecords, batchSize = 256): AccuracyResult {
  const pred = predictLabels(model, data, batchSize);
  let correct = 0;
  for (let i = 0; i < data.count; i++) if (pred[i] === data.labels[i]) correct++;
  return { accuracy: data.count === 0 ? 0 : correct / data.count, n: data.count, correct };
}
