/**
 * Command dispatch. `runCli(argv, io)` is pure apart from the IO streams it is given and returns the exit code;
 * `bin.ts` is the only file that touches `process`. User errors (QrobustError) print one line and exit 2;
 * `--verbose` adds the stack trace. Each command module holds only its declared arguments; what it does is
 * imported when it runs (see `CommandDef.action`), so help is printed without loading solvers or tfjs.
 */
import { formatHelp, parseArgs } from './args.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIO, type CommandDef } from './command.js';
import { isQrobustError } from '../core/errors.js';
import { trainCommand } from './commands/train.js';
import { evalCommand } from './commands/eval.js';
import { datasetsCommand } from './commands/datasets.js';
import { quantizeCommand } from './commands/quantize.js';
import { attackCommand } from './commands/attack.js';
import { exportCommand } from './commands/export.js';
import { runCommand } from './commands/run.js';
import { reproduceCommand } from './commands/reproduce.js';
import { mergeCommand } from './commands/merge.js';
import { reportCommand } from './commands/report.js';
import { verifyCommand } from './commands/verify.js';
import { relativeRobustnessCommand } from './commands/relative-robustness.js';
import { importCommand } from './commands/import.js';
import { defendCommand } from './commands/defend.js';
import { workerCommand } from './commands/worker.js';

export const COMMANDS: readonly CommandDef[] = [trainCommand, importCommand, evalCommand, quantizeCommand, defendCommand, attackCommand, runCommand, workerCommand, reproduceCommand, mergeCommand, reportCommand, exportCommand, verifyCommand, relativeRobustnessCommand, datasetsCommand];

function mainHelp(): string {
  const lines = [
    'qrobust: how much adversarial robustness a neural network loses or gains when it is quantized.',
    '',
    'Usage: qrobust <command> [arguments] [options]    (qrobust --version: the version)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    '',
    "Run 'qrobust <command> --help' for a command's options.",
  ];
  return lines.join('\n');
}

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const verbose = argv.includes('--verbose');
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(mainHelp() + '\n');
    return name ? EXIT_OK : EXIT_USAGE;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    const { qrobustVersion } = await import('../core/versions.js');
    io.stdout.write(`${qrobustVersion()}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`qrobust: unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})\n`);
    return EXIT_USAGE;
  }
  try {
    const args = parseArgs(rest, command.options, command.positionals, command.name);
    if (args.options['help']) {
      io.stdout.write(formatHelp(command.name, command.summary, command.options, command.positionals) + '\n');
      return EXIT_OK;
    }
    const { run } = await command.action();
    return await run(args, io);
  } catch (e) {
    if (isQrobustError(e)) {
      io.stderr.write(`qrobust ${command.name}: ${e.message}\n`);
      if (verbose && e.stack) io.stderr.write(e.stack + '\n');
      return EXIT_USAGE;
    }
    const err = e as Error;
    io.stderr.write(`qrobust ${command.name}: internal error: ${err?.message ?? String(e)}\n`);
    if (verbose && err?.stack) io.stderr.write(err.stack + '\n');
    else io.stderr.write('(run again with --verbose for the stack trace)\n');
    return EXIT_FAILURE;
  }
}
