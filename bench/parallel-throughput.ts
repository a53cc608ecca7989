/**
 * What the second core buys: the MNIST CNN's input gradient (one attack step) and Adam training step at batch
 * 128 with the fast wasm kernels, on one thread and split over two (main thread + one worker replica).
 */
import { tf } from '../src/backend/tf.js';
import { initBackend } from '../src/backend/backend.js';
import { DataParallel } from '../src/backend/parallel/index.js';
import { measureThroughput, type ParallelOp } from './parallel-timing.js';
import { buildModel } from '../src/models/zoo.js';
import type { Benchmark, BenchOptions, BenchReport, BenchRow, Measurement } from './harness.js';
import { MNIST_SPEC } from './mnist-cnn.js';

const BATCH = 128;

async function measure(workers: number, op: ParallelOp, options: BenchOptions): Promise<Measurement> {
  const model = buildModel('cnn-small', MNIST_SPEC, 1);
  const dp = await DataParallel.create(model, { workers });
  try {
    // About `options.seconds` of timed steps, at the speed a first probe shows.
    const probe = await measureThroughput(dp, op, { batchSize: BATCH, iterations: 2, warmup: 1 });
    const iterations = Math.max(5, Math.round((options.seconds * 1000) / probe.medianMs));
    const cpuStart = process.cpuUsage();
    const r = await measureThroughput(dp, op, { batchSize: BATCH, iterations, warmup: 2 });
    const cpu = process.cpuUsage(cpuStart);
    return {
      kind: 'measured',
      perSecond: r.imagesPerSecond,
      msPerIteration: r.medianMs,
      meanMsPerIteration: r.medianMs,
      minMsPerIteration: r.minMs,
      cpuMsPerIteration: (cpu.user + cpu.system) / 1000 / (iterations + 2),
      iterations,
    };
  } finally {
    await dp.close();
    model.dispose();
  }
}

export const parallelThroughput: Benchmark = {
  name: 'parallel-throughput',
  description: 'MNIST CNN, batch 128, wasm + fast kernels: input gradient and Adam step on 1 vs 2 threads',
  async run(options: BenchOptions): Promise<BenchReport> {
    const info = await initBackend('wasm', { fastKernels: true });
    const rows: BenchRow[] = [];
    for (const [op, label] of [['inputGradient', 'input gradient (fwd+bwd)'], ['train', 'training step (Adam)']] as const) {
      rows.push({ name: label, variants: { '1 thread': await measure(1, op, options), '2 threads': await measure(2, op, options) } });
    }
    return {
      benchmark: 'parallel-throughput',
      title: 'MNIST CNN throughput on worker threads (data-parallel shards of each batch)',
      unit: 'img/s',
      variants: ['2 threads', '1 thread'],
      rows,
      config: { batch: BATCH, backend: 'wasm', simd: info.simd, tfjs: tf.version_core, node: process.version },
    };
  },
};
