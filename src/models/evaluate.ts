/** Clean accuracy and batched prediction of a TF.js layers model. */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageRecords } from './batch.js';
import { classifierAccuracy, classifierPredictions, LayersClassifier } from './classifier.js';
import type { AccuracyResult } from './prediction.js';

/** Predicted class of every record, computed in batches. */
export function predictLabels(model: tfl.LayersModel, data: ImageRecords, batchSize = 256): Int32Array {
  return classifierPredictions(new LayersClassifier(model), data, batchSize);
}

export function evaluateAccuracy(model: tfl.LayersModel, data: ImageRecords, batchSize = 256): AccuracyResult {
  return classifierAccuracy(new LayersClassifier(model), data, batchSize);
}
