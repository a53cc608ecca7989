/**
 * The epoch loop every trainer runs (plain training, quantization-aware training, adversarial training through
 * their hooks): a seeded shuffle per epoch, mini-batches with the augmentation, the learning-rate schedule set
 * on the optimizer before each step, running loss and accuracy, the progress and epoch callbacks. The step
 * itself (forward pass, loss, update) is the caller's; the loop disposes each batch after its step.
 */
import type { tf } from '../backend/tf.js';
import { Rng } from '../core/rng.js';
import { makeBatch, type Augmentation, type Batch, type ImageRecords } from './batch.js';

export type LearningRateSchedule = 'constant' | 'cosine';

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

export function learningRateAt(base: number, schedule: LearningRateSchedule, step: number, totalSteps: number): number {
  if (schedule === 'constant') return base;
  return 0.5 * base * (1 + Math.cos((Math.PI * step) / Math.max(1, totalSteps)));
}

export interface EpochLoopOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly schedule: LearningRateSchedule;
  readonly augmentation: Augmentation;
  readonly seed: number;
  readonly onStep?: (p: TrainProgress) => void;
  readonly onEpoch?: (e: EpochSummary) => void;
  /** Called at the start of every epoch, before its shuffle. */
  readonly beforeEpoch?: (epoch: number) => void;
}

export interface StepContext {
  readonly epoch: number;
  readonly step: number;
  readonly globalStep: number;
  readonly learningRate: number;
}

/** What one step reports: its mean loss and how many of the batch's images it classified correctly. */
export interface StepResult {
  readonly loss: number;
  readonly correct: number;
}

export interface EpochLoopReport {
  readonly epochs: readonly EpochSummary[];
  readonly totalSteps: number;
  readonly seconds: number;
}

/** Runs `options.epochs` epochs of `runStep` over `data` (see the module comment). */
export async function runEpochs(
  data: ImageRecords,
  options: EpochLoopOptions,
  optimizer: tf.Optimizer,
  runStep: (batch: Batch, context: StepContext) => Promise<StepResult>,
): Promise<EpochLoopReport> {
  const rng = new Rng(options.seed);
  const stepsPerEpoch = Math.ceil(data.count / options.batchSize);
  const totalSteps = stepsPerEpoch * options.epochs;
  const summaries: EpochSummary[] = [];
  const start = performance.now();
  let globalStep = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    options.beforeEpoch?.(epoch);
    const order = rng.permutation(data.count);
    const epochStart = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let step = 0; step < stepsPerEpoch; step++) {
      const idx = order.subarray(step * options.batchSize, Math.min(data.count, (step + 1) * options.batchSize));
      const learningRate = learningRateAt(options.learningRate, options.schedule, globalStep, totalSteps);
      (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
      const batch = makeBatch(data, idx, options.augmentation, rng);
      let result: StepResult;
      try {
        result = await runStep(batch, { epoch, step, globalStep, learningRate });
      } finally {
        batch.x.dispose();
        batch.labels.dispose();
      }
      lossSum += result.loss * idx.length;
      correct += result.correct;
      seen += idx.length;
      globalStep++;
      options.onStep?.({
        epoch,
        epochs: options.epochs,
        step,
        stepsPerEpoch,
        loss: lossSum / seen,
        accuracy: correct / seen,
        imagesPerSecond: seen / ((performance.now() - epochStart) / 1000),
        learningRate,
      });
    }
    const summary = { epoch, loss: lossSum / seen, accuracy: correct / seen, seconds: (performance.now() - epochStart) / 1000 };
    summaries.push(summary);
    options.onEpoch?.(summary);
  }
  return { epochs: summaries, totalSteps, seconds: (performance.now() - start) / 1000 };
}
