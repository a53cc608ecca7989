/**
 * What a CLI command is: its declared arguments, cheap to load, and an action module imported only when the
 * command runs, so that `qrobust --help` and `qrobust <command> --help` load no solver and no tfjs.
 */
import { QrobustError } from '../core/errors.js';
import type { OptionSpec, ParsedArgs, PositionalSpec } from './args.js';

export interface CliIO {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /**
   * Calls `handler` on the first interrupt (SIGINT, SIGTERM) instead of ending the process; a second one ends
   * it as usual. Only commands that stop gracefully (`worker`) ask for it.
   */
  readonly onInterrupt?: (handler: () => void) => void;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CommandDef {
  readonly name: string;
  readonly summary: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: readonly OptionSpec[];
  /** Imports the module that carries out the command (`src/cli/actions/<name>.ts`). */
  action(): Promise<CommandAction>;
}

/** The implementation of a command: runs it and returns the exit code. */
export interface CommandAction {
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export function optString(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  return v === undefined ? undefined : String(v);
}

export function optNumber(args: ParsedArgs, name: string): number | undefined {
  const v = args.options[name];
  return typeof v === 'number' ? v : undefined;
}

export function optBool(args: ParsedArgs, name: string): boolean {
  return args.options[name] === true;
}

/** The value of a required string option; a clear usage error when it is missing. */
export function requireString(args: ParsedArgs, name: string, command: string): string {
  const v = optString(args, name);
  if (v === undefined || v === '') throw new QrobustError('invalid_argument', `${command}: --${name} is required`);
  return v;
}
