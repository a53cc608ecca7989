/**
 * The MNIST CNN the throughput benchmarks use (qrobust's 'cnn-small': conv 3x3x16 same + ReLU, max-pool 2,
 * conv 3x3x32 same + ReLU, max-pool 2, dense 1568→128 ReLU, dense 128→10; pixels in [0,1], normalization
 * inside), with a random batch and the three workloads: forward pass, input gradient (one attack step) and
 * one Adam training step.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../src/backend/tf.js';
import { buildModel, type ModelInputSpec } from '../src/models/zoo.js';

export const MNIST_SPEC: ModelInputSpec = { inputShape: [28, 28, 1], numClasses: 10, mean: [0.1307], std: [0.3081] };

export interface CnnWorkload {
  readonly model: tfl.LayersModel;
  readonly batchSize: number;
  /** Runs the forward pass and reads the logits. */
  forward(): void;
  /** Gradient of the mean cross-entropy w.r.t. the input batch (forward + backward), read back. */
  inputGradient(): void;
  /** One Adam step on all trainable weights; reads the loss. */
  trainStep(): void;
  dispose(): void;
}

/** A fresh untrained model and a fixed random batch (pixels uniform in [0,1], random labels). */
export function mnistCnnWorkload(batchSize: number, seed = 1): CnnWorkload {
  const model = buildModel('cnn-small', MNIST_SPEC, seed);
  const x = tf.randomUniform([batchSize, 28, 28, 1], 0, 1, 'float32', seed);
  const labels = tf.randomUniform([batchSize], 0, 10, 'int32', seed + 1);
  const oneHot = tf.oneHot(labels, 10);
  const loss = (input: tf.Tensor, training: boolean): tf.Scalar =>
    tf.losses.softmaxCrossEntropy(oneHot, model.apply(input, { training }) as tf.Tensor2D) as tf.Scalar;
  const gradFn = tf.grad((input: tf.Tensor) => loss(input, false));
  const optimizer = tf.train.adam(1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const readAndDispose = (t: tf.Tensor): void => {
    t.dataSync();
    t.dispose();
  };
  return {
    model,
    batchSize,
    forward: () => readAndDispose(tf.tidy(() => model.apply(x) as tf.Tensor)),
    inputGradient: () => readAndDispose(tf.tidy(() => gradFn(x))),
    trainStep: () => readAndDispose(optimizer.minimize(() => loss(x, true), true, vars) as tf.Scalar),
    dispose: () => {
      optimizer.dispose();
      model.dispose();
      tf.dispose([x, labels, oneHot]);
    },
  };
}
