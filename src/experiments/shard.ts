/**
 * Sharding: `--shard K/N` runs every N-th task of the expansion order, starting at the K-th, so that N machines
 * running the same config split its tasks between them without talking to each other. Model directories are
 * prerequisites, not shared state: a shard builds every model its tasks read (training and quantization are
 * seeded, so each shard gets the same weights, and `qrobust merge` checks that they did).
 */
import { QrobustError } from '../core/errors.js';
import type { Task } from './tasks.js';

/** Shard `index` (1-based) of `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `K/N` with 1 <= K <= N. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new QrobustError('invalid_option', `--shard: expected K/N with 1 <= K <= N (e.g. 2/4), got '${text}'`);
  }
  return { index, count };
}

export function formatShard(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/** The tasks of one shard (all of them without a shard). */
export function shardTasks(tasks: readonly Task[], shard: Shard | null): Task[] {
  if (!shard) return [...tasks];
  return tasks.filter((_, i) => i % shard.count === shard.index - 1);
}

type Env = Readonly<Record<string, string | undefined>>;

function envInt(env: Env, name: string): number | null {
  const v = env[name];
  if (v === undefined || v.trim() === '') return null;
  if (!/^\d+$/.test(v.trim())) throw new QrobustError('invalid_option', `--shard auto: ${name}=${v} is not a non-negative integer`);
  return Number(v.trim());
}

export interface ScheduledShard {
  readonly shard: Shard;
  /** Where the share came from, for messages. */
  readonly source: string;
}

/**
 * The share a scheduler gave this process, for `--shard auto` (or `auto/N` when the scheduler does not say how
 * many shards there are):
 * - Slurm job arrays: SLURM_ARRAY_TASK_ID within SLURM_ARRAY_TASK_MIN .. SLURM_ARRAY_TASK_MAX in steps of
 *   SLURM_ARRAY_TASK_STEP (default 1), or SLURM_ARRAY_TASK_COUNT tasks from the minimum;
 * - Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX (0-based), with the count from `auto/N` or QROBUST_SHARD_COUNT
 *   (Kubernetes does not put `.spec.completions` into the environment).
 * @throws QrobustError('invalid_option') naming the variable when neither is set or the values do not fit.
 */
export function scheduledShard(text: string, env: Env = process.env): ScheduledShard {
  const m = /^auto(?:\/(\d+))?$/.exec(text.trim());
  if (!m) throw new QrobustError('invalid_option', `--shard: expected K/N, auto or auto/N, got '${text}'`);
  const given = m[1] ? Number(m[1]) : null;
  const check = (index: number, count: number, source: string): ScheduledShard => {
    if (!(count >= 1) || index < 1 || index > count) throw new QrobustError('invalid_option', `--shard auto: ${source} gives shard ${index} of ${count}`);
    if (given !== null && given !== count) throw new QrobustError('invalid_option', `--shard auto/${given}: ${source} says there are ${count} shards`);
    return { shard: { index, count }, source };
  };
  const id = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (id !== null) {
    const min = envInt(env, 'SLURM_ARRAY_TASK_MIN');
    if (min === null) throw new QrobustError('invalid_option', '--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN is not');
    const step = envInt(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    const max = envInt(env, 'SLURM_ARRAY_TASK_MAX');
    const count = envInt(env, 'SLURM_ARRAY_TASK_COUNT') ?? (max !== null ? Math.floor((max - min) / step) + 1 : given);
    if (count === null) throw new QrobustError('invalid_option', '--shard auto: the Slurm array size is unknown (no SLURM_ARRAY_TASK_COUNT or _MAX); pass --shard auto/N');
    if (step < 1 || (id - min) % step !== 0) throw new QrobustError('invalid_option', `--shard auto: SLURM_ARRAY_TASK_ID=${id} is not on the array's grid (min ${min}, step ${step})`);
    return check((id - min) / step + 1, count, 'Slurm');
  }
  const index = envInt(env, 'JOB_COMPLETION_INDEX');
  if (index !== null) {
    const count = given ?? envInt(env, 'QROBUST_SHARD_COUNT');
    if (count === null) throw new QrobustError('invalid_option', '--shard auto: JOB_COMPLETION_INDEX is set but the number of shards is not: pass --shard auto/N or set QROBUST_SHARD_COUNT');
    return check(index + 1, count, 'Kubernetes');
  }
  throw new QrobustError('invalid_option', '--shard auto: no scheduler share in the environment (SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)');
}

/** The folder of one scheduled shard inside the shared output directory: each shard appends to its own results file. */
export function shardDirectory(out: string, shard: Shard): string {
  return `${out.replace(/\/+$/, '')}/shard-${shard.index}-of-${shard.count}`;
}

/**
 * `--shard` as the CLI takes it: `K/N` runs in `out` itself; `auto[/N]` takes the scheduler's share and runs in
 * `out/shard-K-of-N`, so that every shard of a job array can be given the same shared `--out`.
 */
export function resolveShardOption(text: string | undefined, out: string, env: Env = process.env): { shard: Shard | null; out: string; source: string | null } {
  if (text === undefined) return { shard: null, out, source: null };
  if (!text.trim().startsWith('auto')) return { shard: parseShard(text), out, source: null };
  const s = scheduledShard(text, env);
  return { shard: s.shard, out: shardDirectory(out, s.shard), source: s.source };
}
