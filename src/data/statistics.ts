/**
 * Per-channel mean and standard deviation of a dataset's pixels in [0,1], for the `Normalize` layer of a model
 * trained on data that has no published figures (a folder or .npz of the user's).
 */
import type { ImageDataset } from './dataset.js';

export interface PixelStatistics {
  readonly mean: number[];
  /** Population standard deviation (divided by the pixel count, as NumPy's default). */
  readonly std: number[];
}

/** Mean and standard deviation of pixel/255 per channel over every pixel of every image. */
export function channelStatistics(ds: Pick<ImageDataset, 'pixels' | 'shape'>): PixelStatistics {
  const c = ds.shape[2];
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  const px = ds.pixels;
  for (let i = 0; i < px.length; i++) {
    const v = px[i]!;
    sum[i % c]! += v;
    sumSq[i % c]! += v * v;
  }
  const n = px.length / c;
  const mean: number[] = [];
  const std: number[] = [];
  for (let k = 0; k < c; k++) {
    const m = sum[k]! / n;
    mean.push(m / 255);
    std.push(Math.sqrt(Math.max(0, sumSq[k]! / n - m * m)) / 255);
  }
  return { mean, std };
}
