/** `qrobust attack`: robust accuracy of a model directory under one attack over a list of ε. */
import { writeFile } from 'node:fs/promises';
import { type CommandDef, optBool, optNumber, optString, requireString, EXIT_OK } from '../command.js';
import { parseBackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import { attackModelDir, type AttackDirReport, type AttackDirRow } from '../../attacks/attack-dir.js';
import { ATTACK_NAMES } from '../../attacks/registry.js';
import { TARGET_MODES, type TargetMode } from '../../attacks/targets.js';
import type { LossName, Norm } from '../../attacks/types.js';

/** Parses "0.05,0.1,0.2" into numbers; each must be a finite number ≥ 0. */
export function parseEpsilons(raw: string): number[] {
  const parts = raw.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  values.forEach((v, i) => {
    if (parts[i] === '' || !Number.isFinite(v) || v < 0) {
      throw new QrobustError('invalid_option', `--eps: expected a comma-separated list of numbers >= 0, got '${raw}'`);
    }
  });
  return values;
}

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

export const attackCommand: CommandDef = {
  name: 'attack',
  summary: 'robust accuracy under an adversarial attack over a list of ε',
  positionals: [{ name: 'DIR', description: 'model directory (written by train or quantize)', required: true }],
  options: [
    { name: 'attack', type: 'string', description: `attack: ${ATTACK_NAMES.join(', ')}`, choices: ATTACK_NAMES, placeholder: 'NAME' },
    { name: 'norm', type: 'string', description: "threat model (default: the attack's own: linf; l2 for cw-l2, deepfool, hopskipjump)", choices: ['linf', 'l2'], placeholder: 'linf|l2' },
    { name: 'eps', type: 'string', description: 'comma-separated ε list in pixel units', placeholder: 'E1,E2,...', default: '0.05,0.1,0.2,0.3' },
    { name: 'loss', type: 'string', description: "loss to ascend: cross-entropy, CW margin or DLR (default: the attack's)", choices: ['ce', 'margin', 'dlr'], placeholder: 'ce|margin|dlr' },
    { name: 'steps', type: 'int', description: "iterations (iterative attacks; default: the attack's)" },
    { name: 'step-size', type: 'number', description: 'absolute step size (default: relative to ε)' },
    { name: 'restarts', type: 'int', description: 'random restarts, worst case kept per sample (pgd, fab, fab-t)' },
    { name: 'max-queries', type: 'int', description: 'query budget per image (square, hopskipjump, auto)' },
    { name: 'samples', type: 'int', description: 'evaluations per gradient estimate (spsa; hopskipjump: the first)' },
    { name: 'confidence', type: 'number', description: 'required logit margin κ (cw-l2)' },
    { name: 'target-classes', type: 'int', description: 'wrong classes tried, one run each, best first (apgd-t, fab-t, auto)' },
    { name: 'overshoot', type: 'number', description: 'relative overshoot past the linearized boundary (deepfool, fab, fab-t)' },
    { name: 'binary-search-steps', type: 'int', description: 'rounds of the search over the constant c (cw-l2)' },
    { name: 'targeted', type: 'string', description: 'targeted attack at a random or the least likely class (seeded)', choices: TARGET_MODES, placeholder: 'random|least-likely' },
    { name: 'source', type: 'string', description: 'transfer attack: craft on this model directory, evaluate on DIR', placeholder: 'SRC' },
    { name: 'query', type: 'string', description: 'what the attack queries: the model, or the integer-exact path of a quantized DIR (black-box attacks)', choices: ['model', 'integer'], placeholder: 'model|integer' },
    { name: 'eot', type: 'int', description: 'expectation over transformation: average gradients over K passes (randomized models)', placeholder: 'K' },
    { name: 'pixel-grid', type: 'int', description: 'round adversarial inputs onto the lattice of L levels (255: 8-bit) inside the ε-ball, then re-check', placeholder: 'L' },
    { name: 'n', type: 'int', description: 'attack a seeded subset of N test images', default: 500 },
    { name: 'seed', type: 'int', description: 'seed for the subset, the targets and the attack', default: 0 },
    { name: 'grad', type: 'string', description: 'gradient through quantizers of the attacked model (quantized models; default ste)', choices: ['exact', 'ste'], placeholder: 'exact|ste' },
    { name: 'integer-check', type: 'boolean', description: 're-classify every adversarial example on the integer-exact path' },
    { name: 'batch-size', type: 'int', description: 'images per attack batch', default: 256 },
    { name: 'json', type: 'string', description: 'write the report as JSON to FILE', placeholder: 'FILE' },
    { name: 'save-examples', type: 'string', description: 'write the adversarial examples of every ε to FILE (JSON, base64 pixels)', placeholder: 'FILE' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  async run(args, io) {
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
      loss: optString(args, 'loss') as LossName | undefined,
      steps: optNumber(args, 'steps'),
      stepSize: optNumber(args, 'step-size'),
      restarts: optNumber(args, 'restarts'),
      maxQueries: optNumber(args, 'max-queries'),
      samples: optNumber(args, 'samples'),
      confidence: optNumber(args, 'confidence'),
      binarySearchSteps: optNumber(args, 'binary-search-steps'),
      targetClasses: optNumber(args, 'target-classes'),
      overshoot: optNumber(args, 'overshoot'),
      targeted: optString(args, 'targeted') as TargetMode | undefined,
      source: optString(args, 'source'),
      query: optString(args, 'query') as 'model' | 'integer' | undefined,
      eot: optNumber(args, 'eot'),
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
  },
};
