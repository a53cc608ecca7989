/**
 * Example images kept in results for the report: 8-bit pixels (NHWC, as the datasets store them), base64.
 * Adversarial inputs are rounded to the nearest 8-bit level for display only; every measurement uses the
 * float inputs the attack returned.
 */
import { tf } from '../../backend/tf.js';
import type { ImageDataset } from '../../data/index.js';

/** The first `k` images of a dataset slice. */
export function datasetImages(ds: ImageDataset, k: number): string[] {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return Array.from({ length: Math.min(k, ds.count) }, (_, i) => Buffer.from(ds.pixels.subarray(i * size, (i + 1) * size)).toString('base64'));
}

/** The first `k` images of a batch `[N, H, W, C]` in [0, 1]. */
export function tensorImages(x: tf.Tensor4D, k: number): string[] {
  const m = Math.min(k, x.shape[0]);
  if (m === 0) return [];
  const part = tf.slice(x, 0, m);
  const values = part.dataSync() as Float32Array;
  part.dispose();
  const size = values.length / m;
  return Array.from({ length: m }, (_, i) => {
    const bytes = new Uint8Array(size);
    for (let j = 0; j < size; j++) bytes[j] = Math.max(0, Math.min(255, Math.round(values[i * size + j]! * 255)));
    return Buffer.from(bytes).toString('base64');
  });
}
