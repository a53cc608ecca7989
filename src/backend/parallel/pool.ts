/**
 * A fixed set of replica worker threads and the request/reply plumbing to them. Workers hold the process open
 * only while a request is pending (they are `unref`'d when idle), so forgetting `close()` never hangs the
 * process. A worker that crashes or exits rejects every request pending on it, and later ones, with a
 * `WorkerError` naming the worker and the cause.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { QrobustError } from '../../core/errors.js';
import type { BackendName } from '../backend.js';
import type { Envelope, InitRequest, Reply, Request, ResultOf } from './protocol.js';

/** Most threads used by default, the main thread included (capped for now: more have not been measured). */
export const MAX_DEFAULT_WORKERS = 2;

/** An error raised in, or about, a replica worker. */
export class WorkerError extends Error {
  /** Which worker (0-based, the main thread not counted). */
  readonly worker: number;
  /** The stack trace inside the worker, when the error was raised there. */
  readonly workerStack: string | undefined;
  constructor(worker: number, message: string, options?: { cause?: unknown; workerStack?: string }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'WorkerError';
    this.worker = worker;
    this.workerStack = options?.workerStack;
  }
}

function parseWorkerCount(value: unknown, source: string): number {
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new QrobustError('invalid_option', `${source} must be a positive integer (1 disables threading), got '${String(value)}'`);
  }
  return n;
}

/** The thread count QROBUST_WORKERS asks for, if it is set. */
export function workerCountFromEnv(): number | undefined {
  const env = process.env['QROBUST_WORKERS'];
  return env !== undefined && env.trim() !== '' ? parseWorkerCount(env, 'QROBUST_WORKERS') : undefined;
}

/**
 * Threads to use (the main thread included) when none is asked for: QROBUST_WORKERS when set, else
 * `os.availableParallelism()` capped at 2. The 'node' backend (tfjs-node) already runs multi-threaded native
 * kernels, so there the default is 1.
 */
export function defaultWorkerCount(backend?: BackendName): number {
  const env = workerCountFromEnv();
  if (env !== undefined) return env;
  if (backend === 'node') return 1;
  return Math.max(1, Math.min(MAX_DEFAULT_WORKERS, os.availableParallelism()));
}

/** `requested` validated, or the default. Explicit requests win over QROBUST_WORKERS. */
export function resolveWorkerCount(requested: number | undefined, backend?: BackendName): number {
  return requested === undefined ? defaultWorkerCount(backend) : parseWorkerCount(requested, 'workers');
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

class Handle {
  readonly pending = new Map<number, Pending>();
  /** Set once the worker can no longer answer; every later call rejects with it. */
  failure: WorkerError | undefined;
  exited = false;
  readonly exit: Promise<void>;

  constructor(
    readonly index: number,
    readonly worker: Worker,
    private readonly isClosing: () => boolean,
  ) {
    let exited!: () => void;
    this.exit = new Promise<void>((resolve) => (exited = resolve));
    worker.unref();
    worker.on('message', (reply: Reply) => this.onReply(reply));
    worker.on('error', (err: Error) => this.fail(new WorkerError(index, `qrobust worker ${index} crashed: ${err.message}`, { cause: err })));
    worker.on('messageerror', (err: Error) =>
      this.fail(new WorkerError(index, `qrobust worker ${index}: a message could not be deserialised: ${err.message}`, { cause: err })),
    );
    worker.on('exit', (code: number) => {
      this.exited = true;
      this.fail(
        this.isClosing()
          ? new WorkerError(index, `qrobust worker ${index} was closed`)
          : new WorkerError(index, `qrobust worker ${index} exited unexpectedly (exit code ${code})`),
      );
      exited();
    });
  }

  call(req: Request, transfer: readonly ArrayBuffer[], id: number): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      try {
        this.worker.postMessage({ ...req, id } satisfies Envelope<Request>, transfer as ArrayBuffer[]);
      } catch (e) {
        this.settle(id);
        reject(new WorkerError(this.index, `qrobust worker ${this.index}: could not send '${req.op}': ${(e as Error).message}`, { cause: e }));
      }
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      if (this.pending.size === 0 && !this.exited) this.worker.unref();
    }
    return p;
  }

  private onReply(reply: Reply): void {
    const p = this.settle(reply.id);
    if (!p) return;
    if (reply.ok) p.resolve(reply.result);
    else {
      const e = reply.error;
      p.reject(new WorkerError(this.index, `qrobust worker ${this.index}: ${e.message}`, e.stack !== undefined ? { workerStack: e.stack } : undefined));
    }
  }

  private fail(error: WorkerError): void {
    if (!this.failure) this.failure = error;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(this.failure);
  }
}

/**
 * The parent's Node options minus those a worker rejects or must not inherit: the main script's own input
 * options (`-e`/`--eval`/`-p`/`--print` with their code, `--input-type`), and V8 options Node does not know
 * (such as the `--no-concurrent-recompilation` the binary runs with): they are process-wide, so the worker
 * already runs under them, and a Worker given one fails to start.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print' || a === '-pe') {
      i++; // its code follows
      continue;
    }
    if (a === '--input-type') {
      i++; // its value follows
      continue;
    }
    if (a.startsWith('--eval=') || a.startsWith('--print=') || a.startsWith('--input-type=')) continue;
    if (a.startsWith('--') && !process.allowedNodeEnvironmentFlags.has(a.split('=', 1)[0]!)) continue;
    out.push(a);
  }
  return out;
}

/** URL of the compiled worker script, next to this module. */
export const WORKER_URL = new URL('./worker.js', import.meta.url);

export class WorkerPool {
  private nextId = 1;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly handles: Handle[];

  private constructor(count: number) {
    this.handles = [];
    for (let i = 0; i < count; i++) {
      const worker = new Worker(WORKER_URL, { name: `qrobust-replica-${i}`, execArgv: workerExecArgv() });
      this.handles.push(new Handle(i, worker, () => this.closing));
    }
  }

  /**
   * Starts `count` workers and initialises a replica in each from `init` (its weights buffer is copied per
   * worker, not transferred). Rejects, after stopping them all, if any fails.
   */
  static async start(count: number, init: InitRequest): Promise<WorkerPool> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`worker count must be a positive integer, got ${count}`);
    const pool = new WorkerPool(count);
    try {
      await Promise.all(pool.handles.map((_, i) => pool.call(i, { ...init, weights: init.weights.slice() })));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Number of worker threads (the main thread not counted). */
  get size(): number {
    return this.handles.length;
  }

  /** Sends `req` to worker `index`, moving the buffers in `transfer`. */
  call<R extends Request>(index: number, req: R, transfer: readonly ArrayBuffer[] = []): Promise<ResultOf[R['op']]> {
    const h = this.handles[index];
    if (!h) return Promise.reject(new RangeError(`no worker ${index} (pool of ${this.handles.length})`));
    if (this.closing) return Promise.reject(new WorkerError(index, `qrobust worker ${index}: the pool is closed`));
    return h.call(req, transfer, this.nextId++) as Promise<ResultOf[R['op']]>;
  }

  /** Stops every worker now (pending requests reject) and resolves once all have exited. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.closed = Promise.all(
        this.handles.map(async (h) => {
          if (!h.exited) await h.worker.terminate();
          await h.exit;
        }),
      ).then(() => undefined);
    }
    return this.closed;
  }

  /** Stops one worker abruptly, as a crash would (for tests of the failure path). */
  async killWorker(index: number): Promise<void> {
    const h = this.handles[index];
    if (!h) throw new RangeError(`no worker ${index}`);
    await h.worker.terminate();
    await h.exit;
  }
}
