/**
 * Verifier throughput on the VNN-COMP 2021 mnistfc 256x4 net (784-256-256-256-256-10, float64, one thread):
 * CROWN and alpha-CROWN bounds of a property's 9 constraints per second, and branch-and-bound regions per second
 * on an instance branch and bound proves (prop_13_0.03). Needs `shared/benchmarks/mnistfc` beside the checkout.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findSiblingMirror } from '../src/data/locate.js';
import { verifyCaseBab } from '../src/verify/bab/verify-bab.js';
import { crownSpecLowerBounds } from '../src/verify/crown.js';
import { irFromOnnx } from '../src/verify/onnx-network.js';
import { readVnnlib } from '../src/verify/vnnlib.js';
import { timeLoop, unavailable, type Benchmark, type BenchOptions, type BenchReport, type Measurement, type Unavailable } from './harness.js';

const NET = 'mnist-net_256x4.onnx';
const PROPERTY = 'prop_13_0.03.vnnlib';

function benchDir(): string | null {
  const mirror = findSiblingMirror();
  const dir = mirror ? join(dirname(mirror), 'benchmarks', 'mnistfc') : null;
  return dir && existsSync(join(dir, NET)) ? dir : null;
}

/** Branch and bound for about `seconds`, as regions per second (one region = one timed item). */
async function babRate(run: (seconds: number) => Promise<{ regions: number; seconds: number }>, options: BenchOptions): Promise<Measurement> {
  await run(options.warmupSeconds);
  const cpu0 = process.cpuUsage();
  const r = await run(options.seconds);
  const cpu = process.cpuUsage(cpu0);
  const ms = (r.seconds * 1000) / r.regions;
  return {
    kind: 'measured',
    perSecond: r.regions / r.seconds,
    msPerIteration: ms,
    meanMsPerIteration: ms,
    minMsPerIteration: ms,
    cpuMsPerIteration: (cpu.user + cpu.system) / 1000 / r.regions,
    iterations: r.regions,
    note: 'mean over the regions of one run',
  };
}

export const verifyThroughput: Benchmark = {
  name: 'verify-throughput',
  description: `mnistfc ${NET}: CROWN and alpha-CROWN bounds per second, branch-and-bound regions per second`,
  async run(options: BenchOptions): Promise<BenchReport> {
    const dir = benchDir();
    const labels = ['CROWN bound, 9 constraints', 'alpha-CROWN bound (20 iterations), 9 constraints', `branch-and-bound regions (${PROPERTY})`];
    let cells: (Measurement | Unavailable)[];
    if (!dir) cells = labels.map(() => unavailable('shared/benchmarks/mnistfc not found'));
    else {
      const ir = await irFromOnnx(join(dir, NET));
      const c = (await readVnnlib(join(dir, PROPERTY))).cases[0]!;
      const spec = c.unsafe.disjuncts.map((d) => d[0]!);
      cells = [
        timeLoop(() => void crownSpecLowerBounds(ir, c.input, spec, { alphaIterations: 0 }), 1, options),
        timeLoop(() => void crownSpecLowerBounds(ir, c.input, spec, { alphaIterations: 20 }), 1, options),
        await babRate(async (seconds) => {
          const r = await verifyCaseBab(ir, c, { timeLimit: Math.max(seconds, 0.1) });
          return { regions: r.stats.regions, seconds: r.seconds };
        }, options),
      ];
    }
    return {
      benchmark: 'verify-throughput',
      title: `Verifier throughput on mnistfc ${NET} (float64, one thread)`,
      unit: 'per s',
      variants: ['js'],
      rows: labels.map((name, i) => ({ name, variants: { js: cells[i]! } })),
      config: { net: NET, property: PROPERTY, babIterations: 5, node: process.version },
    };
  },
};
