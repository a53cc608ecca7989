/**
 * Ensemble model directories: a directory holding only a `qrobust.json` whose `ensemble` field lists the
 * member directories (paths relative to the ensemble directory, so the set can move as a whole) and how their
 * predictions are combined. The normal loader (`loadClassifier`) recognises the field and loads every member
 * with the same options, so `eval`, `attack` and the experiment runner take an ensemble like any model.
 */
import { mkdir } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { QrobustError } from '../core/errors.js';
import { versions } from '../core/versions.js';
import type { Classifier } from '../models/classifier.js';
import { METADATA_FORMAT, METADATA_VERSION, readMetadata, writeMetadata, type EvaluationRecord, type ModelMetadata } from '../models/metadata.js';
import { EnsembleClassifier, isEnsembleCombine, type EnsembleCombine } from './ensemble.js';

export const ENSEMBLE_ARCH = 'ensemble';
export const ENSEMBLE_RECORD_VERSION = 1;

export interface EnsembleMemberRecord {
  /** The member's directory, relative to the ensemble directory. */
  readonly dir: string;
  /** The member's quantization label ('w4', ...) or 'float'. */
  readonly label: string;
  readonly testAccuracy?: EvaluationRecord;
}

/** The `ensemble` field of an ensemble directory's `qrobust.json`. */
export interface EnsembleRecord {
  readonly version: number;
  readonly combine: EnsembleCombine;
  readonly members: readonly EnsembleMemberRecord[];
}

export function isEnsembleMeta(meta: ModelMetadata): boolean {
  return typeof meta['ensemble'] === 'object' && meta['ensemble'] !== null;
}

function labelOf(meta: ModelMetadata): string {
  const q = meta['quantization'] as { label?: unknown } | undefined;
  return typeof q?.label === 'string' ? q.label : 'float';
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export interface SaveEnsembleOptions {
  readonly out: string;
  readonly members: readonly string[];
  readonly combine: EnsembleCombine;
  /** Extra top-level fields of `qrobust.json` (e.g. the defense record). */
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly testAccuracy?: EvaluationRecord;
  readonly seed?: number;
}

/**
 * Writes an ensemble directory over member model directories (float, quantized or imported).
 * @throws QrobustError('invalid_argument') for fewer than two members, a member that is an ensemble itself, or
 *   members of different datasets, input shapes, classes or input ranges.
 */
export async function saveEnsembleDir(o: SaveEnsembleOptions): Promise<ModelMetadata> {
  if (o.members.length < 2) throw new QrobustError('invalid_argument', `--members: an ensemble needs at least two member directories, got ${o.members.length}`);
  const metas = await Promise.all(o.members.map((d) => readMetadata(d)));
  const first = metas[0]!;
  metas.forEach((m, i) => {
    const dir = o.members[i]!;
    if (isEnsembleMeta(m)) throw new QrobustError('invalid_argument', `--members: ${dir} is an ensemble itself; list its members instead`);
    const range = m.preprocessing?.inputRange ?? [0, 1];
    const firstRange = first.preprocessing?.inputRange ?? [0, 1];
    if (m.dataset !== first.dataset || !same(m.inputShape, first.inputShape) || m.numClasses !== first.numClasses || !same(range, firstRange)) {
      throw new QrobustError(
        'invalid_argument',
        `--members: ${dir} (${m.dataset}, [${m.inputShape.join(',')}], ${m.numClasses} classes, inputs in [${range.join(', ')}]) does not match ` +
          `${o.members[0]} (${first.dataset}, [${first.inputShape.join(',')}], ${first.numClasses} classes, inputs in [${firstRange.join(', ')}])`,
      );
    }
  });
  await mkdir(o.out, { recursive: true });
  const record: EnsembleRecord = {
    version: ENSEMBLE_RECORD_VERSION,
    combine: o.combine,
    members: o.members.map((d, i) => ({
      dir: relative(resolve(o.out), resolve(d)),
      label: labelOf(metas[i]!),
      ...(metas[i]!.testAccuracy ? { testAccuracy: metas[i]!.testAccuracy } : {}),
    })),
  };
  const meta: ModelMetadata = {
    format: METADATA_FORMAT,
    version: METADATA_VERSION,
    dataset: first.dataset,
    arch: ENSEMBLE_ARCH,
    inputShape: first.inputShape,
    numClasses: first.numClasses,
    preprocessing: first.preprocessing,
    seed: o.seed ?? first.seed,
    ...(o.testAccuracy ? { testAccuracy: o.testAccuracy } : {}),
    versions: versions(),
    createdAt: new Date().toISOString(),
    ensemble: record,
    ...o.extra,
  };
  await writeMetadata(o.out, meta);
  return meta;
}

/** The ensemble record of a directory's metadata, checked. */
export function ensembleRecordOf(dir: string, meta: ModelMetadata): EnsembleRecord {
  const rec = meta['ensemble'] as Partial<EnsembleRecord>;
  const bad = (why: string): never => {
    throw new QrobustError('not_a_model', `${dir}: invalid ensemble record in qrobust.json: ${why}`);
  };
  if (rec.version !== ENSEMBLE_RECORD_VERSION) bad(`version ${JSON.stringify(rec.version)}, expected ${ENSEMBLE_RECORD_VERSION}`);
  if (typeof rec.combine !== 'string' || !isEnsembleCombine(rec.combine)) bad(`unknown combine ${JSON.stringify(rec.combine)}`);
  if (!Array.isArray(rec.members) || rec.members.length === 0 || rec.members.some((m) => typeof m?.dir !== 'string')) bad('"members" must list member directories');
  return rec as EnsembleRecord;
}

/** The absolute member directories of an ensemble directory. */
export function ensembleMemberDirs(dir: string, record: EnsembleRecord): string[] {
  return record.members.map((m) => resolve(dir, m.dir));
}

/**
 * Loads an ensemble directory as an `EnsembleClassifier`, each member through `loadMember` (the normal loader,
 * with the caller's options). Members already loaded are released when a later one fails.
 */
export async function loadEnsembleClassifier(
  dir: string,
  meta: ModelMetadata,
  loadMember: (memberDir: string) => Promise<{ classifier: Classifier; quantized: boolean }>,
): Promise<{ classifier: EnsembleClassifier; quantized: boolean }> {
  const record = ensembleRecordOf(dir, meta);
  const members: Classifier[] = [];
  let quantized = false;
  try {
    for (const d of ensembleMemberDirs(dir, record)) {
      const m = await loadMember(d);
      members.push(m.classifier);
      quantized ||= m.quantized;
    }
    return { classifier: new EnsembleClassifier(members, record.combine), quantized };
  } catch (e) {
    for (const m of members) m.dispose();
    throw e;
  }
}
