/** Shared fixtures of the defense tests: a two-class slice of real MNIST and robust accuracy under PGD. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../../src/backend/tf.js';
import { runAttack } from '../../src/attacks/index.js';
import type { ImageRecords } from '../../src/models/batch.js';
import { LayersClassifier, type Classifier } from '../../src/models/classifier.js';

/** The images of digits 3 and 7 among `data` (a simple task on which adversarial training shows quickly). */
export function threesAndSevens(data: ImageRecords, max = Infinity): ImageRecords {
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  const picked: number[] = [];
  for (let i = 0; i < data.count && picked.length < max; i++) if (data.labels[i] === 3 || data.labels[i] === 7) picked.push(i);
  const pixels = new Uint8Array(picked.length * size);
  const labels = new Uint8Array(picked.length);
  picked.forEach((j, k) => {
    pixels.set(data.pixels.subarray(j * size, (j + 1) * size), k * size);
    labels[k] = data.labels[j]!;
  });
  return { shape: data.shape, count: picked.length, pixels, labels };
}

/** The records as one [N, H, W, C] tensor in [0, 1]. */
export function imagesOf(data: ImageRecords): tf.Tensor4D {
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  return tf.tensor4d(Float32Array.from(data.pixels.subarray(0, data.count * size), (v) => v / 255), [data.count, ...data.shape]);
}

/** Clean and PGD (20 steps, L∞) robust accuracy of a classifier. */
export function pgdAccuracy(c: Classifier, data: ImageRecords, epsilon: number): { clean: number; robust: number } {
  const x = imagesOf(data);
  const r = runAttack('pgd', c, x, Int32Array.from(data.labels.subarray(0, data.count)), { epsilons: [epsilon], steps: 20, seed: 0 });
  const out = { clean: r.cleanAccuracy, robust: r.results[0]!.robustAccuracy };
  r.dispose();
  x.dispose();
  return out;
}

export function modelPgdAccuracy(model: tfl.LayersModel, data: ImageRecords, epsilon: number): { clean: number; robust: number } {
  return pgdAccuracy(new LayersClassifier(model), data, epsilon);
}

/** All weights of a model, back to back. */
export function flatWeights(model: tfl.LayersModel): Float32Array {
  const parts = model.getWeights().map((t) => t.dataSync() as Float32Array);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
