/** `qrobust attack`: robust accuracy of a model directory under one attack over a list of ε. */
import { writeFile } from 'node:fs/promises';
import { type CliIO, optBool, optNumber, optString, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { parseEpsilons } from '../epsilon.js';
import { parseBackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import { attackModelDir, type AttackDirReport, type AttackDirRow } from '../../workflows/attack-model.js';
import type { TargetMode } from '../../attacks/target-modes.js';
import type { LossName, Norm } from '../../attacks/types.js';
import { optionNameOf, TUNABLE_OPTIONS, type TunableValues } from '../../attacks/tunable-options.js';

function pct(v: number): string {
  return `${(v * 100).toFixed(2)}%`.padStart(8);
}

/** Which optional columns the table has, decided before the first row. */
interface Columns {
  readonly integer: boolean;
  readonly source: boolean;
  readonly pixelGrid: boolean;
  readonly members: boolean;
}

function header(c: Columns): string {
  const cells = ['eps'.padEnd(8), '   clean', '  robust', ' success', '  mean-pert', ' queries', 'seconds'.padStart(8)];
  if (c.source) cells.push(' src-rob');
  if (c.integer) cells.push('  int-rob', ' disagree');
  if (c.pixelGrid) cells.push('rounded-away');
  if (c.members) cells.push('broken by');
  return cells.join('  ');
}

function formatRow(r: AttackDirRow, c: Columns): string {
  const cells = [
    String(r.eps).padEnd(8),
    pct(r.cleanAccuracy),
    pct(r.robustAccuracy),
    pct(r.successRate),
    (r.meanPerturbation === null ? '-' : r.meanPerturbation.toFixed(4)).padStart(10),
    r.meanQueries.toFixed(1).padStart(8),
    r.seconds.toFixed(2).padStart(8),
  ];
  if (c.source) cells.push(r.source ? pct(r.source.robustAccuracy) : '-'.padStart(8));
  if (c.integer && r.integer) cells.push(pct(r.integer.robustAccuracy), String(r.integer.disagreements).padStart(9));
  if (c.pixelGrid) cells.push(String(r.pixelGrid?.lostToRounding ?? 0).padStart(12));
  if (c.members) cells.push(Object.entries(r.brokenBy ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || '-');
  return cells.join('  ');
}

function describe(report: AttackDirReport): string {
  const c = report.config;
  const extras = [
    c.targeted ? `targeted (${c.targeted})` : null,
    report.source ? `crafted on ${report.source.model} [${c.sourceClassifier}]` : null,
    c.query === 'integer' ? 'queries the integer path' : null,
    c.pixelGrid ? `pixel grid ${c.pixelGrid}` : null,
  ].filter(Boolean);
  return (
    `${report.attack} (${[c.norm, c.loss].filter(Boolean).join(', ')}) on ${report.model} [${c.classifier}], ` +
    `${c.dataset.name} test (${c.dataset.variant}), n = ${c.n}, seed ${c.seed}${extras.length ? `; ${extras.join('; ')}` : ''}\n`
  );
}

/** The tunable attack options given as flags (see attacks/tunable-options.ts). */
export function tunableValues(args: ParsedArgs): TunableValues {
  const values: TunableValues = {};
  for (const t of TUNABLE_OPTIONS) {
    const flag = optionNameOf(t);
    if (t.type === 'boolean') {
      // A negated option (on by default) arrives as false from --no-<name>.
      if (args.options[flag] !== undefined) values[t.key] = optBool(args, flag);
    } else if (t.type === 'loss') {
      const v = optString(args, flag);
      if (v !== undefined) values[t.key] = v as LossName;
    } else {
      const v = optNumber(args, flag);
      if (v !== undefined) values[t.key] = v;
    }
  }
  return values;
}

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  if (optBool(args, 'adaptive')) return (await import('./attack-adaptive.js')).runAdaptive(args, io);
  if (optString(args, 'attack') === undefined) throw new QrobustError('invalid_argument', 'attack: give --attack NAME (one attack) or --adaptive (the adaptive evaluation)');
  const attackName = requireString(args, 'attack', 'attack');
  const epsilons = parseEpsilons(optString(args, 'eps')!);
  const backend = optString(args, 'backend');
  const integerCheck = optBool(args, 'integer-check');
  const columns: Columns = {
    integer: integerCheck,
    source: optString(args, 'source') !== undefined,
    pixelGrid: optNumber(args, 'pixel-grid') !== undefined,
    members: attackName.toLowerCase() === 'auto',
  };
  let printed = false;
  const report = await attackModelDir({
    dir: args.positionals[0]!,
    attack: attackName,
    epsilons,
    norm: optString(args, 'norm') as Norm | undefined,
    options: tunableValues(args),
    targeted: optString(args, 'targeted') as TargetMode | undefined,
    source: optString(args, 'source'),
    query: optString(args, 'query') as 'model' | 'integer' | undefined,
    pixelGrid: optNumber(args, 'pixel-grid'),
    n: optNumber(args, 'n'),
    seed: optNumber(args, 'seed'),
    gradient: optString(args, 'grad') as 'exact' | 'ste' | undefined,
    integerCheck,
    saveExamples: optString(args, 'save-examples'),
    batchSize: optNumber(args, 'batch-size'),
    dataDir: optString(args, 'data-dir'),
    backend: backend ? parseBackendName(backend) : undefined,
    onEpsilon: (row) => {
      if (!printed) io.stdout.write(header(columns) + '\n');
      printed = true;
      io.stdout.write(formatRow(row, columns) + '\n');
    },
  });
  const json = optString(args, 'json');
  if (json) await writeFile(json, JSON.stringify(report, null, 2) + '\n');
  io.stderr.write(describe(report));
  return EXIT_OK;
}
