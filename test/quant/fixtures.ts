/** Shared fixtures for the quantization tests: tiny models and metadata, and a briefly trained MNIST MLP. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadDataset } from '../../src/data/index.js';
import { trainModel } from '../../src/models/train.js';
import type { ArchName } from '../../src/models/arch-names.js';
import { buildModel } from '../../src/models/zoo.js';

export { MNIST_SPEC, mnistMeta } from '../fixtures/mnist.js';
import { MNIST_SPEC } from '../fixtures/mnist.js';

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
