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
