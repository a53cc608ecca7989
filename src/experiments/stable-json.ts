/**
 * Canonical JSON and the task id derived from it. A task's id is the SHA-256 of its normalized config written
 * with sorted keys, so the same work gets the same id on every machine and in every run, whatever order the
 * config file listed its fields in.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level; `undefined` fields are left out, as `JSON.stringify` does. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`stableStringify: non-finite number ${value}`);
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableStringify(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/** Hex SHA-256 of the canonical JSON of `value`. */
export function configHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex');
}

/** Task ids are the first 16 hex digits (64 bits) of the config hash: short enough to read, far from collisions. */
export const TASK_ID_LENGTH = 16;

export function taskId(config: unknown): string {
  return configHash(config).slice(0, TASK_ID_LENGTH);
}
