/**
 * Throughput of a `DataParallel` on random data: images per second for one attack step (input gradient) or one
 * training step (gradients + optimizer update). For benchmarks and diagnostics; timings on a shared machine are
 * noisy, so it reports the median over iterations and the spread.
 */
import { tf } from '../src/backend/tf.js';
import { Rng } from '../src/core/rng.js';
import type { DataParallel, InputLossName } from '../src/backend/parallel/index.js';

export type ParallelOp = 'inputGradient' | 'train';

export interface ThroughputOptions {
  readonly batchSize?: number;
  /** Timed iterations (default 10). */
  readonly iterations?: number;
  /** Untimed iterations first (default 2). */
  readonly warmup?: number;
  readonly seed?: number;
  readonly loss?: InputLossName;
  /** Optimizer for 'train' (default Adam, 1e-3, disposed afterwards). Training steps change the model. */
  readonly optimizer?: tf.Optimizer;
}

export interface ThroughputResult {
  readonly op: ParallelOp;
  readonly workers: number;
  readonly batchSize: number;
  /** Batch size over the median step time. */
  readonly imagesPerSecond: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Median milliseconds of the main thread's shard and of each worker's, from `lastTiming`. */
  readonly mainShardMs: number;
  readonly workerShardMs: readonly number[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function measureThroughput(dp: DataParallel, op: ParallelOp, options: ThroughputOptions = {}): Promise<ThroughputResult> {
  const batchSize = options.batchSize ?? 128;
  const iterations = options.iterations ?? 10;
  const warmup = options.warmup ?? 2;
  const rng = new Rng(options.seed ?? 0);
  const shape = dp.model.inputs[0]!.shape.slice(1) as number[];
  const numClasses = (dp.model.outputs[0]!.shape as number[])[1]!;
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(batchSize * size);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  const labels = Int32Array.from({ length: batchSize }, () => rng.int(numClasses));
  const optimizer = op === 'train' ? (options.optimizer ?? tf.train.adam(1e-3)) : undefined;
  const times: number[] = [];
  const mains: number[] = [];
  const workers: number[][] = [];
  try {
    for (let it = 0; it < warmup + iterations; it++) {
      const t0 = performance.now();
      if (op === 'train') {
        await dp.trainStep(x, labels, optimizer!);
      } else {
        const out = await dp.inputGradient(x, labels, options.loss ?? 'ce');
        out.grad.dispose();
      }
      const ms = performance.now() - t0;
      if (it < warmup) continue;
      times.push(ms);
      const t = dp.lastTiming;
      if (t) {
        mains.push(t.mainMs);
        t.workerMs.forEach((w, i) => (workers[i] ??= []).push(w));
      }
    }
  } finally {
    if (optimizer && !options.optimizer) optimizer.dispose();
  }
  const medianMs = median(times);
  return {
    op,
    workers: dp.workers,
    batchSize,
    imagesPerSecond: batchSize / (medianMs / 1000),
    medianMs,
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    mainShardMs: mains.length ? median(mains) : 0,
    workerShardMs: workers.map(median),
  };
}
