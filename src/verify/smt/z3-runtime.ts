/**
 * The Z3 runtime (`z3-solver`, Z3 compiled to WebAssembly with worker threads). Initialization is paid once per
 * instance, and the instance is replaced after a number of checks (`configureZ3`, default 40): every
 * `new Context()` allocates a native context that is never freed, and the 2 GiB wasm heap filled up after a few
 * hundred checks (measured on the mlp-tiny runs).
 *
 * Each check gets a context of its own. With one shared context, a 2-6-6-3 net checked after other checks
 * answered unknown ("division by 0") or ran the wasm heap out of memory in about half the runs of
 * test/verify/smt.test.ts, and never when checked first; the SMT-LIB text was the same in every run. The likely
 * cause: z3-solver frees a context's objects from FinalizationRegistry callbacks on the main thread, whenever
 * V8 collects them, also while a check runs on Z3's worker thread in that context. With a context per check the
 * failure fell to 1 run in 10 (not explained yet); every failure seen was an unknown, never a wrong verdict.
 * `releaseZ3` ends the worker threads so that a process (a test file, the CLI) can exit without `process.exit`.
 */
import { init, killThreads } from 'z3-solver';
import { QrobustError } from '../../core/errors.js';

export type Z3Api = Awaited<ReturnType<typeof init>>;
export type Z3Context = InstanceType<Z3Api['Context']>;

/** Checks served by one wasm instance before a fresh one is started (see `configureZ3`). */
let maxChecks = 40;
/** How many instances have been started (for tests and reports). */
let generation = 0;

/** Sets how many checks one Z3 instance serves before it is replaced (default 40). */
export function configureZ3(o: { readonly maxChecks: number }): void {
  if (!Number.isInteger(o.maxChecks) || o.maxChecks < 1) throw new QrobustError('invalid_argument', `maxChecks must be an integer >= 1, got ${o.maxChecks}`);
  maxChecks = o.maxChecks;
}

/** The number of Z3 instances started so far. */
export function z3Generation(): number {
  return generation;
}

interface Instance {
  readonly api: Z3Api;
  checks: number;
}

let current: Promise<Instance> | null = null;

function start(): Promise<Instance> {
  current ??= init().then(
    (api) => {
      generation++;
      return { api, checks: 0 };
    },
    (e: unknown) => {
      current = null;
      throw new QrobustError('backend_unavailable', `the Z3 SMT solver could not be loaded: ${(e as Error).message}`);
    },
  );
  return current;
}

/** The shared Z3 API, initializing it on first use. */
export async function z3(): Promise<Z3Api> {
  return (await start()).api;
}

/**
 * Runs `fn` with a fresh context (see the header); counts it as one check and starts a fresh instance for the
 * next call once this one has served its quota. `abandon` ends this instance at once (a check that will not stop): its threads
 * are killed and the next call starts a fresh instance.
 */
export async function withZ3Context<T>(fn: (ctx: Z3Context, api: Z3Api, abandon: () => Promise<void>) => Promise<T>): Promise<T> {
  const inst = await start();
  inst.checks++;
  let gone = false;
  const abandon = async (): Promise<void> => {
    gone = true;
    if (current !== null && (await current) === inst) current = null;
    try {
      await killThreads(inst.api.em);
    } catch {
      /* already ended */
    }
  };
  try {
    const ctx = new inst.api.Context(`check${inst.checks}`) as Z3Context;
    return await fn(ctx, inst.api, abandon);
  } finally {
    if (!gone && inst.checks >= maxChecks && current !== null && (await current) === inst) await releaseZ3();
  }
}

/** Ends Z3's worker threads (if it was started); the next use starts it again. */
export async function releaseZ3(): Promise<void> {
  if (!current) return;
  const pending = current;
  current = null;
  try {
    await killThreads((await pending).api.em);
  } catch {
    /* it never started */
  }
}

/** The Z3 version string, or null when Z3 has not been started. */
export async function z3Version(): Promise<string | null> {
  if (!current) return null;
  return (await current).api.getFullVersion();
}
