/**
 * Training: mini-batch Adam on softmax cross-entropy (or the loss a per-batch `stepHook` makes, e.g.
 * adversarial training) over the shared epoch loop (`epochs.ts`: seeded shuffling and augmentation, cosine or
 * constant learning rate, progress callbacks). Each batch is split across worker threads (`workers`, see
 * `backend/parallel`). Deterministic for a given seed, backend and number of threads.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { check } from '../core/errors.js';
import { AUTO_MIN_SHARD_MACS, DataParallel } from '../backend/parallel/data-parallel.js';
import type { TrainingObjective } from '../backend/parallel/shard-tasks.js';
import type { Batch, ImageRecords } from './batch.js';
import { runEpochs, type EpochLoopOptions, type EpochSummary } from './epochs.js';

export { learningRateAt, type EpochSummary, type LearningRateSchedule, type TrainProgress } from './epochs.js';

/** The epoch loop's options (epochs, batch size, learning rate and schedule, augmentation, seed, callbacks) and: */
export interface TrainOptions extends Omit<EpochLoopOptions, 'beforeEpoch'> {
  /**
   * Threads to train on, the main thread included; 1 trains on the main thread only. Default: QROBUST_WORKERS,
   * else automatic: the available cores capped at 2 (1 on the 'node' backend), where a batch carries enough work
   * to pay for a second thread (not for the small MLPs). Without batch norm the result matches one thread up to
   * float rounding; with it, each thread normalises its part of the batch with that part's statistics.
   * `TrainReport.workers` says how many were used.
   */
  readonly workers?: number;
  /**
   * Makes each step's inputs and loss from the drawn batch (e.g. adversarial training); without it a step
   * minimises the cross-entropy of the batch itself.
   */
  readonly stepHook?: TrainingStepHook;
}

/** Where a training step stands, for a `TrainingStepHook`. */
export interface TrainingStepContext {
  /** The data-parallel executor of the model being trained (its weights are the current ones). */
  readonly parallel: DataParallel;
  readonly epoch: number;
  readonly step: number;
  readonly globalStep: number;
}

/** What one training step minimises: the mean of `objective`'s loss (default cross-entropy) over `x`. */
export interface TrainingStepInputs {
  readonly x: tf.Tensor4D;
  readonly labels: tf.Tensor1D;
  readonly objective?: TrainingObjective;
}

/**
 * A per-batch hook of the training loop: turns the drawn batch into the step's inputs and loss. The loop owns
 * what it returns (and disposes it, and the batch, after the step). Tasks the hook runs on the threads
 * (shard transforms, shard losses) live in `workerModules`, which every worker imports.
 */
export interface TrainingStepHook {
  readonly workerModules?: readonly string[];
  /**
   * The work of one hooked step in plain training steps (e.g. PGD's steps + 1), so that the automatic thread
   * count splits batches that are small but expensive; default 1.
   */
  readonly workFactor?: number;
  makeStep(batch: Batch, context: TrainingStepContext): Promise<TrainingStepInputs>;
}

export const TRAIN_DEFAULTS: Omit<TrainOptions, 'epochs' | 'seed'> = {
  batchSize: 128,
  learningRate: 1e-3,
  schedule: 'cosine',
  augmentation: 'none',
};

export interface TrainReport {
  readonly epochs: readonly EpochSummary[];
  readonly seconds: number;
  readonly imagesPerSecond: number;
  /** Threads actually used, the main thread included. */
  readonly workers: number;
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
  const modules = opts.stepHook?.workerModules ? { workerModules: opts.stepHook.workerModules } : {};
  const minShardMacs = AUTO_MIN_SHARD_MACS / Math.max(1, opts.stepHook?.workFactor ?? 1);
  const parallel = await DataParallel.create(
    model,
    opts.workers !== undefined ? { workers: opts.workers, ...modules } : { batchSize: opts.batchSize, minShardMacs, ...modules },
  );
  const optimizer = tf.train.adam(opts.learningRate);
  try {
    const report = await runEpochs(data, opts, optimizer, async (batch, c) => {
      let inputs: TrainingStepInputs | undefined;
      try {
        inputs = opts.stepHook ? await opts.stepHook.makeStep(batch, { parallel, epoch: c.epoch, step: c.step, globalStep: c.globalStep }) : batch;
        return await parallel.trainStep(inputs.x, inputs.labels, optimizer, inputs.objective);
      } finally {
        if (inputs && inputs !== batch) tf.dispose([inputs.x, inputs.labels, ...(inputs.objective?.companion ? [inputs.objective.companion] : [])]);
      }
    });
    return { epochs: report.epochs, seconds: report.seconds, imagesPerSecond: (data.count * opts.epochs) / report.seconds, workers: parallel.workers };
  } finally {
    optimizer.dispose();
    await parallel.close();
  }
}
