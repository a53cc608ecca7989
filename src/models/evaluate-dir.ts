/** The library function behind `qrobust eval`: clean accuracy of a saved model on a dataset split. */
import { initBackend, type BackendName } from '../backend/backend.js';
import { loadDataset } from '../data/index.js';
import { QrobustError } from '../core/errors.js';
import { versions } from '../core/versions.js';
import { loadModel } from './io.js';
import { evaluateAccuracy } from './evaluate.js';

export interface EvaluateDirOptions {
  readonly dir: string;
  /** Defaults to the dataset the model was trained on. */
  readonly dataset?: string;
  readonly split?: 'train' | 'test';
  /** Evaluate on a seeded subset of N images. */
  readonly n?: number;
  readonly seed?: number;
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
  readonly seconds: number;
  readonly versions: Record<string, string>;
}

export async function evaluateModelDir(o: EvaluateDirOptions): Promise<EvaluateDirResult> {
  const backend = await initBackend(o.backend);
  const { model, meta } = await loadModel(o.dir);
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
    const acc = evaluateAccuracy(model, data);
    return {
      ...acc,
      model: o.dir,
      dataset: data.name,
      split,
      variant: data.variant,
      seed,
      seconds: (performance.now() - start) / 1000,
      versions: { ...versions(), backend: backend.name },
    };
  } finally {
    model.dispose();
  }
}
