/**
 * A duncan2020 measurement between `reproduce --budget smoke` and `full`: the smoke budget's images and query
 * budget (or others) at every MANIP (or those given) for the radii given, in one resumable directory, and its paper-vs-ours table.
 *
 *   node dist/scripts/duncan-measure.js --out DIR [--radius 10[,20]] [--manip 256,...,4] [--images 40] [--queries 1000]
 *
 * The records and table are those of `reproduce duncan2020` (`src/reproduce/duncan2020*.ts`); only the settings
 * differ, and the table's heading names them.
 */
import { join } from 'node:path';
import { readResults, RESULTS_FILE, writeFileAtomic } from '../src/experiments/results-file.js';
import { duncanTableFor } from '../src/reproduce/duncan2020.js';
import { runDuncan } from '../src/reproduce/duncan2020-run.js';
import { DUNCAN_MANIPS, DUNCAN_SETTINGS, type DuncanSettings } from '../src/reproduce/duncan2020-settings.js';
import { paperTableMarkdown } from '../src/reproduce/paper-table.js';

function option(name: string, fallback: string | null): string {
  const at = process.argv.indexOf(`--${name}`);
  const v = at >= 0 ? process.argv[at + 1] : undefined;
  if (v !== undefined) return v;
  if (fallback === null) throw new Error(`duncan-measure: --${name} is required`);
  return fallback;
}

const out = option('out', null);
const radii = option('radius', '10').split(',').map(Number);
const manips = option('manip', DUNCAN_MANIPS.join(',')).split(',').map(Number);
const smoke = DUNCAN_SETTINGS.smoke;
const settings: DuncanSettings = {
  ...smoke,
  images: Number(option('images', String(smoke.images))),
  pairs: manips.flatMap((m) => radii.map((r) => [m, r] as const)),
  search: { ...smoke.search, maxQueries: Number(option('queries', String(smoke.search.maxQueries))) },
};
const run = await runDuncan({ budget: 'smoke', out, settings, onEvent: (e) => (e.type === 'status' ? process.stderr.write(`${e.text}\n`) : undefined) });
const { records } = await readResults(join(out, RESULTS_FILE));
const heading = `measurement: first ${settings.images} test images, R ${radii.join(', ')}, MANIP ${manips.join(', ')}, ${settings.search.maxQueries} queries per search`;
const md = paperTableMarkdown(duncanTableFor(records, settings, heading));
await writeFileAtomic(join(out, 'paper-vs-ours.md'), md);
process.stdout.write(`${md}\n${run.ran} searches run, ${run.skipped} already finished, ${run.seconds.toFixed(1)} s\n`);
