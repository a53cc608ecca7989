/**
 * Prints data-parallel throughput for zoo models on MNIST-shaped random data, one thread against several:
 *
 *     node dist/bench/parallel-measure.js [--arch cnn-small,mlp] [--workers 1,2] [--batch 128]
 *         [--iterations 10] [--rounds 3] [--backend wasm] [--stock-kernels]
 *
 * Every thread count gets its own `DataParallel` up front; the measurements then alternate between them for
 * several rounds, so that load drifting on a shared machine hits them alike. Reports the median over rounds of
 * each round's median step. Only prints; nothing here asserts a speed.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { initBackend, parseBackendName } from '../src/backend/backend.js';
import { fastKernelsInstalled } from '../src/backend/kernels/index.js';
import { DataParallel } from '../src/backend/parallel/index.js';
import { parseArchName } from '../src/models/arch-names.js';
import { buildModel } from '../src/models/zoo.js';
import { measureThroughput, type ParallelOp, type ThroughputResult } from './parallel-timing.js';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      arch: { type: 'string', default: 'cnn-small,mlp' },
      workers: { type: 'string', default: '1,2' },
      batch: { type: 'string', default: '128' },
      iterations: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      backend: { type: 'string', default: 'wasm' },
      'stock-kernels': { type: 'boolean', default: false },
    },
  });
  const info = await initBackend(parseBackendName(values.backend!), { fastKernels: !values['stock-kernels'] });
  const batchSizes = values.batch!.split(',').map(Number);
  const iterations = Number(values.iterations);
  const rounds = Number(values.rounds);
  const counts = values.workers!.split(',').map(Number);
  process.stdout.write(
    `backend ${info.name}, fast kernels ${fastKernelsInstalled() ? 'installed' : 'not installed'}; ` +
      `median over ${rounds} rounds of the median of ${iterations} steps\n`,
  );
  for (const archName of values.arch!.split(',')) {
    const arch = parseArchName(archName.trim());
    const model = buildModel(arch, { inputShape: [28, 28, 1], numClasses: 10, mean: [0.1307], std: [0.3081] }, 0);
    const dps = await Promise.all(counts.map((workers) => DataParallel.create(model, { workers })));
    try {
      for (const batchSize of batchSizes) {
        for (const op of ['inputGradient', 'train'] as ParallelOp[]) {
          const results: ThroughputResult[][] = dps.map(() => []);
          for (let r = 0; r < rounds; r++) {
            for (const [i, dp] of dps.entries()) {
              // Training changes the shared model: each DataParallel re-syncs its replicas before measuring.
              await dp.syncWeights();
              results[i]!.push(await measureThroughput(dp, op, { batchSize, iterations, warmup: 3, seed: r }));
            }
          }
          for (const [i, rs] of results.entries()) {
            const ms = median(rs.map((x) => x.medianMs));
            const main = median(rs.map((x) => x.mainShardMs));
            const workers = rs[0]!.workerShardMs.map((_, k) => median(rs.map((x) => x.workerShardMs[k] ?? 0)));
            process.stdout.write(
              `${arch.padEnd(10)} batch ${String(batchSize).padStart(4)}  threads ${dps[i]!.workers}  ${op.padEnd(13)} ` +
                `${((batchSize * 1000) / ms).toFixed(0).padStart(6)} img/s  (${ms.toFixed(1)} ms/step, rounds ` +
                `${rs.map((x) => x.medianMs.toFixed(1)).join('/')}; main shard ${main.toFixed(1)} ms` +
                `${workers.map((m) => `, worker ${m.toFixed(1)} ms`).join('')})\n`,
            );
          }
        }
      }
    } finally {
      await Promise.all(dps.map((dp) => dp.close()));
      model.dispose();
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
