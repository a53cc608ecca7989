/**
 * The training loop: mini-batch Adam on softmax cross-entropy, seeded shuffling and augmentation, cosine or
 * constant learning rate, progress callbacks. Deterministic for a given seed and backend.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { Rng } from '../core/rng.js';
import { check } from '../core/errors.js';
import { makeBatch, type Augmentation, type ImageRecords } from './batch.js';

export type LearningRateSchedule = 'constant' | 'cosine';

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly schedule: LearningRateSchedule;
  readonly augmentation: Augmentation;
  readonly seed: number;
  /** Called after every step; cheap to ignore. */
  readonly onStep?: (p: TrainProgress) => void;
  /** Called after every epoch with the epoch's mean loss and accuracy. */
  readonly onEpoch?: (e: EpochSummary) => void;
}

export const TRAIN_DEFAULTS: Omit<TrainOptions, 'epochs' | 'seed'> = {
  batchSize: 128,
  learningRate: 1e-3,
  schedule: 'cosine',
  augmentation: 'none',
};

export interface TrainProgress {
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly imagesPerSecond: number;
  readonly learningRate: number;
}

export interface EpochSummary {
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly seconds: number;
}

export interface TrainReport {
  readonly epochs: readonly EpochSummary[];
  readonly seconds: number;
  readonly imagesPerSecond: number;
}

export function learningRateAt(base: number, schedule: LearningRateSchedule, step: number, totalSteps: number): number {
  if (schedule === 'constant') return base;
  return 0.5 * base * (1 + Math.cos((Math.PI * step) / Math.max(1, totalSteps)));
}

/** Trains `model` in place on `data` and returns per-epoch loss/accuracy and the throughput reached. */
export async function trainModel(
  model: tfl.LayersModel,
  data: ImageRecords,
  options: Partial<TrainOptions> & Pick<TrainOptions, 'epochs' | 'seed'>,
): Promise<TrainReport> {
  const opts: TrainOptions = { ...TRAIN_DEFAULTS, ...options };
  check(Number.isInteger(opts.epochs) && opts.epochs >= 1, `epochs must be a positive integer, got ${opts.epochs}`);
  check(Number.isInteger(opts.batchSize) && opts.batchSize >= 1, `batch size must be a positive integer, got ${opts.batchSize}`);
  check(opts.learningRate > 0, `learning rate must be positive, got ${opts.learningRate}`);
  check(data.count > 0, 'the training set is empty');
  const rng = new Rng(opts.seed);
  const optimizer = tf.train.adam(opts.learningRate);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const stepsPerEpoch = Math.ceil(data.count / opts.batchSize);
  const totalSteps = stepsPerEpoch * opts.epochs;
  const summaries: EpochSummary[] = [];
  const start = performance.now();
  let globalStep = 0;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = rng.permutation(data.count);
      const epochStart = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        const idx = order.subarray(step * opts.batchSize, Math.min(data.count, (step + 1) * opts.batchSize));
        const lr = learningRateAt(opts.learningRate, opts.schedule, globalStep, totalSteps);
        (optimizer as unknown as { learningRate: number }).learningRate = lr;
        const batch = makeBatch(data, idx, opts.augmentation, rng);
        let correctT: tf.Tensor | undefined;
        const lossT = optimizer.minimize(
          () => {
            const logits = model.apply(batch.x, { training: true }) as tf.Tensor2D;
            correctT = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), batch.labels), 'int32')));
            return tf.losses.softmaxCrossEntropy(tf.oneHot(batch.labels, logits.shape[1]), logits);
          },
          true,
          vars,
        );
        const loss = (await lossT!.data())[0]!;
        const c = (await correctT!.data())[0]!;
        tf.dispose([lossT!, correctT!, batch.x, batch.labels]);
        lossSum += loss * idx.length;
        correct += c;
        seen += idx.length;
        globalStep++;
        opts.onStep?.({
          epoch,
          epochs: opts.epochs,
          step,
          stepsPerEpoch,
          loss: lossSum / seen,
          accuracy: correct / seen,
          imagesPerSecond: seen / ((performance.now() - epochStart) / 1000),
          learningRate: lr,
        });
      }
      const summary = { epoch, loss: lossSum / seen, accuracy: correct / seen, seconds: (performance.now() - epochStart) / 1000 };
      summaries.push(summary);
      opts.onEpoch?.(summary);
    }
  } finally {
    optimizer.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  return { epochs: summaries, seconds, imagesPerSecond: (data.count * opts.epochs) / seconds };
}
