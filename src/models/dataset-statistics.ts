/**
 * Per-channel mean and standard deviation of each dataset's training images (pixels in [0,1]), the values the
 * `Normalize` layer uses. MNIST and CIFAR-10 figures are the widely published ones; `test/models` recomputes
 * them from the real files.
 */
import { QrobustError } from '../core/errors.js';

export interface ChannelStatistics {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export const DATASET_STATISTICS: Readonly<Record<string, ChannelStatistics>> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
};

export function statisticsFor(dataset: string): ChannelStatistics {
  const s = DATASET_STATISTICS[dataset];
  if (!s) throw new QrobustError('unknown_dataset', `no normalization statistics for dataset '${dataset}'`);
  return s;
}
