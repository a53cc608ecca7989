/**
 * The files of an experiment directory:
 * - `results.jsonl`: one JSON record per finished task, appended as each task finishes. A run killed while
 *   writing leaves at most a torn last line; it is dropped (and cut off before the next append), so that task
 *   is simply run again. A bad line anywhere else is an error naming the file and the line.
 * - `experiment.json`: the normalized config of the last run, its hash and the task list, which `merge` and
 *   `report` read to know which records belong to the experiment.
 */
import { open, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QrobustError } from '../core/errors.js';
import type { ExperimentConfig } from './config.js';
import type { ExperimentPlan, TaskConfig, TaskKind } from './tasks.js';

export const RESULTS_FILE = 'results.jsonl';
export const EXPERIMENT_FILE = 'experiment.json';
export const RECORD_FORMAT = 'qrobust-result';
export const EXPERIMENT_FORMAT = 'qrobust-experiment';

/** One finished task. Everything but `run` is a deterministic function of the task's config. */
export interface ResultRecord<R = unknown> {
  readonly format: typeof RECORD_FORMAT;
  readonly version: 1;
  readonly id: string;
  readonly kind: TaskKind;
  readonly label: string;
  readonly config: TaskConfig;
  readonly seed: number;
  /** SHA-256 of the weights of every model directory the task read, by model name. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly versions: Readonly<Record<string, string>>;
  readonly result: R;
  /** How this run went: wall time, when, which shard or queue worker; not part of the result. */
  readonly run: {
    readonly seconds: number;
    readonly finishedAt: string;
    readonly shard: string | null;
    /** The queue worker that ran the task (`host/pid`), when it came from a work queue. */
    readonly worker?: string;
    readonly timing?: Readonly<Record<string, number>>;
  };
}

export interface ExperimentFile {
  readonly format: typeof EXPERIMENT_FORMAT;
  readonly version: 1;
  readonly name: string;
  readonly configHash: string;
  readonly config: ExperimentConfig;
  readonly tasks: readonly { readonly id: string; readonly kind: TaskKind; readonly label: string }[];
}

function parseRecord(line: string, where: string): ResultRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new QrobustError('io_error', `${where}: not valid JSON (${(e as Error).message})`);
  }
  const r = value as Partial<ResultRecord>;
  if (r.format !== RECORD_FORMAT || typeof r.id !== 'string' || typeof r.kind !== 'string' || r.config === undefined) {
    throw new QrobustError('io_error', `${where}: not a qrobust result record (expected "format": "${RECORD_FORMAT}", an id, a kind and a config)`);
  }
  return r as ResultRecord;
}

export interface ReadResults {
  readonly records: ResultRecord[];
  /** Bytes of a torn last line that were ignored (0 when the file ends cleanly). */
  readonly tornBytes: number;
}

/**
 * Reads a results file (missing: no records). A last line without its newline is torn (the writer was killed)
 * and ignored; with `repair` it is also cut off the file so that the next append starts on a fresh line.
 */
export async function readResults(file: string, options: { repair?: boolean } = {}): Promise<ReadResults> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], tornBytes: 0 };
    throw new QrobustError('io_error', `${file}: cannot read (${(e as Error).message})`);
  }
  const end = text.lastIndexOf('\n') + 1;
  const tornBytes = Buffer.byteLength(text.slice(end));
  if (tornBytes > 0 && options.repair) await truncate(file, Buffer.byteLength(text.slice(0, end)));
  const records = text
    .slice(0, end)
    .split('\n')
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, i }) => parseRecord(line, `${file}:${i + 1}`));
  return { records, tornBytes };
}

/** Appends one record as one line, flushed to disk before returning. */
export async function appendRecord(file: string, record: ResultRecord): Promise<void> {
  const handle = await open(file, 'a');
  try {
    await handle.write(JSON.stringify(record) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a file whole or not at all (write beside it, then rename). */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export function experimentFile(config: ExperimentConfig, plan: ExperimentPlan): ExperimentFile {
  return {
    format: EXPERIMENT_FORMAT,
    version: 1,
    name: config.name,
    configHash: plan.configHash,
    config,
    tasks: plan.tasks.map((t) => ({ id: t.id, kind: t.config.kind, label: t.label })),
  };
}

/** The experiment file of a directory, or null when there is none. */
export async function readExperimentFile(dir: string): Promise<ExperimentFile | null> {
  const path = join(dir, EXPERIMENT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new QrobustError('io_error', `${path}: cannot read (${(e as Error).message})`);
  }
  let value: Partial<ExperimentFile>;
  try {
    value = JSON.parse(text) as Partial<ExperimentFile>;
  } catch (e) {
    throw new QrobustError('io_error', `${path}: not valid JSON (${(e as Error).message})`);
  }
  if (value.format !== EXPERIMENT_FORMAT || typeof value.configHash !== 'string' || !Array.isArray(value.tasks)) {
    throw new QrobustError('io_error', `${path}: not a qrobust experiment file (expected "format": "${EXPERIMENT_FORMAT}")`);
  }
  return value as ExperimentFile;
}
