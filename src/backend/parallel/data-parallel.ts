/**
 * Data-parallel execution of a model over the main thread and N−1 worker threads. Each call splits the batch
 * into up to N contiguous shards (sizes differing by at most one, the main thread taking the first): the worker
 * shards are posted first, the main thread then computes its own shard synchronously, and the parts are joined.
 * With `workers: 1` there is no worker and the main thread computes everything through the same code.
 *
 * How many threads: an explicit `workers` (or QROBUST_WORKERS) is used as given. Without one, up to
 * `defaultWorkerCount()` threads are used, but a batch is only split into shards of at least `minShardMacs`
 * forward multiply-accumulates each: below that (tiny models, small batches) the per-call cost of a second
 * thread, about a millisecond plus shared-cache contention, outweighs the work it takes over.
 *
 * Results equal the single-thread computation up to float rounding: input gradients are per sample anyway, and
 * weight gradients are shard sums of `CE / batchSize`, added. The split depends only on the model, the batch
 * size and the thread count (never on timing), so a run is reproducible for a given seed, backend and count.
 *
 * Batch norm: in training mode each shard normalises with its own statistics (as in data-parallel training
 * without synchronised batch norm), so the gradients of a batch-norm model depend on the thread count. The
 * moving averages are then updated with each layer's input statistics pooled over the whole batch (see
 * `combineBatchNormState`): for the first batch-norm layer exactly what one thread computes; deeper layers see
 * inputs that were normalised per shard.
 *
 * A second thread pays only if a core is free: on Linux with autogroup scheduling, a busy process in another
 * session leaves this one about one core, and then two threads run a little slower than one.
 *
 * Weights: the main thread's model is the reference. After a training step the workers' replicas are stale
 * until the next call, which carries the new weights with the shard (one flat buffer, transferred). If the
 * model's weights are changed any other way (loaded, quantized, assigned), call `syncWeights()`.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../tf.js';
import { currentBackend, type BackendName } from '../backend.js';
import { QrobustError } from '../../core/errors.js';
import { WorkerPool, defaultWorkerCount, resolveWorkerCount, workerCountFromEnv } from './pool.js';
import { INPUT_LOSS_NAMES, isInputLossName, type InputLossName } from './losses.js';
import type { InputGradientResult as WorkerInputGradient, TransformResult, WeightGradientsResult } from './protocol.js';
import { shardTransform, type ShardParams, type TrainingObjective } from './shard-tasks.js';
import {
  combineBatchNormState,
  forwardMacsPerSample,
  inputGradientTensors,
  ownedData,
  packBatchNormState,
  packWeights,
  weightGradientTensors,
  weightLayout,
  type WeightLayout,
} from './replica.js';

/** Default `minShardMacs`: about 15 ms of single-thread work on the machines measured (see the module doc). */
export const AUTO_MIN_SHARD_MACS = 24e6;

export interface DataParallelOptions {
  /**
   * Threads in all, the main thread included; 1 disables threading. Default: QROBUST_WORKERS if set, else
   * automatic: up to `defaultWorkerCount(backend)`, only where a batch gives each shard `minShardMacs`.
   */
  readonly workers?: number;
  /** Automatic mode only: the least forward multiply-accumulates worth a shard (default `AUTO_MIN_SHARD_MACS`). */
  readonly minShardMacs?: number;
  /**
   * Automatic mode only: the batch size the caller will use (training), so that no worker is started when such
   * a batch would not be split anyway.
   */
  readonly batchSize?: number;
  /** Backend for the workers; default: the main thread's (from `initBackend`, else TF.js's current one). */
  readonly backend?: BackendName;
  /** Fast wasm kernels in the workers; default: as on the main thread. */
  readonly fastKernels?: boolean;
  /** Extra module URLs for the workers to import before rebuilding the model (custom layers). */
  readonly workerModules?: readonly string[];
}

export type Labels = Int32Array | Uint8Array | readonly number[] | tf.Tensor1D;

export interface InputGradientOutput {
  /** d(loss)/dx for every sample, shaped like x. The caller owns it (dispose it). */
  readonly grad: tf.Tensor;
  /** Per-sample loss [n]. */
  readonly loss: Float32Array;
  /** Logits, row-major [n, numClasses]. */
  readonly logits: Float32Array;
  readonly numClasses: number;
}

export interface TrainStepOutput {
  /** Mean cross-entropy over the batch (before the update). */
  readonly loss: number;
  /** Correctly classified samples in the batch (before the update). */
  readonly correct: number;
}

export interface WeightGradientsOutput extends TrainStepOutput {
  /** Gradients of the mean loss for `model.trainableWeights`, in order. The caller owns them. */
  readonly grads: tf.Tensor[];
}

export interface ShardTiming {
  /** Milliseconds the main thread spent on its own shard. */
  readonly mainMs: number;
  /** Milliseconds each worker spent on its shard (0 for a worker without one). */
  readonly workerMs: readonly number[];
  /** Milliseconds before the main shard started (splitting, packing weights, posting the worker shards). */
  readonly prepareMs: number;
  /** Milliseconds between the end of the main shard and the arrival of the last worker result. */
  readonly waitMs: number;
  /** Milliseconds after that (joining the shards). */
  readonly joinMs: number;
  /** Milliseconds the whole call took (for `trainStep`, without the optimizer update). */
  readonly totalMs: number;
}

function backendNameFromTf(): BackendName {
  const b = tf.getBackend();
  if (b === 'wasm' || b === 'cpu') return b;
  if (b === 'tensorflow') return 'node';
  throw new QrobustError('backend_unavailable', `data-parallel execution does not support the TF.js backend '${b}'`);
}

/** Contiguous shard bounds: `parts` sizes differing by at most one, the larger ones first. */
export function shardBounds(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  const base = Math.floor(n / parts);
  const extra = n % parts;
  let start = 0;
  for (let k = 0; k < parts; k++) {
    const len = base + (k < extra ? 1 : 0);
    out.push([start, start + len]);
    start += len;
  }
  return out;
}

/** The shape of one input sample; the model must have exactly one input, fully defined past the batch axis. */
function sampleShape(model: tfl.LayersModel): number[] {
  const shape = model.inputs[0]?.shape;
  if (!shape || model.inputs.length !== 1 || shape.slice(1).some((d) => d == null)) {
    throw new QrobustError('shape_mismatch', 'data-parallel execution needs a model with one input of fully defined shape');
  }
  return shape.slice(1) as number[];
}

/** Shards worth making of a batch of `n`: each at least `minMacs` forward MACs, at most `max`, at least 1. */
function autoThreads(n: number, macsPerSample: number, minMacs: number, max: number): number {
  const byWork = minMacs > 0 ? Math.floor((n * macsPerSample) / minMacs) : max;
  return Math.max(1, Math.min(max, n, byWork));
}

function toInt32Labels(labels: Labels): Int32Array {
  return Int32Array.from(labels instanceof tf.Tensor ? labels.dataSync() : labels);
}

export class DataParallel {
  /** Threads available, the main thread included (a small batch may use fewer, see `threadsFor`). */
  readonly workers: number;
  readonly backend: BackendName;
  /** Timing of the last call, for balancing and diagnostics. */
  lastTiming: ShardTiming | undefined;

  private readonly layout: WeightLayout;
  private readonly inputShape: readonly number[];
  private readonly inputSize: number;
  /** Version of the main model's weights, and the version each worker holds. */
  private version = 0;
  private readonly workerVersion: number[];
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly model: tfl.LayersModel,
    /** The worker threads (absent with one thread). */
    readonly pool: WorkerPool | undefined,
    backend: BackendName,
    /** Automatic mode: the least forward MACs per shard; undefined when the thread count was given. */
    private readonly minShardMacs: number | undefined,
    private readonly macsPerSample: number,
  ) {
    this.backend = backend;
    this.workers = 1 + (pool?.size ?? 0);
    this.layout = weightLayout(model);
    this.workerVersion = new Array<number>(pool?.size ?? 0).fill(0);
    this.inputShape = sampleShape(model);
    this.inputSize = this.inputShape.reduce((a, b) => a * b, 1);
  }

  /** Starts the workers (if any) with replicas of `model`. Close it when done. */
  static async create(model: tfl.LayersModel, options: DataParallelOptions = {}): Promise<DataParallel> {
    sampleShape(model); // fails early, before any worker starts
    const main = currentBackend();
    const backend = options.backend ?? main?.name ?? backendNameFromTf();
    const explicit = options.workers !== undefined ? resolveWorkerCount(options.workers, backend) : workerCountFromEnv();
    const macs = forwardMacsPerSample(model);
    let workers: number;
    let minShardMacs: number | undefined;
    if (explicit !== undefined) workers = explicit;
    else {
      minShardMacs = options.minShardMacs ?? AUTO_MIN_SHARD_MACS;
      workers = defaultWorkerCount(backend);
      if (options.batchSize !== undefined) workers = autoThreads(options.batchSize, macs, minShardMacs, workers);
    }
    if (workers === 1) return new DataParallel(model, undefined, backend, minShardMacs, macs);
    const fastKernels = options.fastKernels ?? (main ? main.fastKernels : backend === 'wasm');
    const pool = await WorkerPool.start(workers - 1, {
      op: 'init',
      backend,
      fastKernels,
      modules: [...(options.workerModules ?? [])],
      topology: model.toJSON(null, false),
      layout: weightLayout(model),
      weights: packWeights(model),
    });
    return new DataParallel(model, pool, backend, minShardMacs, macs);
  }

  /** Threads a batch of `n` samples is split over (1 to `workers`). */
  threadsFor(n: number): number {
    if (this.minShardMacs === undefined) return Math.max(1, Math.min(this.workers, n));
    return autoThreads(n, this.macsPerSample, this.minShardMacs, this.workers);
  }

  /** Runs `fn` after every earlier call has finished, so calls never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new QrobustError('invalid_argument', 'this DataParallel has been closed'));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Queues `fn` on a snapshot of the batch taken now: a tensor input is cloned (sharing its data), so the caller
   * may dispose it before the call runs; the labels are copied out.
   */
  private enqueue<T>(x: Float32Array | tf.Tensor, labels: Labels, fn: (x: Float32Array | tf.Tensor, y: Int32Array) => Promise<T>): Promise<T> {
    let y: Int32Array;
    try {
      y = toInt32Labels(labels);
    } catch (e) {
      return Promise.reject(e);
    }
    const snapshot = x instanceof tf.Tensor ? tf.keep(x.clone()) : x;
    const run = this.serial(() => fn(snapshot, y));
    if (snapshot instanceof tf.Tensor) void run.then(() => snapshot.dispose(), () => snapshot.dispose());
    return run;
  }

  /** Pushes the main model's current weights to every worker now. */
  syncWeights(): Promise<void> {
    return this.serial(async () => {
      this.version++;
      if (!this.pool) return;
      const flat = packWeights(this.model);
      await Promise.all(
        this.workerVersion.map((_, i) => {
          const w = i === 0 ? flat : flat.slice();
          return this.pool!.call(i, { op: 'setWeights', weights: w }, [w.buffer as ArrayBuffer]).then(() => {
            this.workerVersion[i] = this.version;
          });
        }),
      );
    });
  }

  /** Fresh packed weights for worker `i` if it is behind, else undefined. One packing serves all workers. */
  private weightsFor(i: number, packed: { flat?: Float32Array; used: boolean }): Float32Array | undefined {
    if (this.workerVersion[i] === this.version) return undefined;
    packed.flat ??= packWeights(this.model);
    const w = packed.used ? packed.flat.slice() : packed.flat;
    packed.used = true;
    this.workerVersion[i] = this.version;
    return w;
  }

  private checkBatch(n: number, xLength: number, labels: Int32Array): void {
    if (xLength % this.inputSize !== 0) {
      throw new QrobustError('shape_mismatch', `input has ${xLength} values, not a whole number of samples of [${this.inputShape.join(', ')}]`);
    }
    if (xLength / this.inputSize !== n) {
      throw new QrobustError('shape_mismatch', `got ${labels.length} labels for ${xLength / this.inputSize} inputs`);
    }
  }

  /**
   * Splits x into the main shard (a tensor) and worker shards (owned Float32Arrays). For a Float32Array input
   * the worker shards are copies, so the caller's array is never detached.
   */
  private split(x: Float32Array | tf.Tensor, labels: Int32Array): {
    n: number;
    bounds: [number, number][];
    mainX: tf.Tensor;
    mainLabels: tf.Tensor1D;
    shards: { x: Float32Array; labels: Int32Array }[];
  } {
    const n = labels.length;
    if (x instanceof tf.Tensor) {
      if (x.dtype !== 'float32') throw new QrobustError('invalid_argument', `input must be float32, got ${x.dtype}`);
      if (x.size !== x.shape[0]! * this.inputSize) {
        throw new QrobustError('shape_mismatch', `input of shape [${x.shape.join(', ')}] does not match the model input [${this.inputShape.join(', ')}]`);
      }
      this.checkBatch(n, x.size, labels);
    } else this.checkBatch(n, x.length, labels);
    if (n === 0) throw new QrobustError('invalid_argument', 'empty batch');
    const bounds = shardBounds(n, this.threadsFor(n));
    const [m0, m1] = bounds[0]!;
    const shards = bounds.slice(1).map(([a, b]) => {
      let xs: Float32Array;
      if (x instanceof tf.Tensor) {
        const part = tf.slice(x, a, b - a);
        xs = b > a ? ownedData(part) : new Float32Array(0);
        part.dispose();
      } else xs = x.slice(a * this.inputSize, b * this.inputSize);
      return { x: xs, labels: labels.slice(a, b) };
    });
    const mainX =
      x instanceof tf.Tensor
        ? m1 - m0 === n
          ? x.clone()
          : tf.slice(x, m0, m1 - m0)
        : tf.tensor(x.subarray(m0 * this.inputSize, m1 * this.inputSize), [m1 - m0, ...this.inputShape], 'float32');
    const mainLabels = tf.tensor1d(labels.subarray(m0, m1), 'int32');
    return { n, bounds, mainX, mainLabels, shards };
  }

  /**
   * Per-sample loss, its gradient with respect to the input, and the logits, for a batch x of shape
   * [n, ...inputShape] (a tensor, or a Float32Array laid out that way). Inference mode. The loss is chosen by
   * name (see `INPUT_LOSSES`): 'ce' (cross-entropy) or 'margin' (max other logit minus true logit).
   */
  inputGradient(x: Float32Array | tf.Tensor, labels: Labels, loss: InputLossName = 'ce'): Promise<InputGradientOutput> {
    if (!isInputLossName(loss)) {
      return Promise.reject(new QrobustError('invalid_option', `unknown loss '${String(loss)}': expected one of ${INPUT_LOSS_NAMES.join(', ')}`));
    }
    return this.enqueue(x, labels, async (x, y) => {
      const t0 = performance.now();
      const s = this.split(x, y);
      const packed: { flat?: Float32Array; used: boolean } = { used: false };
      const pending: Promise<WorkerInputGradient | undefined>[] = s.shards.map((shard, i) => {
        if (shard.labels.length === 0) return Promise.resolve(undefined);
        const weights = this.weightsFor(i, packed);
        const transfer = [shard.x.buffer, shard.labels.buffer, ...(weights ? [weights.buffer] : [])] as ArrayBuffer[];
        const req = { op: 'inputGradient' as const, x: shard.x, shape: [shard.labels.length, ...this.inputShape], labels: shard.labels, loss };
        return this.pool!.call(i, weights ? { ...req, weights } : req, transfer);
      });
      // Mark rejections as handled now: the main shard below may throw first.
      const settled = Promise.allSettled(pending);
      let main: ReturnType<typeof inputGradientTensors> | undefined;
      let grad: tf.Tensor | undefined;
      try {
        const tm = performance.now();
        main = inputGradientTensors(this.model, s.mainX, s.mainLabels, loss);
        grad = main.grad;
        const numClasses = main.logits.shape[1];
        const lossOut = new Float32Array(s.n);
        const logitsOut = new Float32Array(s.n * numClasses);
        lossOut.set(main.loss.dataSync() as Float32Array, 0);
        logitsOut.set(main.logits.dataSync() as Float32Array, 0);
        const tw = performance.now();
        const mainMs = tw - tm;
        const results = await settled;
        const tj = performance.now();
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        const parts: tf.Tensor[] = [grad];
        const workerMs: number[] = [];
        results.forEach((r, i) => {
          const out = (r as PromiseFulfilledResult<WorkerInputGradient | undefined>).value;
          workerMs.push(out?.ms ?? 0);
          if (!out) return;
          const [a, b] = s.bounds[i + 1]!;
          lossOut.set(out.loss, a);
          logitsOut.set(out.logits, a * numClasses);
          parts.push(tf.tensor(out.grad, [b - a, ...this.inputShape], 'float32'));
        });
        if (parts.length > 1) {
          grad = tf.concat(parts, 0);
          tf.dispose(parts);
        }
        const te = performance.now();
        this.lastTiming = { mainMs, workerMs, prepareMs: tm - t0, waitMs: tj - tw, joinMs: te - tj, totalMs: te - t0 };
        const output = { grad, loss: lossOut, logits: logitsOut, numClasses };
        grad = undefined;
        return output;
      } finally {
        if (grad) tf.dispose(grad);
        tf.dispose([s.mainX, s.mainLabels]);
        if (main) tf.dispose([main.loss, main.logits]);
      }
    });
  }

  /**
   * Mean cross-entropy (or the `objective`'s registered loss) over the batch, correct count and the gradients
   * of the trainable weights (training mode; batch-norm moving averages are updated as described above). Does
   * not change the trainable weights.
   */
  weightGradients(x: Float32Array | tf.Tensor, labels: Labels, objective?: TrainingObjective): Promise<WeightGradientsOutput> {
    const companion = this.snapshotCompanion(objective);
    const run = this.enqueue(x, labels, (x, y) => this.weightGradientsNow(x, y, objective, companion));
    return this.releaseAfter(run, companion);
  }

  /** A clone of the objective's companion input taken now (the caller may dispose its own before the call runs). */
  private snapshotCompanion(objective: TrainingObjective | undefined): tf.Tensor | undefined {
    return objective?.companion ? tf.keep(objective.companion.clone()) : undefined;
  }

  private releaseAfter<T>(run: Promise<T>, t: tf.Tensor | undefined): Promise<T> {
    if (t) void run.then(() => t.dispose(), () => t.dispose());
    return run;
  }

  /** The companion input split like the batch: the main shard's part as a tensor, the workers' as owned arrays. */
  private splitCompanion(companion: tf.Tensor, bounds: readonly [number, number][], n: number): { main: tf.Tensor; shards: Float32Array[] } {
    if (companion.shape[0] !== n || companion.size !== n * this.inputSize) {
      throw new QrobustError('shape_mismatch', `the training objective's companion input has shape [${companion.shape.join(', ')}], the batch has ${n} inputs of [${this.inputShape.join(', ')}]`);
    }
    const [m0, m1] = bounds[0]!;
    const main = m1 - m0 === n ? companion.clone() : tf.slice(companion, m0, m1 - m0);
    const shards = bounds.slice(1).map(([a, b]) => {
      if (b === a) return new Float32Array(0);
      const part = tf.slice(companion, a, b - a);
      const data = ownedData(part);
      part.dispose();
      return data;
    });
    return { main, shards };
  }

  private async weightGradientsNow(
    x: Float32Array | tf.Tensor,
    y: Int32Array,
    objective?: TrainingObjective,
    companion?: tf.Tensor,
  ): Promise<WeightGradientsOutput> {
    const t0 = performance.now();
    const trainable = this.model.trainableWeights;
    if (trainable.length !== this.layout.trainable.length) {
      throw new QrobustError('invalid_argument', 'the set of trainable weights changed since the DataParallel was created; create a new one');
    }
    const vars = trainable.map((w) => w.read() as tf.Variable);
    const s = this.split(x, y);
    const scale = 1 / s.n;
    let parts: { main: tf.Tensor; shards: Float32Array[] } | undefined;
    try {
      parts = companion ? this.splitCompanion(companion, s.bounds, s.n) : undefined;
    } catch (e) {
      tf.dispose([s.mainX, s.mainLabels]);
      throw e;
    }
    const packed: { flat?: Float32Array; used: boolean } = { used: false };
    const pending: Promise<WeightGradientsResult | undefined>[] = s.shards.map((shard, i) => {
      if (shard.labels.length === 0) return Promise.resolve(undefined);
      const weights = this.weightsFor(i, packed);
      const own = parts?.shards[i];
      const transfer = [shard.x.buffer, shard.labels.buffer, ...(weights ? [weights.buffer] : []), ...(own ? [own.buffer] : [])] as ArrayBuffer[];
      const req = {
        op: 'weightGradients' as const,
        x: shard.x,
        shape: [shard.labels.length, ...this.inputShape],
        labels: shard.labels,
        scale,
        ...(objective ? { objective: { loss: objective.loss, params: objective.params, ...(own ? { companion: own } : {}) } } : {}),
      };
      return this.pool!.call(i, weights ? { ...req, weights } : req, transfer);
    });
    const settled = Promise.allSettled(pending);
    let grads: tf.Tensor[] | undefined;
    try {
      const tm = performance.now();
      const main = weightGradientTensors(
        this.model,
        vars,
        s.mainX,
        s.mainLabels,
        scale,
        objective ? { loss: objective.loss, params: objective.params, companion: parts?.main ?? null } : undefined,
      );
      grads = main.grads;
      let loss = main.loss.dataSync()[0]!;
      let correct = main.correct.dataSync()[0]!;
      tf.dispose([main.loss, main.correct]);
      const tw = performance.now();
      const mainMs = tw - tm;
      const results = await settled;
      const tj = performance.now();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const workerMs: number[] = [];
      const bnStates: Float32Array[] = [];
      const bnWeights: number[] = [];
      const [m0, m1] = s.bounds[0]!;
      if (this.layout.batchNorm.length > 0) {
        bnStates.push(packBatchNormState(this.model, this.layout));
        bnWeights.push((m1 - m0) / s.n);
      }
      for (const [i, r] of results.entries()) {
        const out = (r as PromiseFulfilledResult<WeightGradientsResult | undefined>).value;
        workerMs.push(out?.ms ?? 0);
        if (!out) continue;
        loss += out.loss;
        correct += out.correct;
        let offset = 0;
        grads = grads.map((g) => {
          const part = tf.tensor(out.grads.subarray(offset, offset + g.size), g.shape, 'float32');
          offset += g.size;
          const sum = tf.add(g, part);
          tf.dispose([g, part]);
          return sum;
        });
        if (offset !== out.grads.length) throw new Error(`worker ${i} returned ${out.grads.length} gradient values, expected ${offset}`);
        if (this.layout.batchNorm.length > 0) {
          const [a, b] = s.bounds[i + 1]!;
          bnStates.push(out.batchNorm);
          bnWeights.push((b - a) / s.n);
        }
      }
      if (bnStates.length > 1) combineBatchNormState(this.model, this.layout, bnStates, bnWeights);
      // The main model's batch-norm statistics moved; the replicas must catch up before their next shard.
      if (this.layout.batchNorm.length > 0) this.version++;
      const te = performance.now();
      this.lastTiming = { mainMs, workerMs, prepareMs: tm - t0, waitMs: tj - tw, joinMs: te - tj, totalMs: te - t0 };
      const out = { loss, correct, grads };
      grads = undefined;
      return out;
    } finally {
      if (grads) tf.dispose(grads);
      tf.dispose([s.mainX, s.mainLabels, ...(parts ? [parts.main] : [])]);
    }
  }

  /**
   * Runs the registered shard transform `name` (see `shard-tasks`) on every shard of the batch, each thread on
   * its own part with the current weights, and joins the parts: a new tensor shaped like x, owned by the caller.
   * The transform sees where its shard sits in the batch (`ShardPlace`), so seeded randomness can differ per
   * shard; the result then depends on the thread count, like the split itself.
   */
  transform(name: string, x: tf.Tensor, labels: Labels, params: ShardParams): Promise<tf.Tensor> {
    return this.enqueue(x, labels, async (x, y) => {
      const fn = shardTransform(name);
      const t0 = performance.now();
      const s = this.split(x, y);
      const packed: { flat?: Float32Array; used: boolean } = { used: false };
      const pending: Promise<TransformResult | undefined>[] = s.shards.map((shard, i) => {
        if (shard.labels.length === 0) return Promise.resolve(undefined);
        const weights = this.weightsFor(i, packed);
        const transfer = [shard.x.buffer, shard.labels.buffer, ...(weights ? [weights.buffer] : [])] as ArrayBuffer[];
        const req = {
          op: 'transform' as const,
          name,
          x: shard.x,
          shape: [shard.labels.length, ...this.inputShape],
          labels: shard.labels,
          params,
          place: { offset: s.bounds[i + 1]![0], batchSize: s.n },
        };
        return this.pool!.call(i, weights ? { ...req, weights } : req, transfer);
      });
      const settled = Promise.allSettled(pending);
      const parts: tf.Tensor[] = [];
      try {
        const tm = performance.now();
        parts.push(fn(this.model, s.mainX, s.mainLabels, params, { offset: 0, batchSize: s.n }));
        const tw = performance.now();
        const results = await settled;
        const tj = performance.now();
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        const workerMs: number[] = [];
        results.forEach((r, i) => {
          const out = (r as PromiseFulfilledResult<TransformResult | undefined>).value;
          workerMs.push(out?.ms ?? 0);
          if (!out) return;
          const [a, b] = s.bounds[i + 1]!;
          parts.push(tf.tensor(out.x, [b - a, ...this.inputShape], 'float32'));
        });
        const joined = parts.length === 1 ? parts.pop()! : tf.concat(parts, 0);
        const te = performance.now();
        this.lastTiming = { mainMs: tw - tm, workerMs, prepareMs: tm - t0, waitMs: tj - tw, joinMs: te - tj, totalMs: te - t0 };
        return joined;
      } finally {
        tf.dispose(parts);
        tf.dispose([s.mainX, s.mainLabels]);
      }
    });
  }

  /**
   * One optimisation step on the batch: the gradients of the mean cross-entropy (or of the `objective`'s
   * registered loss), computed across the threads, applied with `optimizer.applyGradients` to the model's
   * trainable weights. Returns the batch's loss and correct count (before the update).
   */
  trainStep(x: Float32Array | tf.Tensor, labels: Labels, optimizer: tf.Optimizer, objective?: TrainingObjective): Promise<TrainStepOutput> {
    const companion = this.snapshotCompanion(objective);
    const run = this.enqueue(x, labels, async (x, y) => {
      const { loss, correct, grads } = await this.weightGradientsNow(x, y, objective, companion);
      const named: tf.NamedTensorMap = {};
      const vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
      vars.forEach((v, i) => (named[v.name] = grads[i]!));
      try {
        optimizer.applyGradients(named);
      } finally {
        tf.dispose(grads);
      }
      this.version++;
      return { loss, correct };
    });
    return this.releaseAfter(run, companion);
  }

  /** Stops the workers. Later calls reject. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.pool?.close();
  }
}
