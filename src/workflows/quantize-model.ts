/**
 * The library function behind `qrobust quantize`: quantization of a model directory into one quantized
 * directory per variant (weight width), each evaluated on the test split (fake-quant and, where the spec
 * allows, integer-exact) and saved with its record. Post-training by default; with `qat`, each variant is then
 * fine-tuned by quantization-aware training from its PTQ starting point (`qatFineTune`); with `fromScratch`
 * instead of a parent directory, an architecture is trained quantized from its initialisation
 * (`qatFromScratch`).
 *
 * Layout: one width writes `out` itself; several widths write `out/<label>` per variant, the label naming the
 * variant (`w8`, `w4-pc`, `wbin`, `wter`, `w2dr`, `w4-a8-in8`, ...).
 */
import { join } from 'node:path';
import { initBackend, type BackendName } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { versions } from '../core/versions.js';
import { loadDataset } from '../data/index.js';
import type { Augmentation } from '../models/batch.js';
import { classifierPredictions, type Classifier } from '../models/classifier.js';
import { accuracyOf } from '../models/prediction.js';
import { statisticsFor } from '../models/dataset-statistics.js';
import { loadModel, type LoadedModel } from '../models/io.js';
import { refuseInputMap } from '../defenses/input-map-guard.js';
import { METADATA_FORMAT, METADATA_VERSION, readMetadata, type EvaluationRecord, type ModelMetadata } from '../models/metadata.js';
import type { EpochSummary, LearningRateSchedule, TrainProgress } from '../models/train.js';
import { parseArchName } from '../models/arch-names.js';
import { buildModel } from '../models/zoo.js';
import { fakeQuantClassifier, integerClassifier, quantizeModel, type QuantizedModel } from '../quant/ptq.js';
import { qatFineTune, qatFromScratch, type ActivationRangeMode, type QatOptions, type QatRecord, type WeightRangeRule } from '../quant/qat.js';
import { saveQuantizedModel } from '../quant/quantized-dir.js';
import { specLabel, type QuantSpec } from '../quant/spec.js';
import type { ImageDataset } from '../data/index.js';

/** Quantization-aware training of every variant (see `QatOptions` for the defaults). */
export interface QatDirOptions {
  readonly epochs: number;
  readonly learningRate?: number;
  readonly batchSize?: number;
  readonly schedule?: LearningRateSchedule;
  /** Default: 'crop-flip' for CIFAR-10, 'none' otherwise (as `qrobust train`). */
  readonly augmentation?: Augmentation;
  /** Train on a seeded subset of N training images (default: all). */
  readonly n?: number;
  readonly activationRanges?: ActivationRangeMode;
  readonly weightRange?: WeightRangeRule;
  readonly latentClip?: number | null;
  /** Called before each variant's training. */
  readonly onStart?: (info: { label: string; dataset: string; trainCount: number; epochs: number; stepsPerEpoch: number; fromScratch: boolean }) => void;
  readonly onStep?: (p: TrainProgress) => void;
  readonly onEpoch?: (e: EpochSummary) => void;
}

export interface QuantizeDirOptions {
  /** The full-precision parent directory; leave it out with `fromScratch`. */
  readonly dir?: string;
  /** Train the architecture from its initialisation on the dataset (needs `qat`) instead of quantizing a parent. */
  readonly fromScratch?: { readonly arch: string; readonly dataset: string };
  readonly out: string;
  /** One spec per variant (e.g. one per weight width). */
  readonly specs: readonly QuantSpec[];
  /** Quantization-aware training after the PTQ initialisation (or from scratch). */
  readonly qat?: QatDirOptions;
  /** Calibration images drawn from the training split (default 1000). */
  readonly calibN?: number;
  /** Seed for the calibration, evaluation and QAT training subsets, shuffling and initialisation (default 0). */
  readonly seed?: number;
  /** Evaluate on a seeded subset of N test images (default all; 0 skips evaluation). */
  readonly evalN?: number;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  /** Called after each variant is saved. */
  readonly onVariant?: (v: QuantizedVariant) => void;
}

export interface QuantizedVariant {
  readonly label: string;
  readonly dir: string;
  readonly spec: QuantSpec;
  readonly fakeQuant?: EvaluationRecord;
  readonly integer?: EvaluationRecord;
  /** Fraction of test images on which the integer and fake-quant paths predict the same class. */
  readonly agreement?: number;
  readonly integerExecutable: boolean;
  /** With QAT from a parent: the fake-quant accuracy of the PTQ model before training. */
  readonly ptq?: EvaluationRecord;
  readonly qat?: QatRecord;
  readonly seconds: number;
}

export interface QuantizeDirResult {
  /** Null when the variants were trained from scratch. */
  readonly parent: { readonly dir: string; readonly testAccuracy?: EvaluationRecord } | null;
  readonly variants: readonly QuantizedVariant[];
}

function evaluate(c: Classifier, data: ImageDataset): { record: EvaluationRecord; pred: Int32Array } {
  const pred = classifierPredictions(c, data);
  return { record: { split: 'test', variant: data.variant, n: data.count, accuracy: accuracyOf(pred, data.labels).accuracy }, pred };
}

function tryInteger(qm: QuantizedModel): Classifier | null {
  try {
    return integerClassifier(qm);
  } catch (e) {
    if (e instanceof QrobustError && e.code === 'not_integer_executable') return null;
    throw e;
  }
}

/** The metadata of a model trained from scratch, before its training record is known. */
function scratchMeta(arch: string, data: ImageDataset, seed: number, backend: string): ModelMetadata {
  const stats = statisticsFor(data.name, data);
  return {
    format: METADATA_FORMAT,
    version: METADATA_VERSION,
    dataset: data.name,
    arch,
    inputShape: data.shape,
    numClasses: data.numClasses,
    preprocessing: { inputRange: [0, 1], mean: stats.mean, std: stats.std, layout: 'NHWC' },
    seed,
    versions: { ...versions(), backend },
    createdAt: new Date().toISOString(),
  };
}

export async function quantizeDir(o: QuantizeDirOptions): Promise<QuantizeDirResult> {
  if (o.specs.length === 0) throw new QrobustError('invalid_argument', 'quantize: no variant to write');
  if ((o.dir === undefined) === (o.fromScratch === undefined)) {
    throw new QrobustError('invalid_argument', 'quantize: give either a parent model directory or --from-scratch (not both)');
  }
  if (o.fromScratch && !o.qat) throw new QrobustError('invalid_argument', 'quantize: --from-scratch trains the model, so it needs --qat-epochs');
  const backend = await initBackend(o.backend);
  const seed = o.seed ?? 0;
  const calibN = o.calibN ?? 1000;
  let loaded: LoadedModel | undefined;
  let scratch: { arch: ReturnType<typeof parseArchName>; dataset: string } | undefined;
  if (o.fromScratch) scratch = { arch: parseArchName(o.fromScratch.arch), dataset: o.fromScratch.dataset };
  else {
    refuseInputMap(await readMetadata(o.dir!), o.dir!, 'quantize');
    loaded = await loadModel(o.dir!);
  }
  try {
    const dataset = loaded ? loaded.meta.dataset : scratch!.dataset;
    const needsCalibration = o.specs.some((s) => s.activations !== null);
    const calib = needsCalibration || o.qat ? await loadDataset(dataset, 'train', { dataDir: o.dataDir, n: calibN, seed }) : undefined;
    const calibSource = { dataset, split: 'train', n: calibN, seed };
    const train = o.qat
      ? await loadDataset(dataset, 'train', o.qat.n !== undefined ? { dataDir: o.dataDir, n: o.qat.n, seed } : { dataDir: o.dataDir })
      : undefined;
    const evalN = o.evalN;
    const test = evalN === 0 ? undefined : await loadDataset(dataset, 'test', evalN !== undefined ? { dataDir: o.dataDir, n: evalN, seed } : { dataDir: o.dataDir });
    const variants: QuantizedVariant[] = [];
    for (const spec of o.specs) {
      const start = performance.now();
      const label = specLabel(spec);
      const dir = o.specs.length === 1 ? o.out : join(o.out, label);
      let qm: QuantizedModel;
      let ptq: EvaluationRecord | undefined;
      let qat: QatRecord | undefined;
      let topology: ReturnType<typeof buildModel> | undefined;
      if (loaded) {
        qm = quantizeModel(loaded, spec, needsCalibration ? calib : undefined, { source: calibSource });
        if (o.qat && test) {
          const fc = fakeQuantClassifier(qm);
          ptq = evaluate(fc, test).record;
          fc.dispose();
        }
      }
      if (o.qat) {
        const q = o.qat;
        const augmentation = q.augmentation ?? (dataset === 'cifar10' ? 'crop-flip' : 'none');
        const options: QatOptions = {
          epochs: q.epochs,
          seed,
          augmentation,
          ...(q.learningRate !== undefined ? { learningRate: q.learningRate } : {}),
          ...(q.batchSize !== undefined ? { batchSize: q.batchSize } : {}),
          ...(q.schedule !== undefined ? { schedule: q.schedule } : {}),
          ...(q.activationRanges !== undefined ? { activationRanges: q.activationRanges } : {}),
          ...(q.weightRange !== undefined ? { weightRange: q.weightRange } : {}),
          ...(q.latentClip !== undefined ? { latentClip: q.latentClip } : {}),
          calibrationData: calib!,
          calibration: { source: calibSource, seed },
          ...(q.onStep ? { onStep: q.onStep } : {}),
          ...(q.onEpoch ? { onEpoch: q.onEpoch } : {}),
        };
        q.onStart?.({
          label,
          dataset,
          trainCount: train!.count,
          epochs: q.epochs,
          stepsPerEpoch: Math.ceil(train!.count / (q.batchSize ?? 128)),
          fromScratch: !loaded,
        });
        let result;
        if (loaded) result = await qatFineTune(loaded, spec, train!, options);
        else {
          const stats = statisticsFor(train!.name, train!);
          topology = buildModel(scratch!.arch, { inputShape: train!.shape, numClasses: train!.numClasses, mean: stats.mean, std: stats.std }, seed);
          result = await qatFromScratch(topology, scratchMeta(scratch!.arch, train!, seed, backend.name), spec, train!, options);
        }
        qat = result.record;
        qm = result.model;
        if (!loaded) {
          const training = {
            epochs: qat.epochs,
            batchSize: qat.batchSize,
            optimizer: 'adam',
            learningRate: qat.lr,
            schedule: qat.schedule,
            augmentation: qat.augmentation,
            trainCount: qat.trainCount,
            seconds: qat.seconds,
            imagesPerSecond: (qat.trainCount * qat.epochs) / qat.seconds,
            workers: 1,
          };
          qm = { ...qm, meta: { ...qm.meta, training } };
        }
      }
      try {
        const ic = tryInteger(qm!);
        let fakeQuant: EvaluationRecord | undefined;
        let integer: EvaluationRecord | undefined;
        let agreement: number | undefined;
        if (test) {
          const fc = fakeQuantClassifier(qm!);
          const f = evaluate(fc, test);
          fc.dispose();
          fakeQuant = f.record;
          if (ic) {
            const i = evaluate(ic, test);
            integer = i.record;
            let same = 0;
            for (let k = 0; k < test.count; k++) if (i.pred[k] === f.pred[k]) same++;
            agreement = test.count ? same / test.count : 1;
          }
        }
        const accuracy = fakeQuant ? { fakeQuant, ...(integer ? { integer } : {}) } : undefined;
        await saveQuantizedModel(dir, qm!, {
          parentDir: o.dir ?? null,
          integerExecutable: ic !== null,
          ...(accuracy ? { accuracy } : {}),
          ...(qat ? { qat } : {}),
          ...(topology ? { topology } : {}),
        });
        const v: QuantizedVariant = {
          label: qm!.label,
          dir,
          spec,
          ...(fakeQuant ? { fakeQuant } : {}),
          ...(integer ? { integer } : {}),
          ...(agreement !== undefined ? { agreement } : {}),
          integerExecutable: ic !== null,
          ...(ptq ? { ptq } : {}),
          ...(qat ? { qat } : {}),
          seconds: (performance.now() - start) / 1000,
        };
        variants.push(v);
        o.onVariant?.(v);
      } finally {
        topology?.dispose();
      }
    }
    const parent = loaded ? { dir: o.dir!, ...(loaded.meta.testAccuracy ? { testAccuracy: loaded.meta.testAccuracy } : {}) } : null;
    return { parent, variants };
  } finally {
    loaded?.model.dispose();
  }
}
