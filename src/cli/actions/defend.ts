/** `qrobust defend`: see the command module. */
import { writeFile } from 'node:fs/promises';
import { type CliIO, optNumber, optString, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { parseEpsilon } from '../epsilon.js';
import { TrainingProgress } from '../training-progress.js';
import { parseBackendName } from '../../backend/backend.js';
import type { EnsembleCombine } from '../../defenses/ensemble.js';
import { parseBitsList } from '../../quant/spec.js';
import { defendModel, type DefendedModel } from '../../workflows/defend.js';

const pct = (a: number): string => `${(a * 100).toFixed(2)}%`;

function line(m: DefendedModel): string {
  const parts = [m.label.padEnd(10)];
  if (m.testAccuracy) parts.push(`test accuracy ${pct(m.testAccuracy.accuracy)} (${m.testAccuracy.n} images)`);
  if (m.integerAccuracy) parts.push(`integer ${pct(m.integerAccuracy.accuracy)}`);
  parts.push(`${m.seconds.toFixed(1)} s`, `→ ${m.dir}`);
  return parts.join('  ');
}

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const method = requireString(args, 'method', 'defend');
  const out = requireString(args, 'out', 'defend');
  const eps = optString(args, 'eps');
  const bits = optString(args, 'bits');
  const members = optString(args, 'members');
  const backend = optString(args, 'backend');
  const progress = new TrainingProgress(io.stderr, method);
  const result = await defendModel({
    method,
    ...(args.positionals[0] !== undefined ? { dir: args.positionals[0] } : {}),
    out,
    ...(eps !== undefined ? { epsilon: parseEpsilon(eps) } : {}),
    steps: optNumber(args, 'steps'),
    stepSize: optNumber(args, 'step-size'),
    beta: optNumber(args, 'beta'),
    epochs: optNumber(args, 'epochs'),
    boundaryAttack: optString(args, 'boundary-attack'),
    norm: optString(args, 'norm'),
    overshoot: optNumber(args, 'overshoot'),
    bisectionSteps: optNumber(args, 'bisection-steps'),
    lambda: optNumber(args, 'lambda'),
    regenerate: optString(args, 'regenerate'),
    levels: optNumber(args, 'levels'),
    steepness: optNumber(args, 'steepness'),
    ...(bits !== undefined ? { bits: parseBitsList(bits) } : {}),
    ...(members !== undefined ? { members: members.split(',').map((s) => s.trim()).filter((s) => s !== '') } : {}),
    combine: optString(args, 'combine') as EnsembleCombine | undefined,
    seed: optNumber(args, 'seed'),
    n: optNumber(args, 'n'),
    batchSize: optNumber(args, 'batch-size'),
    learningRate: optNumber(args, 'lr'),
    evalN: optNumber(args, 'eval-n'),
    dataDir: optString(args, 'data-dir'),
    workers: optNumber(args, 'workers'),
    backend: backend ? parseBackendName(backend) : undefined,
    onStart: (info) => {
      io.stderr.write(`${method} ${info.label} on ${info.dataset} (${info.trainCount} images, ${info.epochs} epoch${info.epochs === 1 ? '' : 's'})\n`);
      progress.start(info.epochs, info.stepsPerEpoch);
    },
    onStep: progress.onStep,
    onEpoch: progress.onEpoch,
  });
  for (const m of result.models) io.stdout.write(line(m) + '\n');
  const json = optString(args, 'json');
  if (json) await writeFile(json, JSON.stringify(result, null, 2) + '\n');
  return EXIT_OK;
}
