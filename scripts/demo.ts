/**
 * `npm run demo`: the whole pipeline on the embedded default (MNIST), offline. It runs the experiment
 * `examples/mnist-core.json` (train or reuse a small CNN and an mlp-tiny; 8-, 4-, 2-bit and binary variants;
 * FGSM, PGD with exact and straight-through gradients, Square, transfer from each FP32 parent to its variants,
 * comparison metrics and gradient-masking diagnostics; verification of the mlp-tiny family), then writes the HTML
 * report and prints where it is. Running it again resumes: finished tasks are not recomputed.
 *
 * QROBUST_DEMO_DIR sets the output folder (default runs/demo); QROBUST_DEMO_CONFIG another config.
 */
import { join } from 'node:path';
import { runCli } from '../src/cli/main.js';

const OUT = process.env['QROBUST_DEMO_DIR'] ?? join('runs', 'demo');
const CONFIG = process.env['QROBUST_DEMO_CONFIG'] ?? join('examples', 'mnist-core.json');

async function main(): Promise<number> {
  const io = { stdout: process.stdout, stderr: process.stderr };
  const started = Date.now();
  const ran = await runCli(['run', CONFIG, '--out', OUT], io);
  if (ran !== 0) return ran;
  const report = join(OUT, 'report.html');
  const reported = await runCli(['report', OUT, '--out', report, '--csv', join(OUT, 'csv')], io);
  if (reported !== 0) return reported;
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  process.stdout.write(`\nDemo finished in ${minutes} min. Open the report: ${report}\n(results: ${join(OUT, 'results.jsonl')}, tables as CSV: ${join(OUT, 'csv')})\n`);
  return 0;
}

process.exitCode = await main();
