/**
 * The HiGHS WebAssembly runtime, loaded once and replaced when it is worn out. A wasm instance's linear memory
 * only grows: after many solves fragmentation can exhaust it, and an `abort()` inside HiGHS (out of memory, a
 * failed assertion) leaves the instance unusable. So a fresh instance is loaded after `maxSolves` models, when
 * the memory capacity passes `maxMemoryBytes`, and after any WebAssembly runtime error.
 */
import highsDefault, { type Highs, type InitOptions, type Model } from 'highs';
import { QrobustError } from '../../core/errors.js';
import type { MilpData } from './lp-builder.js';

/**
 * The loader. `highs` ships CommonJS typings beside its ES module build, so TypeScript sees the default export as
 * the module namespace; at run time (ESM) it is the loader function.
 */
const highsLoader = highsDefault as unknown as (options?: InitOptions) => Promise<Highs>;

export interface HighsRuntimeOptions {
  /** Models solved on one instance before a fresh one is loaded (default 200). */
  readonly maxSolves?: number;
  /** Linear-memory capacity above which a fresh instance is loaded (default 1 GiB). */
  readonly maxMemoryBytes?: number;
}

export class HighsRuntime {
  private instance: Highs | null = null;
  private loading: Promise<Highs> | null = null;
  private solves = 0;
  /** How many instances have been loaded (for tests and reports). */
  generation = 0;
  private readonly maxSolves: number;
  private readonly maxMemoryBytes: number;

  constructor(o: HighsRuntimeOptions = {}) {
    this.maxSolves = o.maxSolves ?? 200;
    this.maxMemoryBytes = o.maxMemoryBytes ?? 1024 * 1024 * 1024;
  }

  /** The current instance, loading a fresh one when none is usable. */
  async get(): Promise<Highs> {
    const h = this.instance;
    if (h && this.solves < this.maxSolves && h.memoryBytes <= this.maxMemoryBytes) return h;
    this.instance = null;
    if (!this.loading) {
      this.loading = highsLoader().then(
        (loaded: Highs) => {
          this.instance = loaded;
          this.solves = 0;
          this.generation++;
          this.loading = null;
          return loaded;
        },
        (e: unknown) => {
          this.loading = null;
          throw new QrobustError('backend_unavailable', `the HiGHS MILP solver could not be loaded: ${(e as Error).message}`);
        },
      );
    }
    return this.loading!;
  }

  /** Drops the current instance; the next call loads a fresh one. */
  discard(): void {
    this.instance = null;
  }

  /**
   * Creates a model from `data` on a usable instance, runs `fn` on it and disposes it. A WebAssembly runtime
   * error (HiGHS aborted) discards the instance before the error propagates.
   */
  async withModel<T>(data: MilpData, fn: (model: Model, highs: Highs) => T): Promise<T> {
    const highs = await this.get();
    this.solves++;
    let model: Model | null = null;
    try {
      model = highs.createModel(data as unknown as Parameters<Highs['createModel']>[0]) as Model;
      return fn(model, highs);
    } catch (e) {
      if ((e as Error)?.name === 'RuntimeError' || /abort|out of memory/i.test(String((e as Error)?.message))) this.discard();
      throw e;
    } finally {
      if (model) {
        try {
          model.dispose();
        } catch {
          this.discard();
        }
      }
    }
  }
}

/** The process-wide runtime the verifiers share. */
export const highsRuntime = new HighsRuntime();
