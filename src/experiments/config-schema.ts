/**
 * The shape of an experiment config as zod schemas: the fields each object may have, their types, static ranges
 * and choices, with the one-line messages the project's config errors use (`expected a number >= 0, got -1`,
 * `unknown field (expected one of: ...)`). What depends on other fields (model names, each attack's own options,
 * model directories on disk) is checked after the parse, in config.ts. `configIssue` turns zod's first issue
 * into `file: $.json.path: message`.
 */
import { z } from 'zod';
import { QrobustError } from '../core/errors.js';

/** `$.attacks[1].eps[0]` for the path `['attacks', 1, 'eps', 0]`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let s = '$';
  for (const key of path) {
    if (typeof key === 'number') s += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(key))) s += `.${String(key)}`;
    else s += `[${JSON.stringify(String(key))}]`;
  }
  return s;
}

/** A one-line config error naming the file and the field. */
export function configError(file: string, path: readonly PropertyKey[], message: string): QrobustError {
  return new QrobustError('invalid_argument', `${file}: ${jsonPath(path)}: ${message}`);
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Marks a message whose issue is an unknown key: the key is appended to the issue's path. */
const UNKNOWN_KEY = '\u0000unknown-key\u0000';

/** An object with exactly these fields (each may be absent where its schema allows). */
export function object<S extends z.ZodRawShape>(shape: S) {
  const keys = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `${UNKNOWN_KEY}unknown field (expected one of: ${keys})` : `expected an object, got ${describe(iss.input)}`),
  });
}

/** An object with these fields and any others (checked after the parse). */
export function looseObject<S extends z.ZodRawShape>(shape: S) {
  return z.looseObject(shape, { error: (iss) => `expected an object, got ${describe(iss.input)}` });
}

export function array<T extends z.ZodType>(item: T, o: { nonEmpty?: boolean } = {}) {
  const a = z.array(item, { error: (iss) => `expected an array, got ${describe(iss.input)}` });
  return o.nonEmpty ? a.min(1, { error: 'expected a non-empty array' }) : a;
}

export function string(o: { choices?: readonly string[]; pattern?: RegExp; patternHint?: string } = {}) {
  let s = z.string({ error: (iss) => `expected a non-empty string, got ${describe(iss.input)}` }).min(1, { error: (iss) => `expected a non-empty string, got ${describe(iss.input)}` });
  const choices = o.choices;
  if (choices) s = s.refine((v) => choices.includes(v), { error: (iss) => `expected one of ${choices.join(', ')}, got ${JSON.stringify(iss.input)}`, abort: true });
  if (o.pattern) s = s.regex(o.pattern, { error: (iss) => `expected ${o.patternHint ?? `a string matching ${o.pattern}`}, got ${JSON.stringify(iss.input)}` });
  return s;
}

export interface NumberBounds {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
}

export function number(o: NumberBounds = {}) {
  const what = `${o.integer ? 'an integer' : 'a number'}${bounds(o)}`;
  const error = (iss: { input?: unknown }) => `expected ${what}, got ${describe(iss.input)}`;
  let n = z.number({ error });
  if (o.integer) n = n.int({ error });
  if (o.min !== undefined) n = o.exclusiveMin ? n.gt(o.min, { error }) : n.gte(o.min, { error });
  if (o.max !== undefined) n = n.lte(o.max, { error });
  return n;
}

export function boolean() {
  return z.boolean({ error: (iss) => `expected true or false, got ${describe(iss.input)}` });
}

/** A field that may be left out (or null): the reader fills in its default. */
export function optional<T extends z.ZodType>(schema: T) {
  return schema.nullish();
}

function bounds(o: NumberBounds): string {
  if (o.min !== undefined && o.max !== undefined) return ` in ${o.exclusiveMin ? '(' : '['}${o.min}, ${o.max}]`;
  if (o.min !== undefined) return ` ${o.exclusiveMin ? '>' : '>='} ${o.min}`;
  if (o.max !== undefined) return ` <= ${o.max}`;
  return '';
}

/** Parses `value` with `schema`; the first issue is a one-line error naming the file and the field. */
export function parseConfigPart<T extends z.ZodType>(schema: T, value: unknown, file: string, at: readonly PropertyKey[] = []): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  // zod reports an object's unknown keys after its fields; a config error names them first, as the outermost
  // problem: the first issue, or the unknown keys of the outermost object that encloses it.
  const first = r.error.issues[0]!;
  const encloses = (outer: readonly PropertyKey[]) => outer.length <= first.path.length && outer.every((k, i) => k === first.path[i]);
  const unknown = r.error.issues.filter((i) => i.code === 'unrecognized_keys' && encloses(i.path)).sort((a, b) => a.path.length - b.path.length);
  const issue = unknown[0] ?? first;
  let path: PropertyKey[] = [...at, ...issue.path];
  let message = issue.message;
  if (message.startsWith(UNKNOWN_KEY)) {
    message = message.slice(UNKNOWN_KEY.length);
    if (issue.code === 'unrecognized_keys') path = [...path, issue.keys[0]!];
  }
  throw configError(file, path, message);
}
