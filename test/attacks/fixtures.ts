/** Test fixtures for the attacks: a hand-built linear classifier and a briefly trained MNIST mlp-tiny. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../../src/backend/tf.js';
import { loadDataset } from '../../src/data/index.js';
import { LayersClassifier, type Classifier } from '../../src/models/classifier.js';
import { statisticsFor } from '../../src/models/dataset-statistics.js';
import { trainModel } from '../../src/models/train.js';
import { buildModel } from '../../src/models/zoo.js';

/** logits = flatten(x)·W + b, with W given as `[d][k]` rows. */
export class LinearClassifier implements Classifier {
  readonly numClasses: number;
  readonly bounds = [0, 1] as const;
  readonly gradientMode = 'exact' as const;
  readonly description = 'linear test model';
  private readonly w: tf.Tensor2D;
  private readonly b: tf.Tensor1D;

  constructor(
    readonly inputShape: readonly [number, number, number],
    readonly weights: number[][],
    readonly bias: number[],
  ) {
    this.numClasses = bias.length;
    this.w = tf.tensor2d(weights);
    this.b = tf.tensor1d(bias);
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], -1]), this.w), this.b) as tf.Tensor2D);
  }

  /** Column k of W, i.e. the gradient of logit k. */
  column(k: number): number[] {
    return this.weights.map((row) => row[k]!);
  }

  dispose(): void {
    tf.dispose([this.w, this.b]);
  }
}

/** A uniform batch of `n` inputs of the given shape, every pixel `value`. */
export function constantBatch(n: number, shape: readonly [number, number, number], value: number): tf.Tensor4D {
  return tf.fill([n, ...shape], value) as tf.Tensor4D;
}

/** mlp-tiny trained for 96 Adam steps on 1,024 real MNIST training images (about a second). */
export async function tinyMnistModel(): Promise<tfl.LayersModel> {
  const stats = statisticsFor('mnist');
  const spec = { inputShape: [28, 28, 1] as const, numClasses: 10, mean: stats.mean, std: stats.std };
  const train = await loadDataset('mnist', 'train', { n: 1024, seed: 11, allowDownload: false });
  const model = buildModel('mlp-tiny', spec, 12);
  await trainModel(model, train, { epochs: 6, seed: 13, batchSize: 64, learningRate: 3e-3 });
  return model;
}

/** That model as a `Classifier`, plus 64 MNIST test images and their labels. */
export async function tinyMnist(): Promise<{ classifier: Classifier; x: tf.Tensor4D; labels: Int32Array }> {
  const model = await tinyMnistModel();
  const testSet = await loadDataset('mnist', 'test', { n: 64, seed: 14, allowDownload: false });
  const [h, w, c] = testSet.shape;
  const pixels = Float32Array.from(testSet.pixels, (p) => p / 255);
  const x = tf.tensor4d(pixels, [testSet.count, h, w, c]);
  return { classifier: new LayersClassifier(model), x, labels: Int32Array.from(testSet.labels) };
}
