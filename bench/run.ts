/**
 * `npm run bench`: runs the benchmarks listed in registry.ts, prints a table per benchmark and one JSON line
 * with every result.
 *
 *   node dist/bench/run.js [--only NAME[,NAME]] [--seconds S] [--warmup S] [--cpu-reference] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatReport, type BenchOptions, type BenchReport } from './harness.js';
import { BENCHMARKS } from './registry.js';

const USAGE = `usage: node dist/bench/run.js [options]
  --only NAMES      comma-separated benchmark names (default: all: ${BENCHMARKS.map((b) => b.name).join(', ')})
  --seconds S       timed seconds per measurement (default 2.5)
  --warmup S        warm-up seconds per measurement (default 0.5)
  --cpu-reference   where a stock wasm figure is impossible, measure the cpu backend instead (slow)
  --json FILE       also write the JSON results to FILE
  --list            list the benchmarks and exit`;

function positiveNumber(name: string, s: string | undefined, dflt: number): number {
  if (s === undefined) return dflt;
  const v = Number(s);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number, got '${s}'`);
  return v;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      'cpu-reference': { type: 'boolean', default: false },
      json: { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.list) {
    for (const b of BENCHMARKS) console.log(`${b.name.padEnd(20)} ${b.description}`);
    return;
  }
  const options: BenchOptions = {
    seconds: positiveNumber('seconds', values.seconds, 2.5),
    warmupSeconds: positiveNumber('warmup', values.warmup, 0.5),
    cpuReference: values['cpu-reference'] ?? false,
  };
  const wanted = values.only?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const unknown = wanted?.filter((n) => !BENCHMARKS.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}\n${USAGE}`);
  const selected = BENCHMARKS.filter((b) => wanted === undefined || wanted.includes(b.name));

  const reports: BenchReport[] = [];
  for (const bench of selected) {
    const report = await bench.run(options);
    reports.push(report);
    console.log(formatReport(report));
    console.log();
  }
  const json = JSON.stringify({ date: new Date().toISOString(), options, reports });
  console.log(json);
  if (values.json) writeFileSync(values.json, json + '\n');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
