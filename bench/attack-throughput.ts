/**
 * Attack throughput on the MNIST CNN (cnn-small), batch 128, wasm backend: PGD iterations per second (L∞ and
 * L2) and APGD-CE iterations per second, with qrobust's gradient kernels and with TF.js's stock ones. One
 * timed iteration is a whole `attack()` call of 10 steps without early stop (10 forward-and-gradient passes
 * plus the final forward check), so the rate is attack steps per second over a batch of 128 images.
 */
import { tf } from '../src/backend/tf.js';
import { initBackend } from '../src/backend/backend.js';
import { attack, type Norm } from '../src/attacks/index.js';
import { LayersClassifier } from '../src/models/classifier.js';
import { timeLoop, type Benchmark, type BenchOptions, type BenchReport, type BenchRow, type Measurement } from './harness.js';
import { mnistCnnWorkload } from './mnist-cnn.js';

const BATCH = 128;
const STEPS = 10;

interface Case {
  readonly label: string;
  readonly attack: string;
  readonly options: { readonly norm: Norm; readonly epsilon: number };
}

const CASES: readonly Case[] = [
  { label: 'PGD L∞ step (ε = 0.1)', attack: 'pgd', options: { norm: 'linf', epsilon: 0.1 } },
  { label: 'PGD L2 step (ε = 1.5)', attack: 'pgd', options: { norm: 'l2', epsilon: 1.5 } },
  { label: 'APGD-CE step (ε = 0.1)', attack: 'apgd-ce', options: { norm: 'linf', epsilon: 0.1 } },
];

function measureCases(options: BenchOptions): Measurement[] {
  const w = mnistCnnWorkload(BATCH);
  const classifier = new LayersClassifier(w.model);
  const x = tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const labels = Int32Array.from({ length: BATCH }, (_, i) => i % 10);
  try {
    return CASES.map((c) =>
      timeLoop(
        () => {
          const r = attack(c.attack, classifier, x, labels, { ...c.options, steps: STEPS, earlyStop: false, seed: 1 });
          r.adversarial.dispose();
        },
        STEPS,
        options,
      ),
    );
  } finally {
    x.dispose();
    w.dispose();
  }
}

export const attackThroughput: Benchmark = {
  name: 'attack-throughput',
  description: `MNIST CNN, batch ${BATCH}, wasm: PGD (L∞, L2) and APGD-CE iterations per second, fast vs stock gradient kernels`,
  async run(options: BenchOptions): Promise<BenchReport> {
    const info = await initBackend('wasm', { fastKernels: true });
    const fast = measureCases(options);
    await initBackend('wasm', { fastKernels: false });
    let stock: Measurement[];
    try {
      stock = measureCases(options);
    } finally {
      await initBackend('wasm', { fastKernels: true });
    }
    const rows: BenchRow[] = CASES.map((c, i) => ({ name: c.label, variants: { fast: fast[i]!, stock: stock[i]! } }));
    return {
      benchmark: 'attack-throughput',
      title: `Attack iterations on the MNIST CNN (cnn-small), batch ${BATCH}, wasm backend`,
      unit: 'iter/s',
      variants: ['fast', 'stock'],
      rows,
      config: { batch: BATCH, stepsPerCall: STEPS, earlyStop: false, backend: 'wasm', simd: info.simd, threads: 1, tfjs: tf.version_core, node: process.version },
    };
  },
};
