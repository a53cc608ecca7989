/**
 * Shared pieces of qrobust's benchmarks: the `Benchmark` interface every benchmark file implements, a timing
 * loop, and table formatting. Benchmarks are listed in `registry.ts` and run by `run.ts`.
 */

export interface BenchOptions {
  /** Seconds of timed iterations per measurement (after warm-up). */
  readonly seconds: number;
  /** Seconds of untimed warm-up iterations per measurement (at least one iteration always runs). */
  readonly warmupSeconds: number;
  /** Also measure on the cpu backend where a stock wasm figure is impossible (slow). */
  readonly cpuReference: boolean;
}

/** One row of a benchmark's table: a quantity measured under one or more variants (e.g. fast vs stock kernels). */
export interface BenchRow {
  readonly name: string;
  /** Variant name → result. */
  readonly variants: Record<string, Measurement | Unavailable>;
}

export interface Measurement {
  readonly kind: 'measured';
  /** Items (images) per second, from the median iteration time. */
  readonly perSecond: number;
  /** Median wall time of one iteration, ms (robust against other processes' bursts). */
  readonly msPerIteration: number;
  /** Mean and fastest wall time of one iteration, ms. */
  readonly meanMsPerIteration: number;
  readonly minMsPerIteration: number;
  /**
   * CPU time of this process per iteration (user + system), ms. On a busy machine it stays close to the
   * uncontended wall time when the wall time does not, so compare the two before trusting a slow figure.
   */
  readonly cpuMsPerIteration: number;
  readonly iterations: number;
  /** Where it was measured when not where the benchmark says (e.g. another backend). */
  readonly note?: string;
}

export interface Unavailable {
  readonly kind: 'unavailable';
  readonly reason: string;
}

export interface BenchReport {
  readonly benchmark: string;
  readonly title: string;
  /** Unit of `perSecond`, e.g. 'img/s'. */
  readonly unit: string;
  /** Variant names in column order. */
  readonly variants: readonly string[];
  readonly rows: readonly BenchRow[];
  /** Configuration worth recording with the numbers (batch size, backend, ...). */
  readonly config: Record<string, unknown>;
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(options: BenchOptions): Promise<BenchReport>;
}

/**
 * Runs `step` (which must finish its work synchronously, e.g. by reading its result) for warm-up, then until
 * `options.seconds` have passed, and reports `itemsPerStep` items per iteration as a rate.
 */
export function timeLoop(step: () => void, itemsPerStep: number, options: BenchOptions, note?: string): Measurement {
  const warmupEnd = performance.now() + options.warmupSeconds * 1000;
  do step();
  while (performance.now() < warmupEnd);
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + options.seconds * 1000;
  let now = start;
  do {
    const t0 = now;
    step();
    now = performance.now();
    times.push(now - t0);
  } while (now < end);
  const iterations = times.length;
  const cpu = process.cpuUsage(cpuStart);
  const sorted = [...times].sort((a, b) => a - b);
  const median = iterations % 2 === 1 ? sorted[(iterations - 1) / 2]! : (sorted[iterations / 2 - 1]! + sorted[iterations / 2]!) / 2;
  return {
    kind: 'measured',
    perSecond: (itemsPerStep * 1000) / median,
    msPerIteration: median,
    meanMsPerIteration: (now - start) / iterations,
    minMsPerIteration: sorted[0]!,
    cpuMsPerIteration: (cpu.user + cpu.system) / 1000 / iterations,
    iterations,
    ...(note ? { note } : {}),
  };
}

export function unavailable(reason: string): Unavailable {
  return { kind: 'unavailable', reason };
}

function formatCell(m: Measurement | Unavailable | undefined): string {
  if (m === undefined) return '-';
  if (m.kind === 'unavailable') return `n/a (${m.reason})`;
  const rate = m.perSecond >= 100 ? m.perSecond.toFixed(0) : m.perSecond.toPrecision(3);
  return `${rate} (${m.msPerIteration.toFixed(1)} ms, cpu ${m.cpuMsPerIteration.toFixed(1)})${m.note ? ` [${m.note}]` : ''}`;
}

/** A plain-text table: one line per row, one column per variant, plus the first/second variant ratio. */
export function formatReport(report: BenchReport): string {
  const [first, second] = report.variants;
  const header = ['', ...report.variants.map((v) => `${v} ${report.unit}`), ...(second !== undefined ? [`${first}/${second}`] : [])];
  const lines = report.rows.map((row) => {
    const cells = report.variants.map((v) => formatCell(row.variants[v]));
    if (second !== undefined && first !== undefined) {
      const a = row.variants[first];
      const b = row.variants[second];
      cells.push(a?.kind === 'measured' && b?.kind === 'measured' ? `${(a.perSecond / b.perSecond).toFixed(2)}x` : '-');
    }
    return [row.name, ...cells];
  });
  const all = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const configLine = Object.entries(report.config)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return [
    `${report.title}`,
    `  ${configLine}`,
    ...all.map((r) => `  ${fmt(r)}`),
    `  (${report.unit} from the median wall time per iteration; in parentheses: that median and the mean process CPU ms per iteration)`,
  ].join('\n');
}
