/**
 * Turning uint8 image records into float batches, with optional augmentation (random crop after zero padding,
 * horizontal flip) done in plain JS on the bytes, which costs far less than the training step it feeds.
 */
import { tf } from '../backend/tf.js';
import type { Rng } from '../core/rng.js';

/** The part of a dataset that batching needs: NHWC uint8 pixels and uint8 labels. */
export interface ImageRecords {
  readonly shape: readonly [number, number, number];
  readonly count: number;
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}

export type Augmentation = 'none' | 'crop-flip';

export interface Batch {
  readonly x: tf.Tensor4D;
  readonly labels: tf.Tensor1D;
}

/**
 * Builds a batch of the records at `indices`, pixels scaled to [0,1].
 * With 'crop-flip' each image is shifted by up to `pad` pixels (zero fill) and mirrored with probability 1/2.
 */
export function makeBatch(
  data: ImageRecords,
  indices: ArrayLike<number>,
  augmentation: Augmentation = 'none',
  rng?: Rng,
  pad = 4,
): Batch {
  const [h, w, c] = data.shape;
  const size = h * w * c;
  const n = indices.length;
  const out = new Float32Array(n * size);
  const labels = new Int32Array(n);
  const scale = 1 / 255;
  for (let b = 0; b < n; b++) {
    const src = indices[b]! * size;
    const dst = b * size;
    labels[b] = data.labels[indices[b]!]!;
    if (augmentation === 'none' || !rng) {
      for (let i = 0; i < size; i++) out[dst + i] = data.pixels[src + i]! * scale;
      continue;
    }
    const dy = rng.int(2 * pad + 1) - pad;
    const dx = rng.int(2 * pad + 1) - pad;
    const flip = rng.next() < 0.5;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sxRaw = x + dx;
        if (sxRaw < 0 || sxRaw >= w) continue;
        const sx = flip ? w - 1 - sxRaw : sxRaw;
        const so = src + (sy * w + sx) * c;
        const o = dst + (y * w + x) * c;
        for (let k = 0; k < c; k++) out[o + k] = data.pixels[so + k]! * scale;
      }
    }
  }
  return { x: tf.tensor4d(out, [n, h, w, c]), labels: tf.tensor1d(labels, 'int32') };
}
