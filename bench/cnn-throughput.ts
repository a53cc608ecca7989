/**
 * Throughput of the MNIST CNN on the wasm backend, with qrobust's gradient kernels and with the stock ones:
 * forward pass, input gradient (one attack step) and one Adam training step, in images per second.
 */
import { tf } from '../src/backend/tf.js';
import { initBackend } from '../src/backend/backend.js';
import { timeLoop, unavailable, type Benchmark, type BenchOptions, type BenchReport, type BenchRow, type Measurement, type Unavailable } from './harness.js';
import { mnistCnnWorkload, type CnnWorkload } from './mnist-cnn.js';

const BATCH = 128;

type Task = 'forward' | 'inputGradient' | 'trainStep';
const TASKS: readonly { task: Task; label: string }[] = [
  { task: 'forward', label: 'forward' },
  { task: 'inputGradient', label: 'input gradient (fwd+bwd)' },
  { task: 'trainStep', label: 'training step (Adam)' },
];

function measureAll(w: CnnWorkload, options: BenchOptions, note?: string): Record<Task, Measurement | Unavailable> {
  const out = {} as Record<Task, Measurement | Unavailable>;
  for (const { task } of TASKS) {
    try {
      w[task]();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      out[task] = unavailable(/Conv2DBackpropFilter/.test(msg) ? 'Conv2DBackpropFilter kernel missing' : msg.slice(0, 80));
      continue;
    }
    out[task] = timeLoop(() => w[task](), w.batchSize, options, note);
  }
  return out;
}

function withWorkload<T>(f: (w: CnnWorkload) => T): T {
  const w = mnistCnnWorkload(BATCH);
  try {
    return f(w);
  } finally {
    w.dispose();
  }
}

export const cnnThroughput: Benchmark = {
  name: 'cnn-throughput',
  description: 'MNIST CNN, batch 128, wasm: forward / input gradient / Adam step, fast vs stock gradient kernels',
  async run(options: BenchOptions): Promise<BenchReport> {
    const info = await initBackend('wasm', { fastKernels: true });
    const fast = withWorkload((w) => measureAll(w, options));
    await initBackend('wasm', { fastKernels: false });
    let stock: Record<Task, Measurement | Unavailable>;
    try {
      stock = withWorkload((w) => measureAll(w, options));
    } finally {
      await initBackend('wasm', { fastKernels: true });
    }
    // Stock wasm cannot train a CNN at all; give the cpu backend's figure as the stock reference instead.
    let cpuTrain: Measurement | Unavailable | undefined;
    if (stock.trainStep.kind === 'unavailable' && options.cpuReference) {
      await initBackend('cpu');
      try {
        cpuTrain = withWorkload((w) => timeLoop(() => w.trainStep(), w.batchSize, options, 'cpu backend'));
      } finally {
        await initBackend('wasm', { fastKernels: true });
      }
    }
    const rows: BenchRow[] = TASKS.map(({ task, label }) => ({
      name: label,
      variants: { fast: fast[task], stock: task === 'trainStep' && cpuTrain !== undefined ? cpuTrain : stock[task] },
    }));
    if (cpuTrain !== undefined) rows.push({ name: 'training step, stock wasm', variants: { fast: fast.trainStep, stock: stock.trainStep } });
    return {
      benchmark: 'cnn-throughput',
      title: 'MNIST CNN throughput (conv16-pool-conv32-pool-dense128-dense10), wasm backend',
      unit: 'img/s',
      variants: ['fast', 'stock'],
      rows,
      config: {
        batch: BATCH,
        backend: 'wasm',
        simd: info.simd,
        threads: 1,
        tfjs: tf.version_core,
        node: process.version,
      },
    };
  },
};
