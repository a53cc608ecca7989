/**
 * The Z3 runtime (`z3-solver`, Z3 compiled to WebAssembly with worker threads). Initialization is paid once per
 * process and shared; `releaseZ3` ends the worker threads so that a process (a test file, the CLI) can exit
 * without `process.exit`.
 */
import { init, killThreads } from 'z3-solver';
import { QrobustError } from '../../core/errors.js';

export type Z3Api = Awaited<ReturnType<typeof init>>;

let api: Promise<Z3Api> | null = null;

/** The shared Z3 API, initializing it on first use. */
export function z3(): Promise<Z3Api> {
  if (!api) {
    api = init().catch((e: unknown) => {
      api = null;
      throw new QrobustError('backend_unavailable', `the Z3 SMT solver could not be loaded: ${(e as Error).message}`);
    });
  }
  return api;
}

/** Ends Z3's worker threads (if it was started); the next `z3()` starts it again. */
export async function releaseZ3(): Promise<void> {
  if (!api) return;
  const pending = api;
  api = null;
  try {
    await killThreads((await pending).em);
  } catch {
    /* it never started */
  }
}

/** The Z3 version string, or null when Z3 has not been started. */
export async function z3Version(): Promise<string | null> {
  if (!api) return null;
  return (await api).getFullVersion();
}
