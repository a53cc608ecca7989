/**
 * The quantization-aware half of `qrobust defend`, shared by the defenses that fine-tune through QAT with a
 * per-batch objective (adversarial QAT, boundary retraining): from a float parent at each of `bits`, or from a
 * quantized parent under its own spec, train, evaluate (fake-quant, and integer where it exists), save the
 * quantized directory and add the `defense` record.
 */
import { join } from 'node:path';
import { loadDataset, type ImageDataset } from '../data/index.js';
import { classifierAccuracy, type Classifier } from '../models/classifier.js';
import { loadModel } from '../models/io.js';
import { readMetadata, writeMetadata, type EvaluationRecord } from '../models/metadata.js';
import { boundsOf, fakeQuantClassifier, integerClassifier, isIntegerExecutable, type QuantizedModel } from '../quant/ptq.js';
import { qatFineTune, qatTrainGraph, type QatOptions, type QatRecord } from '../quant/qat.js';
import { loadQuantizedModel, saveQuantizedModel } from '../quant/quantized-dir.js';
import { makeQuantSpec, specLabel } from '../quant/spec.js';
import type { DefendedModel, DefendOptions, DefenseRecord } from './defend.js';

/** Test accuracy of a classifier as an evaluation record. */
export function evaluateOn(c: Classifier, test: ImageDataset): EvaluationRecord {
  return { split: 'test', variant: test.variant, n: test.count, accuracy: classifierAccuracy(c, test).accuracy };
}

/** Adds the `defense` field to a saved directory's `qrobust.json`. */
export async function addDefense(dir: string, defense: DefenseRecord): Promise<void> {
  const meta = await readMetadata(dir);
  await writeMetadata(dir, { ...meta, defense });
}

/** What every fine-tuning defense takes from its options: the seed, epochs, batch size, learning rate, and the data. */
export interface FineTuneSetup {
  readonly seed: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly train: ImageDataset;
  /** Undefined with `evalN: 0`. */
  readonly test: ImageDataset | undefined;
}

/** The fine-tuning defaults of `qrobust defend` (one epoch, batch 128, Adam 1e-3, as `qrobust train`). */
export const FINE_TUNE_DEFAULTS = { epochs: 1, batchSize: 128, learningRate: 1e-3 } as const;

/** Resolves the fine-tuning options and loads the training split (and the test images the result is scored on). */
export async function fineTuneSetup(o: DefendOptions, dataset: string): Promise<FineTuneSetup> {
  const seed = o.seed ?? 0;
  const train = await loadDataset(dataset, 'train', o.n !== undefined ? { dataDir: o.dataDir, n: o.n, seed } : { dataDir: o.dataDir });
  const test = o.evalN === 0 ? undefined : await loadDataset(dataset, 'test', o.evalN !== undefined ? { dataDir: o.dataDir, n: o.evalN, seed } : { dataDir: o.dataDir });
  return {
    seed,
    epochs: o.epochs ?? FINE_TUNE_DEFAULTS.epochs,
    batchSize: o.batchSize ?? FINE_TUNE_DEFAULTS.batchSize,
    learningRate: o.learningRate ?? FINE_TUNE_DEFAULTS.learningRate,
    train,
    test,
  };
}

export interface QatDefenseRun {
  readonly options: DefendOptions;
  /** Whether the parent `options.dir` is quantized (then `options.bits` is empty). */
  readonly quantizedParent: boolean;
  readonly train: ImageDataset;
  readonly test: ImageDataset | undefined;
  readonly qat: QatOptions;
  /** The defense record of one trained model, from its training time and label. */
  readonly record: (seconds: number, label: string) => DefenseRecord;
  readonly started: (label: string) => void;
  /** What the evaluated classifiers are wrapped in (e.g. an input map); owns the classifier it is given. */
  readonly through?: (c: Classifier) => Classifier;
}

/** Trains, evaluates and saves every variant; returns the defended models in order. */
export async function qatDefense(r: QatDefenseRun): Promise<DefendedModel[]> {
  const o = r.options;
  const variants: { out: string; train: () => Promise<{ qm: QuantizedModel; qat: QatRecord }> }[] = [];
  if (r.quantizedParent) {
    variants.push({
      out: o.out,
      train: async () => {
        const parent = await loadQuantizedModel(o.dir!);
        r.started(parent.label);
        const t = await qatTrainGraph(parent.graph, boundsOf(parent.meta), parent.spec, r.train, r.qat, false);
        return { qm: { ...parent, graph: t.graph, plan: t.plan, calibration: t.calibration }, qat: t.record };
      },
    });
  } else {
    for (const bits of o.bits!) {
      const spec = makeQuantSpec({ weights: { bits } });
      variants.push({
        out: o.bits!.length === 1 ? o.out : join(o.out, specLabel(spec)),
        train: async () => {
          const loaded = await loadModel(o.dir!);
          try {
            r.started(specLabel(spec));
            const t = await qatFineTune(loaded, spec, r.train, r.qat);
            return { qm: t.model, qat: t.record };
          } finally {
            loaded.model.dispose();
          }
        },
      });
    }
  }
  const models: DefendedModel[] = [];
  for (const v of variants) {
    const start = performance.now();
    const { qm, qat } = await v.train();
    const integerExecutable = isIntegerExecutable(qm);
    let fakeQuant: EvaluationRecord | undefined;
    let integer: EvaluationRecord | undefined;
    if (r.test) {
      const wrap = r.through ?? ((c: Classifier): Classifier => c);
      const fc = wrap(fakeQuantClassifier(qm));
      fakeQuant = evaluateOn(fc, r.test);
      fc.dispose();
      if (integerExecutable) {
        const ic = wrap(integerClassifier(qm));
        integer = evaluateOn(ic, r.test);
        ic.dispose();
      }
    }
    const accuracy = fakeQuant ? { fakeQuant, ...(integer ? { integer } : {}) } : undefined;
    await saveQuantizedModel(v.out, qm, { parentDir: o.dir!, integerExecutable, ...(accuracy ? { accuracy } : {}), qat });
    await addDefense(v.out, r.record(qat.seconds, qm.label));
    models.push({ dir: v.out, label: qm.label, ...(fakeQuant ? { testAccuracy: fakeQuant } : {}), ...(integer ? { integerAccuracy: integer } : {}), seconds: (performance.now() - start) / 1000 });
  }
  return models;
}
