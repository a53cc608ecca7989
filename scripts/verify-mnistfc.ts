/**
 * VNN-COMP 2021 `mnistfc` with `auto` (IBP → CROWN → PGD on the IR → MILP on HiGHS): every instance of
 * instances.csv under a per-instance time limit (theirs, 120 s / 300 s, or less with --timeout), answers
 * compared with expected.csv (consensus of the competition's tools, plus checked witnesses). Counterexamples are
 * re-checked in float64 on the IR and in float32 by onnxruntime on the ONNX file.
 *
 *   node dist/scripts/verify-mnistfc.js [BENCH_DIR] [--timeout S] [--out DIR] [--nets 256x2,256x4] [--seed 0]
 *        [--escalate FILE [--skip-unknown]] [--resume] [--complete milp|bab]
 *
 * `--escalate FILE` takes an earlier run's results.json (a shorter limit): instances it decided keep that answer
 * (decided within a shorter limit is decided within theirs), only the undecided ones run again, each row saying
 * which run it came from. `--skip-unknown` leaves out of the rerun the instances no 2021 tool solved
 * (expected `unknown`); they keep their earlier row. `--resume` keeps the rows DIR/results.json already holds
 * for instances run under the same limit, so a stopped run goes on where it stopped. `--complete` picks the
 * complete method of `auto` (default milp).
 * BENCH_DIR defaults to `shared/benchmarks/mnistfc` beside the checkout (found the way the tests find
 * `shared/datasets`). Writes DIR/results.json (every instance, with stage timings) and DIR/table.md.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { versions } from '../src/core/versions.js';
import { findSiblingMirror } from '../src/data/locate.js';
import { verifyProblemAuto, type AutoResult } from '../src/verify/auto.js';
import { irFromOnnx } from '../src/verify/onnx-network.js';
import type { NetworkIR } from '../src/verify/ir.js';
import { onnxModelCheck } from '../src/verify/onnx-check.js';
import { readVnnlib } from '../src/verify/vnnlib.js';
import type { ModelCheck } from '../src/verify/counterexample.js';

interface Row {
  readonly onnx: string;
  readonly vnnlib: string;
  readonly theirTimeout: number;
  readonly timeout: number;
  readonly expected: string;
  readonly verdict: string;
  readonly method: string;
  readonly seconds: number;
  /** CPU seconds of this process (user + system) for the instance: the machine is shared, wall time is not all ours. */
  readonly cpuSeconds: number;
  readonly contradicts: boolean;
  readonly stages: AutoResult['stages'];
  readonly reason?: string;
  /** Set when the row was taken from the `--escalate` file instead of being run again. */
  readonly from?: string;
}

interface Args {
  readonly dir: string | null;
  readonly timeout: number;
  readonly out: string;
  readonly nets: string[] | null;
  readonly seed: number;
  readonly escalate: string | null;
  readonly skipUnknown: boolean;
  readonly resume: boolean;
  readonly complete: 'milp' | 'bab';
}

function parseArgs(argv: string[]): Args {
  let dir: string | null = null;
  let timeout = Infinity;
  let out = 'runs/verify-mnistfc';
  let nets: string[] | null = null;
  let seed = 0;
  let escalate: string | null = null;
  let skipUnknown = false;
  let resume = false;
  let complete: 'milp' | 'bab' = 'milp';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--timeout') timeout = Number(argv[++i]);
    else if (a === '--out') out = argv[++i]!;
    else if (a === '--nets') nets = argv[++i]!.split(',');
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--escalate') escalate = argv[++i]!;
    else if (a === '--skip-unknown') skipUnknown = true;
    else if (a === '--resume') resume = true;
    else if (a === '--complete') {
      const m = argv[++i];
      if (m !== 'milp' && m !== 'bab') throw new Error('--complete must be milp or bab');
      complete = m;
    }
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else dir = a;
  }
  if (!(timeout > 0)) throw new Error('--timeout must be a positive number of seconds');
  return { dir, timeout, out, nets, seed, escalate, skipUnknown, resume, complete };
}

/** `shared/benchmarks/mnistfc` next to the dataset mirror the tests use. */
function defaultBenchDir(): string | null {
  const mirror = findSiblingMirror();
  if (!mirror) return null;
  const candidate = join(dirname(mirror), 'benchmarks', 'mnistfc');
  return existsSync(candidate) ? candidate : null;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = args.dir ? resolve(args.dir) : defaultBenchDir();
  if (!dir) throw new Error('mnistfc benchmark folder not found: pass it as the first argument');
  const instances = (await readFile(join(dir, 'instances.csv'), 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [onnx, vnnlib, t] = l.split(',');
      return { onnx: onnx!, vnnlib: vnnlib!, timeout: Number(t) };
    });
  const expected = new Map(
    (await readFile(join(dir, 'expected.csv'), 'utf8'))
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => {
        const f = l.split(',');
        return [`${f[0]},${f[1]}`, f[2]!] as const;
      }),
  );
  await mkdir(args.out, { recursive: true });
  const nets = new Map<string, { ir: NetworkIR; check: ModelCheck | null; reason?: string }>();
  const rows: Row[] = [];
  const earlier = new Map<string, Row>();
  if (args.escalate) {
    for (const r of (JSON.parse(await readFile(args.escalate, 'utf8')) as { rows: Row[] }).rows) earlier.set(`${r.onnx},${r.vnnlib}`, r);
  }
  const done = new Map<string, Row>();
  const resumeFile = join(args.out, 'results.json');
  if (args.resume && existsSync(resumeFile)) {
    for (const r of (JSON.parse(await readFile(resumeFile, 'utf8')) as { rows: Row[] }).rows) {
      if (r.from === undefined) done.set(`${r.onnx},${r.vnnlib}`, r);
    }
  }
  const writeResults = (): Promise<void> =>
    writeFile(
      join(args.out, 'results.json'),
      JSON.stringify({ benchmark: dir, timeout: args.timeout, seed: args.seed, escalatedFrom: args.escalate, skipUnknown: args.skipUnknown, complete: args.complete, versions: versions(), rows }, null, 2) + '\n',
    );
  for (const inst of instances) {
    if (args.nets && !args.nets.some((n) => inst.onnx.includes(n))) continue;
    const already = done.get(`${inst.onnx},${inst.vnnlib}`);
    if (already && already.timeout === Math.min(inst.timeout, args.timeout)) {
      rows.push(already);
      continue;
    }
    const before = earlier.get(`${inst.onnx},${inst.vnnlib}`);
    if (before && (before.verdict === 'sat' || before.verdict === 'unsat' || (args.skipUnknown && before.expected === 'unknown'))) {
      rows.push({ ...before, from: args.escalate! });
      continue;
    }
    let net = nets.get(inst.onnx);
    if (!net) {
      const ir = await irFromOnnx(join(dir, inst.onnx));
      const ort = await onnxModelCheck(join(dir, inst.onnx), ir.inputSize, ir.outputSize);
      net = { ir, check: ort.check, ...(ort.unavailable ? { reason: ort.unavailable } : {}) };
      nets.set(inst.onnx, net);
      if (ort.unavailable) process.stderr.write(`${inst.onnx}: ${ort.unavailable}\n`);
    }
    const problem = await readVnnlib(join(dir, inst.vnnlib));
    const timeout = Math.min(inst.timeout, args.timeout);
    const cpu0 = process.cpuUsage();
    const r = await verifyProblemAuto(net.ir, problem, { timeLimit: timeout, seed: args.seed, complete: args.complete, ...(net.check ? { modelCheck: net.check } : {}) });
    const cpu = process.cpuUsage(cpu0);
    const exp = expected.get(`${inst.onnx},${inst.vnnlib}`) ?? 'unknown';
    const contradicts = (r.verdict === 'sat' && exp === 'unsat') || (r.verdict === 'unsat' && exp === 'sat');
    const row: Row = {
      onnx: inst.onnx,
      vnnlib: inst.vnnlib,
      theirTimeout: inst.timeout,
      timeout,
      expected: exp,
      verdict: r.verdict,
      method: r.method,
      seconds: r.seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      contradicts,
      stages: r.stages,
      ...(r.reason ? { reason: r.reason } : {}),
    };
    rows.push(row);
    process.stdout.write(`${inst.onnx} ${inst.vnnlib} expected ${exp} got ${r.verdict} (${r.method}) ${r.seconds.toFixed(2)} s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s)${contradicts ? '  CONTRADICTION' : ''}\n`);
    await writeResults();
  }
  // Again at the end: rows carried over after the last rerun are in the file too.
  await writeResults();
  const lines = [
    `| net | instances | expected sat / unsat / unknown | solved sat | solved unsat | timeout / unknown | contradictions | median s (solved) | mean s (all) | mean CPU s (all) |`,
    `|---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const onnx of [...new Set(rows.map((r) => r.onnx))]) {
    const rs = rows.filter((r) => r.onnx === onnx);
    const count = (f: (r: Row) => boolean): number => rs.filter(f).length;
    const solved = rs.filter((r) => r.verdict === 'sat' || r.verdict === 'unsat');
    lines.push(
      `| ${onnx.replace('.onnx', '')} | ${rs.length} | ${count((r) => r.expected === 'sat')} / ${count((r) => r.expected === 'unsat')} / ${count((r) => r.expected === 'unknown')} | ` +
        `${count((r) => r.verdict === 'sat')} | ${count((r) => r.verdict === 'unsat')} | ${count((r) => r.verdict !== 'sat' && r.verdict !== 'unsat')} | ${count((r) => r.contradicts)} | ` +
        `${median(solved.map((r) => r.seconds)).toFixed(2)} | ${(rs.reduce((a, r) => a + r.seconds, 0) / rs.length).toFixed(2)} | ${(rs.reduce((a, r) => a + r.cpuSeconds, 0) / rs.length).toFixed(2)} |`,
    );
  }
  const byMethod = new Map<string, number>();
  for (const r of rows) if (r.verdict === 'sat' || r.verdict === 'unsat') byMethod.set(`${r.verdict} by ${r.method}`, (byMethod.get(`${r.verdict} by ${r.method}`) ?? 0) + 1);
  lines.push('', `Decided by: ${[...byMethod.entries()].map(([k, v]) => `${k}: ${v}`).join(', ')}.`);
  lines.push('', '| net | property | expected | answer | method | seconds | CPU s |', '|---|---|---|---|---|---|---|');
  for (const r of rows) {
    lines.push(`| ${r.onnx.replace('.onnx', '')} | ${r.vnnlib.replace('.vnnlib', '')} | ${r.expected} | ${r.verdict} | ${r.method} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} |`);
  }
  await writeFile(join(args.out, 'table.md'), lines.join('\n') + '\n');
  process.stdout.write(lines.slice(0, 2 + nets.size + 2).join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`verify-mnistfc: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
