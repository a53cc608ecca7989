/**
 * Test fixtures for the attacks: hand-built linear classifiers (with closed-form minimal perturbations), a
 * randomized classifier for EOT, and a briefly trained MNIST mlp-tiny.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
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

/**
 * A 2-class linear model with seeded Gaussian weights whose logit difference z_1 − z_0 equals −`margin` at the
 * all-0.5 input, so class 0 wins there. The smallest perturbation that flips it is known in closed form: the
 * margin over ‖w_1 − w_0‖₂ (L2) or over ‖w_1 − w_0‖₁ (L∞), reached inside [0,1] when those are small.
 */
/**
 * A two-class linear model on a 2×2×1 image shared by the closed-form tests: class 0 wins at x = 0.5 (its bias is
 * larger), so an untargeted attack has work to do. Rows of `LINEAR_W2` are pixels, columns classes.
 */
export const LINEAR_SHAPE = [2, 2, 1] as const;
export const LINEAR_W2 = [
  [0.9, -0.4],
  [-0.3, 0.7],
  [0.5, 1.2],
  [-0.8, -0.1],
];
export const LINEAR_B2 = [1.5, 0];

export function twoClassLinear(shape: readonly [number, number, number], seed: number, margin: number): {
  model: LinearClassifier;
  minL2: number;
  minLinf: number;
  direction: number[];
} {
  const rng = new Rng(seed);
  const d = shape[0] * shape[1] * shape[2];
  const weights = Array.from({ length: d }, () => [0.1 * rng.normal(), 0.1 * rng.normal()]);
  const direction = weights.map((row) => row[1]! - row[0]!);
  const atHalf = 0.5 * direction.reduce((s, v) => s + v, 0);
  const model = new LinearClassifier(shape, weights, [atHalf + margin, 0]);
  const l2 = Math.hypot(...direction);
  const l1 = direction.reduce((s, v) => s + Math.abs(v), 0);
  return { model, minL2: margin / l2, minLinf: margin / l1, direction };
}

/**
 * A randomized classifier for EOT: every call keeps each input pixel with probability `keep` (a fresh seeded
 * mask per call) before a linear map, so one gradient sees only the kept pixels while the expected gradient
 * is `keep` times the linear model's.
 */
export class RandomMaskClassifier implements Classifier {
  readonly numClasses: number;
  readonly bounds = [0, 1] as const;
  readonly gradientMode = 'exact' as const;
  readonly description = 'randomly masked linear test model';
  private readonly rng: Rng;

  constructor(
    readonly inner: LinearClassifier,
    readonly keep: number,
    seed: number,
  ) {
    this.numClasses = inner.numClasses;
    this.rng = new Rng(seed);
  }

  get inputShape(): readonly [number, number, number] {
    return this.inner.inputShape;
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    const mask = Float32Array.from({ length: x.size }, () => (this.rng.next() < this.keep ? 1 : 0));
    return tf.tidy(() => this.inner.logits(tf.mul(x, tf.tensor4d(mask, x.shape)) as tf.Tensor4D));
  }

  dispose(): void {
    this.inner.dispose();
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
