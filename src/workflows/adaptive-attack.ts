/**
 * The library function behind `qrobust attack DIR --adaptive`: load every form of a model directory an adaptive
 * evaluation attacks (exact and STE gradients of a quantized model, its integer-exact path, the undefended
 * parent recorded in `qrobust.json`), run `adaptiveAttack` on a seeded subset of the dataset's test split and
 * return a JSON-ready report with the per-sample outcomes, every member's seed and options, and the versions.
 *
 * The parent is `defense.parent` of a defended directory, else `quantization.parent.dir` of a quantized one; a
 * recorded parent that is no longer on disk is skipped and the reason reported.
 */
import { stat } from 'node:fs/promises';
import { initBackend, type BackendName } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { versions } from '../core/versions.js';
import { describeDataset, loadDataset, toTensors, type DatasetDescription } from '../data/index.js';
import type { Classifier } from '../models/classifier.js';
import type { ModelMetadata } from '../models/metadata.js';
import { loadClassifier } from '../quant/load-classifier.js';
import { adaptiveAttack, MASKING_GAP, type AdaptiveResult } from '../attacks/adaptive.js';
import type { AdaptiveClassifiers, AdaptiveKnobs, SkippedMember } from '../attacks/adaptive-members.js';
import type { Norm } from '../attacks/types.js';

export interface AdaptiveDirOptions extends AdaptiveKnobs {
  readonly dir: string;
  readonly epsilons: readonly number[];
  readonly norm?: Norm;
  /** Test images, a seeded subset (default 500). */
  readonly n?: number;
  readonly seed?: number;
  readonly batchSize?: number;
  readonly dataDir?: string;
  readonly backend?: BackendName;
}

export interface AdaptiveDirReport extends Omit<AdaptiveResult, 'skipped'> {
  readonly mode: 'adaptive';
  readonly model: string;
  readonly parent: string | null;
  readonly skipped: readonly SkippedMember[];
  readonly config: {
    readonly norm: Norm;
    readonly epsilons: readonly number[];
    readonly n: number;
    readonly seed: number;
    readonly knobs: AdaptiveKnobs;
    readonly maskingGap: number;
    readonly batchSize: number;
    readonly dataset: DatasetDescription;
    /** Indices of the attacked images in the test split. */
    readonly sourceIndices: readonly number[] | null;
    readonly labels: readonly number[];
    readonly classifier: string;
    readonly versions: Record<string, string>;
  };
}

/** The undefended parent `qrobust.json` records, or null. */
export function recordedParent(meta: ModelMetadata): string | null {
  const defense = meta['defense'] as { parent?: unknown } | undefined;
  if (defense && typeof defense.parent === 'string') return defense.parent;
  const quantization = meta['quantization'] as { parent?: { dir?: unknown } | null } | undefined;
  if (quantization?.parent && typeof quantization.parent.dir === 'string') return quantization.parent.dir;
  return null;
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/** The forms of a model directory an adaptive evaluation attacks, loaded once and disposed together. */
export interface LoadedForms {
  readonly forms: AdaptiveClassifiers;
  readonly meta: ModelMetadata;
  /** The parent directory the transfer member crafts on, or null. */
  readonly parent: string | null;
  /** Members left out for reasons found while loading (no integer form, a missing parent). */
  readonly skipped: readonly SkippedMember[];
  dispose(): void;
}

/**
 * Loads every form of `dir`: exact (and for quantized models STE) gradients, the integer path where there is one,
 * and the parent: `parentDir` when given (null: none), else the one `qrobust.json` records.
 */
export async function loadAdaptiveForms(dir: string, parentDir?: string | null): Promise<LoadedForms> {
  const owned: Classifier[] = [];
  const skipped: SkippedMember[] = [];
  const dispose = (): void => owned.forEach((c) => c.dispose());
  try {
    const main = await loadClassifier(dir, { gradient: 'exact' });
    owned.push(main.classifier);
    let ste: Classifier | null = null;
    let integer: Classifier | null = null;
    if (main.quantized) {
      ste = (await loadClassifier(dir, { gradient: 'ste' })).classifier;
      owned.push(ste);
      try {
        integer = (await loadClassifier(dir, { integer: true })).classifier;
        owned.push(integer);
      } catch (e) {
        if (!(e instanceof QrobustError)) throw e;
        skipped.push({ name: 'square-integer', reason: e.message });
      }
    }
    const recorded = parentDir === undefined ? recordedParent(main.meta) : parentDir;
    let parent: Classifier | null = null;
    if (recorded !== null) {
      if (await isDirectory(recorded)) {
        const p = await loadClassifier(recorded);
        owned.push(p.classifier);
        if (p.meta.dataset !== main.meta.dataset || JSON.stringify(p.meta.inputShape) !== JSON.stringify(main.meta.inputShape)) {
          throw new QrobustError('shape_mismatch', `parent ${recorded} was trained on ${p.meta.dataset} [${p.meta.inputShape.join(',')}] but ${dir} on ${main.meta.dataset} [${main.meta.inputShape.join(',')}]`);
        }
        parent = p.classifier;
      } else {
        skipped.push({ name: 'transfer', reason: `the recorded parent ${recorded} is not a directory` });
      }
    }
    return { forms: { exact: main.classifier, ste, integer, parent, randomized: false }, meta: main.meta, parent: parent ? recorded : null, skipped, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}

/**
 * Adaptive evaluation of a model directory at every ε.
 * @throws QrobustError for a missing or malformed directory, bad options, or a parent of another dataset or shape.
 */
export async function adaptiveAttackDir(o: AdaptiveDirOptions): Promise<AdaptiveDirReport> {
  if (!Array.isArray(o.epsilons) || o.epsilons.length === 0) throw new QrobustError('invalid_option', '--eps: expected a non-empty list of ε');
  const backend = await initBackend(o.backend);
  const loaded = await loadAdaptiveForms(o.dir);
  try {
    const seed = o.seed ?? 0;
    const batchSize = o.batchSize ?? 256;
    const meta = loaded.meta;
    const data = await loadDataset(meta.dataset, 'test', { dataDir: o.dataDir, n: o.n ?? 500, seed });
    if (JSON.stringify(data.shape) !== JSON.stringify(meta.inputShape)) {
      throw new QrobustError('shape_mismatch', `${o.dir} takes inputs of shape [${meta.inputShape.join(',')}] but ${meta.dataset} images are [${data.shape.join(',')}]`);
    }
    const { x, y } = toTensors(data);
    const labels = Int32Array.from(y.dataSync());
    y.dispose();
    const knobs: AdaptiveKnobs = Object.fromEntries(
      (['steps', 'restarts', 'maxQueries', 'targetClasses', 'eot'] as const).filter((k) => o[k] !== undefined).map((k) => [k, o[k]]),
    );
    let result: AdaptiveResult;
    try {
      result = adaptiveAttack(loaded.forms, x, labels, { ...knobs, epsilons: o.epsilons, seed, batchSize, ...(o.norm ? { norm: o.norm } : {}) });
    } finally {
      x.dispose();
    }
    const skippedNames = new Set(loaded.skipped.map((s) => s.name));
    return {
      mode: 'adaptive',
      model: o.dir,
      parent: loaded.parent,
      ...result,
      skipped: [...loaded.skipped, ...result.skipped.filter((s) => !skippedNames.has(s.name))],
      config: {
        norm: o.norm ?? 'linf',
        epsilons: o.epsilons,
        n: data.count,
        seed,
        knobs,
        maskingGap: MASKING_GAP,
        batchSize,
        dataset: describeDataset(data),
        sourceIndices: data.sourceIndices ? [...data.sourceIndices] : null,
        labels: [...labels],
        classifier: loaded.forms.exact.description,
        versions: { ...versions(), backend: backend.name },
      },
    };
  } finally {
    loaded.dispose();
  }
}
