/**
 * The library function behind `qrobust eval`: clean accuracy of a saved model on a dataset split. Plain and
 * quantized directories alike (a quantized one runs its fake-quant path, or with `integer` its integer path).
 */
import type { RequantRounding } from '../quant/integer/fixed-point.js';
import { initBackend, type BackendName } from '../backend/backend.js';
import { loadDataset } from '../data/index.js';
import { QrobustError } from '../core/errors.js';
import { versions } from '../core/versions.js';
import { loadClassifier } from '../quant/load-classifier.js';
import { classifierAccuracy } from '../models/classifier.js';

export interface EvaluateDirOptions {
  readonly dir: string;
  /** Defaults to the dataset the model was trained on. */
  readonly dataset?: string;
  readonly split?: 'train' | 'test';
  /** Evaluate on a seeded subset of N images. */
  readonly n?: number;
  readonly seed?: number;
  /** Run the integer-exact path (quantized models only). */
  readonly integer?: boolean;
  /** Requantization rounding on the integer path (default 'double', TFLite's default build). */
  readonly rounding?: RequantRounding;
  readonly dataDir?: string;
  readonly backend?: BackendName;
}

export interface EvaluateDirResult {
  readonly accuracy: number;
  readonly n: number;
  readonly correct: number;
  readonly model: string;
  readonly dataset: string;
  readonly split: 'train' | 'test';
  readonly variant: string;
  readonly seed: number;
  /** Which computation ran: the float model, the fake-quant path or the integer path. */
  readonly path: 'float32' | 'fake-quant' | 'integer';
  readonly seconds: number;
  readonly versions: Record<string, string>;
}

export async function evaluateModelDir(o: EvaluateDirOptions): Promise<EvaluateDirResult> {
  const backend = await initBackend(o.backend);
  if (o.rounding && !o.integer) throw new QrobustError('invalid_option', 'eval: --rounding applies to the integer path only (add --integer)');
  const { classifier, meta, quantized } = await loadClassifier(o.dir, { integer: o.integer ?? false, ...(o.rounding ? { rounding: o.rounding } : {}) });
  try {
    const dataset = o.dataset ?? meta.dataset;
    const split = o.split ?? 'test';
    const seed = o.seed ?? 0;
    const data = await loadDataset(dataset, split, o.n !== undefined ? { dataDir: o.dataDir, n: o.n, seed } : { dataDir: o.dataDir });
    if (JSON.stringify(data.shape) !== JSON.stringify(meta.inputShape)) {
      throw new QrobustError(
        'shape_mismatch',
        `${o.dir} takes inputs of shape [${meta.inputShape.join(',')}] but ${dataset} images are [${data.shape.join(',')}]`,
      );
    }
    const start = performance.now();
    const acc = classifierAccuracy(classifier, data);
    return {
      ...acc,
      model: o.dir,
      dataset: data.name,
      split,
      variant: data.variant,
      seed,
      path: o.integer ? 'integer' : quantized ? 'fake-quant' : 'float32',
      seconds: (performance.now() - start) / 1000,
      versions: { ...versions(), backend: backend.name },
    };
  } finally {
    classifier.dispose();
  }
}
