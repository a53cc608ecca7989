/**
 * Per-channel mean and standard deviation of each dataset's training images (pixels in [0,1]), the values the
 * `Normalize` layer uses. MNIST and CIFAR-10 figures are the widely published ones; `test/models` recomputes
 * them from the real files.
 */
import { QrobustError } from '../core/errors.js';
import { channelStatistics } from '../data/statistics.js';
import type { ImageDataset } from '../data/dataset.js';

export interface ChannelStatistics {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export const DATASET_STATISTICS: Readonly<Record<string, ChannelStatistics>> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
};

/**
 * The published figures of a built-in dataset; for any other dataset (a folder or .npz of the user's), the
 * figures of `images` (the training images at hand) when given.
 */
export function statisticsFor(dataset: string, images?: Pick<ImageDataset, 'pixels' | 'shape'>): ChannelStatistics {
  const s = DATASET_STATISTICS[dataset];
  if (s) return s;
  if (images) return channelStatistics(images);
  throw new QrobustError('unknown_dataset', `no normalization statistics for dataset '${dataset}'`);
}
