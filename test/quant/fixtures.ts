/** Shared fixtures for the quantization tests: tiny models and metadata, and a briefly trained MNIST MLP. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadDataset } from '../../src/data/index.js';
import { statisticsFor } from '../../src/models/dataset-statistics.js';
import { METADATA_FORMAT, METADATA_VERSION, type ModelMetadata } from '../../src/models/metadata.js';
import { trainModel } from '../../src/models/train.js';
import { buildModel, type ArchName } from '../../src/models/zoo.js';

const stats = statisticsFor('mnist');
export const MNIST_SPEC = { inputShape: [28, 28, 1] as const, numClasses: 10, mean: stats.mean, std: stats.std };

export function mnistMeta(arch: string): ModelMetadata {
  return {
    format: METADATA_FORMAT,
    version: METADATA_VERSION,
    dataset: 'mnist',
    arch,
    inputShape: [28, 28, 1],
    numClasses: 10,
    preprocessing: { inputRange: [0, 1], mean: stats.mean, std: stats.std, layout: 'NHWC' },
    seed: 0,
    versions: {},
    createdAt: new Date(0).toISOString(),
  };
}

/** An untrained zoo model for MNIST. */
export function untrained(arch: ArchName, seed = 1): tfl.LayersModel {
  return buildModel(arch, MNIST_SPEC, seed);
}

/** mlp-tiny trained for ~190 Adam steps on 3,000 real MNIST training images (a few seconds). */
export async function trainedTinyMlp(seed = 3): Promise<tfl.LayersModel> {
  const train = await loadDataset('mnist', 'train', { n: 3000, seed, allowDownload: false });
  const model = buildModel('mlp-tiny', MNIST_SPEC, seed);
  await trainModel(model, train, { epochs: 4, seed, batchSize: 64, learningRate: 3e-3 });
  return model;
}
