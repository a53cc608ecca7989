/**
 * The library function behind `qrobust train`: load data, build the architecture, train, measure test
 * accuracy, save the model with a complete `qrobust.json` (dataset, arch, preprocessing, seed, training record,
 * test accuracy and which test files were used, package versions).
 */
import { initBackend, type BackendName } from '../backend/backend.js';
import { loadDataset } from '../data/index.js';
import { versions } from '../core/versions.js';
import { parseArchName } from './arch-names.js';
import { buildModel } from './zoo.js';
import { statisticsFor } from './dataset-statistics.js';
import { trainModel, type EpochSummary, type LearningRateSchedule, type TrainProgress } from './train.js';
import { evaluateAccuracy } from './evaluate.js';
import { saveModel } from './io.js';
import { METADATA_FORMAT, METADATA_VERSION, type EvaluationRecord, type ModelMetadata } from './metadata.js';
import type { Augmentation } from './batch.js';

export interface TrainAndSaveOptions {
  readonly dataset: string;
  readonly arch: string;
  readonly out: string;
  readonly epochs: number;
  readonly seed: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  readonly schedule?: LearningRateSchedule;
  readonly augmentation?: Augmentation;
  /** Train on a seeded subset of this many images. */
  readonly n?: number;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  /** Threads to split each batch over (default: see DataParallel). */
  readonly workers?: number;
  readonly onStart?: (info: { dataset: string; arch: string; trainCount: number; epochs: number; stepsPerEpoch: number; backend: string }) => void;
  readonly onStep?: (p: TrainProgress) => void;
  readonly onEpoch?: (e: EpochSummary) => void;
}

export interface TrainAndSaveResult {
  readonly dir: string;
  readonly testAccuracy: EvaluationRecord;
  readonly trainSeconds: number;
  readonly meta: ModelMetadata;
}

const DEFAULT_LR: Record<string, number> = { 'mlp-tiny': 2e-3, 'mlp-100': 1e-3, mlp: 1e-3, 'cnn-small': 2e-3, 'cnn-cifar': 2e-3 };

export async function trainAndSave(o: TrainAndSaveOptions): Promise<TrainAndSaveResult> {
  const arch = parseArchName(o.arch);
  const backend = await initBackend(o.backend);
  const loadOpts = { dataDir: o.dataDir, seed: o.seed };
  const train = await loadDataset(o.dataset, 'train', o.n !== undefined ? { ...loadOpts, n: o.n } : loadOpts);
  const test = await loadDataset(o.dataset, 'test', { dataDir: o.dataDir });
  const stats = statisticsFor(train.name, train);
  const model = buildModel(arch, { inputShape: train.shape, numClasses: train.numClasses, mean: stats.mean, std: stats.std }, o.seed);
  const batchSize = o.batchSize ?? 128;
  const learningRate = o.learningRate ?? DEFAULT_LR[arch] ?? 1e-3;
  const schedule = o.schedule ?? 'cosine';
  const augmentation = o.augmentation ?? (train.name === 'cifar10' ? 'crop-flip' : 'none');
  o.onStart?.({
    dataset: train.name,
    arch,
    trainCount: train.count,
    epochs: o.epochs,
    stepsPerEpoch: Math.ceil(train.count / batchSize),
    backend: backend.name,
  });
  try {
    const report = await trainModel(model, train, {
      epochs: o.epochs,
      seed: o.seed,
      batchSize,
      learningRate,
      schedule,
      augmentation,
      onStep: o.onStep,
      onEpoch: o.onEpoch,
      ...(o.workers !== undefined ? { workers: o.workers } : {}),
    });
    const acc = evaluateAccuracy(model, test);
    const testAccuracy: EvaluationRecord = { split: 'test', variant: test.variant, n: acc.n, accuracy: acc.accuracy };
    const meta: ModelMetadata = {
      format: METADATA_FORMAT,
      version: METADATA_VERSION,
      dataset: train.name,
      arch,
      inputShape: train.shape,
      numClasses: train.numClasses,
      preprocessing: { inputRange: [0, 1], mean: stats.mean, std: stats.std, layout: 'NHWC' },
      seed: o.seed,
      training: {
        epochs: o.epochs,
        batchSize,
        optimizer: 'adam',
        learningRate,
        schedule,
        augmentation,
        trainCount: train.count,
        seconds: report.seconds,
        imagesPerSecond: report.imagesPerSecond,
        workers: report.workers,
      },
      testAccuracy,
      versions: { ...versions(), backend: backend.name },
      createdAt: new Date().toISOString(),
    };
    await saveModel(o.out, model, meta);
    return { dir: o.out, testAccuracy, trainSeconds: report.seconds, meta };
  } finally {
    model.dispose();
  }
}
