/**
 * `qrobust attack DIR --adaptive`: the adaptive evaluation of workflows/adaptive-attack.ts, one row per ε with
 * the worst-case robust accuracy, every member's, the worst member and the masking flag; `--json` writes the
 * full report (per-sample outcomes, seeds, options, versions).
 */
import { writeFile } from 'node:fs/promises';
import { type CliIO, optNumber, optString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { parseEpsilons } from '../epsilon.js';
import { parseBackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import { flagOf, tunableOption } from '../../attacks/tunable-options.js';
import type { Norm } from '../../attacks/types.js';
import type { AdaptiveKnobs } from '../../attacks/adaptive-members.js';
import { adaptiveAttackDir, type AdaptiveDirReport } from '../../workflows/adaptive-attack.js';
import { tunableValues } from './attack.js';

/** Options of a single attack that have no meaning for the adaptive evaluation, which chooses its own. */
const SINGLE_ATTACK_ONLY = ['attack', 'source', 'query', 'grad', 'targeted', 'integer-check', 'pixel-grid', 'save-examples'] as const;
const KNOBS: readonly (keyof AdaptiveKnobs)[] = ['steps', 'restarts', 'maxQueries', 'targetClasses', 'eot'];

const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;

function table(r: AdaptiveDirReport): string[] {
  const names = r.members.map((m) => m.name);
  const widths = names.map((n) => Math.max(n.length, 7));
  const lines = [['eps'.padEnd(8), '   clean', '   worst', ...names.map((n, i) => n.padStart(widths[i]!)), 'worst member'.padEnd(14), 'masking'].join('  ')];
  for (const row of r.results) {
    const flag = row.masking.flagged ? `MASKED (pgd-exact +${(row.masking.exactGap! * 100).toFixed(1)} pts)` : 'no';
    lines.push(
      [
        String(row.eps).padEnd(8),
        pct(row.cleanAccuracy).padStart(8),
        pct(row.robustAccuracy).padStart(8),
        ...row.members.map((m, i) => pct(m.robustAccuracy).padStart(widths[i]!)),
        row.worst.padEnd(14),
        flag,
      ].join('  '),
    );
  }
  return lines;
}

export async function runAdaptive(args: ParsedArgs, io: CliIO): Promise<number> {
  for (const name of SINGLE_ATTACK_ONLY) {
    if (args.options[name] !== undefined && args.options[name] !== false) {
      throw new QrobustError('invalid_option', `--adaptive runs its own set of attacks; --${name} applies to a single attack only`);
    }
  }
  const knobs: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(tunableValues(args))) {
    if (v === undefined) continue;
    if (!(KNOBS as readonly string[]).includes(key)) {
      throw new QrobustError('invalid_option', `--adaptive takes --${KNOBS.map((k) => flagOf(tunableOption(k)!)).join(', --')} only; --${flagOf(tunableOption(key)!)} applies to a single attack`);
    }
    knobs[key] = v;
  }
  const backend = optString(args, 'backend');
  const report = await adaptiveAttackDir({
    ...(knobs as AdaptiveKnobs),
    dir: args.positionals[0]!,
    epsilons: parseEpsilons(optString(args, 'eps')!),
    norm: optString(args, 'norm') as Norm | undefined,
    n: optNumber(args, 'n'),
    seed: optNumber(args, 'seed'),
    batchSize: optNumber(args, 'batch-size'),
    dataDir: optString(args, 'data-dir'),
    backend: backend ? parseBackendName(backend) : undefined,
  });
  io.stdout.write(table(report).join('\n') + '\n');
  const json = optString(args, 'json');
  if (json) await writeFile(json, JSON.stringify(report, null, 2) + '\n');
  const skipped = report.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  const flagged = report.checks.filter((c) => c.status === 'flag').map((c) => `${c.name}: ${c.detail}`);
  io.stderr.write(
    `adaptive evaluation of ${report.model} [${report.config.classifier}], ${report.config.dataset.name} test, n = ${report.config.n}, seed ${report.config.seed}` +
      `${report.parent ? `, transfer from ${report.parent}` : ''}\n` +
      (skipped ? `not run: ${skipped}\n` : '') +
      (flagged.length ? `masking checks flagged: ${flagged.join('; ')}\n` : 'masking checks: none flagged\n'),
  );
  return EXIT_OK;
}
