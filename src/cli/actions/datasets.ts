/** `qrobust datasets`: each dataset, split and file variant, whether its files are present and verified. */
import { writeFile } from 'node:fs/promises';
import { type CliIO, optString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { datasetStatus } from '../../data/index.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const dataDir = optString(args, 'data-dir');
  const status = await datasetStatus({ ...(dataDir ? { dataDir } : {}), verify: args.options['verify'] !== false });
  const json = optString(args, 'json');
  if (json) await writeFile(json, JSON.stringify(status, null, 2) + '\n');
  const lines: string[] = [];
  for (const ds of status.datasets) {
    lines.push(`${ds.name} — ${ds.title} [${ds.shape.join('x')}], ${ds.numClasses} classes`);
    for (const split of ds.splits) {
      for (const v of split.variants) {
        const mark = v.ready ? 'ready' : v.files.some((f) => f.present) ? 'incomplete' : 'missing';
        const used = split.selected === v.variant ? ' (used)' : '';
        lines.push(`  ${split.split.padEnd(5)} ${v.variant.padEnd(22)} ${String(v.count).padStart(6)} images  ${mark}${used}`);
        for (const f of v.files) {
          const state = !f.present ? 'missing' : f.verified === true ? 'verified' : f.verified === false ? `BAD: ${f.problem}` : 'present';
          lines.push(`      ${f.name.padEnd(28)} ${state}${f.path ? `  ${f.path}` : ''}`);
        }
      }
    }
  }
  lines.push('', 'searched, in order:', ...status.locations.map((l) => `  ${l.kind.padEnd(8)} ${l.dir}`));
  lines.push(`downloads go to ${status.cacheDir}`);
  io.stdout.write(lines.join('\n') + '\n');
  return EXIT_OK;
}
