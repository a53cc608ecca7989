/** `qrobust eval`: clean accuracy of a model directory. */
import { writeFile } from 'node:fs/promises';
import { type CliIO, optBool, optNumber, optString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { evaluateModelDir } from '../../workflows/evaluate-model.js';
import { parseBackendName } from '../../backend/backend.js';
import type { RequantRounding } from '../../quant/integer/fixed-point.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const backend = optString(args, 'backend');
  const r = await evaluateModelDir({
    dir: args.positionals[0]!,
    dataset: optString(args, 'dataset'),
    split: optString(args, 'split') as 'test' | 'train',
    n: optNumber(args, 'n'),
    seed: optNumber(args, 'seed'),
    integer: optBool(args, 'integer'),
    rounding: optString(args, 'rounding') as RequantRounding | undefined,
    dataDir: optString(args, 'data-dir'),
    backend: backend ? parseBackendName(backend) : undefined,
  });
  const json = optString(args, 'json');
  if (json) await writeFile(json, JSON.stringify(r, null, 2) + '\n');
  io.stdout.write(JSON.stringify({ accuracy: r.accuracy, n: r.n }) + '\n');
  io.stderr.write(
    `${r.dataset} ${r.split} (${r.variant}), ${r.path}: ${r.correct}/${r.n} correct, ${(r.accuracy * 100).toFixed(2)}%\n`,
  );
  return EXIT_OK;
}
