/**
 * Verified robustness of an MNIST mlp-tiny and its quantized variants (issue 5's measurement): for each model
 * directory and each ε, `verifyModelDir` with `auto` on the same seeded N test images (quantized directories
 * in their deployed integer semantics), then relative robustness (Duncan et al., IJCNN 2020) of every quantized
 * variant against the full-precision model at each ε, from the same per-sample verdicts.
 *
 *   node dist/scripts/verify-mlp-tiny.js FP_DIR Q_DIR... [--eps 1,2,4,8] [--n 100] [--timeout 10] [--seed 0]
 *        [--semantics integer|fake-quant] [--out DIR] [--reuse FILE,...]
 *
 * ε is given in units of 1/255. Writes DIR/results.json (every sample's verdict and stage times, seed, versions)
 * after every (model, ε) and DIR/table.md at the end. A rerun with the same DIR resumes: (model, ε) runs already
 * in DIR/results.json, or in the `--reuse` files (other runs' results.json, e.g. models split over processes),
 * with the same n, seed, timeout and semantics are taken from there instead of being recomputed.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { releaseZ3 } from '../src/verify/smt/z3-runtime.js';
import { verifyModelDir, type VerifyDirReport } from '../src/workflows/verify-model.js';

interface Args {
  readonly dirs: string[];
  readonly eps: number[];
  readonly n: number;
  readonly timeout: number;
  readonly seed: number;
  readonly semantics: 'integer' | 'fake-quant';
  readonly out: string;
  readonly reuse: string[];
}

interface RunRecord {
  readonly dir: string;
  readonly eps: number;
  readonly report: VerifyDirReport;
}

function parse(argv: string[]): Args {
  const dirs: string[] = [];
  let eps = [1, 2, 4, 8];
  let n = 100;
  let timeout = 10;
  let seed = 0;
  let semantics: 'integer' | 'fake-quant' = 'integer';
  let out = 'runs/verify-mlp-tiny';
  let reuse: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--eps') eps = argv[++i]!.split(',').map(Number);
    else if (a === '--n') n = Number(argv[++i]);
    else if (a === '--timeout') timeout = Number(argv[++i]);
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--semantics') semantics = argv[++i] as 'integer' | 'fake-quant';
    else if (a === '--out') out = argv[++i]!;
    else if (a === '--reuse') reuse = argv[++i]!.split(',');
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else dirs.push(a);
  }
  if (dirs.length < 1) throw new Error('give the full-precision model directory first, then the quantized ones');
  return { dirs, eps, n, timeout, seed, semantics, out, reuse };
}

function pct(a: number, b: number): string {
  return b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`;
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  await mkdir(args.out, { recursive: true });
  const earlier: RunRecord[] = [];
  for (const file of [join(args.out, 'results.json'), ...args.reuse]) {
    if (existsSync(file)) earlier.push(...(JSON.parse(await readFile(file, 'utf8')) as { reports: RunRecord[] }).reports);
  }
  const semanticsOf = (dir: string): string => (dir === args.dirs[0] ? 'float' : args.semantics);
  const reports: RunRecord[] = [];
  for (const dir of args.dirs) {
    for (const e of args.eps) {
      const found = earlier.find(
        (r) =>
          resolve(r.dir) === resolve(dir) &&
          r.eps === e &&
          r.report.config.n === args.n &&
          r.report.config.seed === args.seed &&
          r.report.config.timeout === args.timeout &&
          r.report.semantics === semanticsOf(dir),
      );
      if (found) {
        reports.push({ dir, eps: e, report: found.report });
        process.stdout.write(`${basename(dir)} eps ${e}/255: taken from an earlier run\n`);
        continue;
      }
      const report = await verifyModelDir({ dir, epsilon: e / 255, n: args.n, seed: args.seed, timeout: args.timeout, method: 'auto', ...(dir === args.dirs[0] ? {} : { semantics: args.semantics }) });
      reports.push({ dir, eps: e, report });
      const s = report.summary;
      process.stdout.write(`${basename(dir)} [${report.semantics}] eps ${e}/255: verified ${s.verified} falsified ${s.falsified} unknown ${s.unknown} (${s.seconds.toFixed(1)} s)\n`);
      await writeFile(join(args.out, 'results.json'), JSON.stringify({ args, reports }, null, 2) + '\n');
    }
  }
  const fpDir = args.dirs[0]!;
  const lines = ['| model | semantics | ε | verified | falsified | unknown | seconds |', '|---|---|---|---|---|---|---|'];
  for (const { dir, eps, report } of reports) {
    const s = report.summary;
    lines.push(`| ${basename(dir)} | ${report.semantics} | ${eps}/255 | ${s.verified} | ${s.falsified} | ${s.unknown} | ${s.seconds.toFixed(1)} |`);
  }
  lines.push('', '| quantized model | ε | verified both | FP only | Q only | Q given FP | FP given Q |', '|---|---|---|---|---|---|---|');
  const relative: unknown[] = [];
  for (const dir of args.dirs.slice(1)) {
    for (const e of args.eps) {
      const fp = reports.find((r) => r.dir === fpDir && r.eps === e)!.report;
      const q = reports.find((r) => r.dir === dir && r.eps === e)!.report;
      if (fp.samples.some((s, k) => s.index !== q.samples[k]?.index)) throw new Error(`${dir}: different samples than ${fpDir}`);
      let both = 0;
      let fpOnly = 0;
      let qOnly = 0;
      fp.samples.forEach((s, k) => {
        const a = s.outcome === 'verified';
        const b = q.samples[k]!.outcome === 'verified';
        if (a && b) both++;
        else if (a) fpOnly++;
        else if (b) qOnly++;
      });
      relative.push({ dir, eps: e, both, fpOnly, qOnly });
      lines.push(`| ${basename(dir)} | ${e}/255 | ${both} | ${fpOnly} | ${qOnly} | ${pct(both, both + fpOnly)} | ${pct(both, both + qOnly)} |`);
    }
  }
  await writeFile(join(args.out, 'results.json'), JSON.stringify({ args, reports, relative }, null, 2) + '\n');
  await writeFile(join(args.out, 'table.md'), lines.join('\n') + '\n');
  process.stdout.write(lines.join('\n') + '\n');
  await releaseZ3();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`verify-mlp-tiny: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
