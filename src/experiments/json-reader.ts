/**
 * Reading an untyped JSON value with errors that name the file and the JSON path of the bad field
 * (`exp.json: $.attacks[1].eps[0]: expected a number >= 0, got -1`), so that a config error is one line a user
 * can act on.
 */
import { QrobustError } from '../core/errors.js';

export class JsonReader {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly value: unknown,
  ) {}

  /** Throws a one-line QrobustError naming the file and this path. */
  fail(message: string): never {
    throw new QrobustError('invalid_argument', `${this.file}: ${this.path}: ${message}`);
  }

  /** The reader of a child field or element. */
  at(key: string | number): JsonReader {
    const path = typeof key === 'number' ? `${this.path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${this.path}.${key}` : `${this.path}[${JSON.stringify(key)}]`;
    const v = this.isObject() ? (this.value as Record<string, unknown>)[String(key)] : Array.isArray(this.value) ? this.value[key as number] : undefined;
    return new JsonReader(this.file, path, v);
  }

  get present(): boolean {
    return this.value !== undefined;
  }

  isObject(): boolean {
    return typeof this.value === 'object' && this.value !== null && !Array.isArray(this.value);
  }

  /** Checks this is an object (any keys). */
  anyObject(): this {
    if (!this.isObject()) this.fail(`expected an object, got ${describe(this.value)}`);
    return this;
  }

  /** Checks this is an object whose keys are all in `allowed`. */
  object(allowed: readonly string[]): this {
    this.anyObject();
    for (const k of Object.keys(this.value as object)) {
      if (!allowed.includes(k)) this.at(k).fail(`unknown field (expected one of: ${allowed.join(', ')})`);
    }
    return this;
  }

  keys(): string[] {
    return this.isObject() ? Object.keys(this.value as object) : [];
  }

  array(options: { nonEmpty?: boolean } = {}): JsonReader[] {
    if (!Array.isArray(this.value)) this.fail(`expected an array, got ${describe(this.value)}`);
    if (options.nonEmpty && this.value.length === 0) this.fail('expected a non-empty array');
    return this.value.map((_, i) => this.at(i));
  }

  string(options: { pattern?: RegExp; patternHint?: string; choices?: readonly string[] } = {}): string {
    const v = this.value;
    if (typeof v !== 'string' || v === '') this.fail(`expected a non-empty string, got ${describe(v)}`);
    if (options.choices && !options.choices.includes(v)) this.fail(`expected one of ${options.choices.join(', ')}, got ${JSON.stringify(v)}`);
    if (options.pattern && !options.pattern.test(v)) this.fail(`expected ${options.patternHint ?? `a string matching ${options.pattern}`}, got ${JSON.stringify(v)}`);
    return v;
  }

  number(options: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean } = {}): number {
    const v = this.value;
    const what = `${options.integer ? 'an integer' : 'a number'}${bounds(options)}`;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`expected ${what}, got ${describe(v)}`);
    if (options.integer && !Number.isSafeInteger(v)) this.fail(`expected ${what}, got ${v}`);
    if (options.min !== undefined && (options.exclusiveMin ? v <= options.min : v < options.min)) this.fail(`expected ${what}, got ${v}`);
    if (options.max !== undefined && v > options.max) this.fail(`expected ${what}, got ${v}`);
    return v;
  }

  boolean(): boolean {
    if (typeof this.value !== 'boolean') this.fail(`expected true or false, got ${describe(this.value)}`);
    return this.value;
  }

  /** `read(this)` when the field is present, else `fallback`. */
  optional<T>(read: (r: JsonReader) => T, fallback: T): T {
    return this.present && this.value !== null ? read(this) : fallback;
  }
}

function bounds(o: { min?: number; max?: number; exclusiveMin?: boolean }): string {
  if (o.min !== undefined && o.max !== undefined) return ` in ${o.exclusiveMin ? '(' : '['}${o.min}, ${o.max}]`;
  if (o.min !== undefined) return ` ${o.exclusiveMin ? '>' : '>='} ${o.min}`;
  if (o.max !== undefined) return ` <= ${o.max}`;
  return '';
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
