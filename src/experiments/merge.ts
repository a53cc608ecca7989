/**
 * The library function behind `qrobust merge`: combine the result files of shards of one experiment into one
 * directory. The shards must have run the same config (same config hash), no task may appear in two shards,
 * and every model must have the same weights in every shard that used it (shards build their models
 * independently; seeded training makes them identical, and this checks it). Records left over from an earlier
 * config of a shard directory are not part of the experiment and are left out.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { QrobustError } from '../core/errors.js';
import { EXPERIMENT_FILE, readExperimentFile, readResults, RESULTS_FILE, writeFileAtomic, type ExperimentFile, type ResultRecord } from './results-file.js';

export interface MergeOptions {
  readonly dirs: readonly string[];
  readonly out: string;
}

export interface MergeSummary {
  readonly out: string;
  readonly tasks: number;
  readonly records: number;
  /** Tasks of the experiment no shard has finished. */
  readonly missing: number;
  /** Records of an earlier config found in the shard directories and left out. */
  readonly dropped: number;
  /** Torn last lines ignored (a shard was killed while writing). */
  readonly torn: number;
}

const short = (h: string): string => `${h.slice(0, 12)}…`;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function mergeRuns(o: MergeOptions): Promise<MergeSummary> {
  if (o.dirs.length === 0) throw new QrobustError('invalid_argument', 'merge: give at least one run directory');
  const outAbs = resolve(o.out);
  const seenDirs = new Set<string>();
  for (const d of o.dirs) {
    if (resolve(d) === outAbs) throw new QrobustError('invalid_argument', `merge: --out ${o.out} is also an input; write the merged results to a new directory`);
    if (seenDirs.has(resolve(d))) throw new QrobustError('invalid_argument', `merge: ${d} is given twice`);
    seenDirs.add(resolve(d));
  }
  let reference: { dir: string; file: ExperimentFile } | null = null;
  const owner = new Map<string, string>();
  const modelSha = new Map<string, { sha: string; dir: string }>();
  const records = new Map<string, ResultRecord>();
  let dropped = 0;
  let torn = 0;
  for (const dir of o.dirs) {
    const file = await readExperimentFile(dir);
    if (!file) throw new QrobustError('invalid_argument', `merge: ${dir} has no ${EXPERIMENT_FILE} (not a directory written by qrobust run)`);
    if (!reference) reference = { dir, file };
    else if (file.configHash !== reference.file.configHash) {
      throw new QrobustError(
        'invalid_argument',
        `merge: ${dir} ran a different config than ${reference.dir} (config hash ${short(file.configHash)} vs ${short(reference.file.configHash)})`,
      );
    }
    const taskIds = new Set(reference.file.tasks.map((t) => t.id));
    const read = await readResults(join(dir, RESULTS_FILE));
    if (read.tornBytes > 0) torn++;
    for (const r of read.records) {
      if (!taskIds.has(r.id)) {
        dropped++;
        continue;
      }
      const other = owner.get(r.id);
      if (other !== undefined) throw new QrobustError('invalid_argument', `merge: task ${r.id} (${r.label}) is finished in both ${other} and ${dir}`);
      owner.set(r.id, dir);
      for (const [model, sha] of Object.entries(r.inputs ?? {})) {
        const seen = modelSha.get(model);
        if (seen && seen.sha !== sha) {
          throw new QrobustError(
            'invalid_argument',
            `merge: model ${model} has weights ${short(seen.sha)} in ${seen.dir} but ${short(sha)} in ${dir}; the shards built different models`,
          );
        }
        if (!seen) modelSha.set(model, { sha, dir });
      }
      records.set(r.id, r);
    }
  }
  const ref = reference!;
  await mkdir(o.out, { recursive: true });
  if (await exists(join(o.out, RESULTS_FILE))) throw new QrobustError('invalid_argument', `merge: ${join(o.out, RESULTS_FILE)} exists already; merge into a new directory`);
  const ordered = ref.file.tasks.map((t) => records.get(t.id)).filter((r): r is ResultRecord => r !== undefined);
  await writeFileAtomic(join(o.out, EXPERIMENT_FILE), JSON.stringify(ref.file, null, 2) + '\n');
  await writeFileAtomic(join(o.out, RESULTS_FILE), ordered.map((r) => JSON.stringify(r) + '\n').join(''));
  return { out: o.out, tasks: ref.file.tasks.length, records: ordered.length, missing: ref.file.tasks.length - ordered.length, dropped, torn };
}
