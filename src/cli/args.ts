/**
 * A small, typed argument parser: each command declares its positionals and options once; `parseArgs` is pure
 * (no process access) so tests call it directly. Errors are QrobustErrors naming the option and the problem.
 */
import { QrobustError } from '../core/errors.js';

export type OptionType = 'string' | 'number' | 'int' | 'boolean';

export interface OptionSpec {
  readonly name: string;
  readonly type: OptionType;
  readonly description: string;
  readonly placeholder?: string;
  readonly default?: string | number | boolean;
  readonly choices?: readonly string[];
}

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | number | boolean | undefined>>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'backend', type: 'string', description: 'TF.js backend', placeholder: 'wasm|cpu|node', choices: ['wasm', 'cpu', 'node'] },
  { name: 'verbose', type: 'boolean', description: 'print stack traces and extra detail' },
  { name: 'help', type: 'boolean', description: 'show help for the command' },
];

function convert(spec: OptionSpec, raw: string): string | number | boolean {
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new QrobustError('invalid_option', `--${spec.name}: expected one of ${spec.choices.join(', ')}, got '${raw}'`);
      }
      return raw;
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw new QrobustError('invalid_option', `--${spec.name}: expected a number, got '${raw}'`);
      return v;
    }
    case 'int': {
      const v = Number(raw);
      if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(v)) {
        throw new QrobustError('invalid_option', `--${spec.name}: expected an integer, got '${raw}'`);
      }
      return v;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new QrobustError('invalid_option', `--${spec.name}: expected true or false, got '${raw}'`);
  }
}

/** Parses `argv` (without the command name) against the command's specs plus the global options. */
export function parseArgs(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  positionals: readonly PositionalSpec[],
  command: string,
): ParsedArgs {
  const all = [...GLOBAL_OPTIONS, ...specs];
  const byName = new Map(all.map((s) => [s.name, s]));
  const options: Record<string, string | number | boolean | undefined> = {};
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      pos.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      pos.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = byName.get(name);
    if (!spec) throw new QrobustError('invalid_option', `${command}: unknown option --${name} (see qrobust ${command} --help)`);
    if (name in options) throw new QrobustError('invalid_option', `${command}: option --${name} given twice`);
    let raw: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (raw === undefined) {
      if (spec.type === 'boolean') {
        options[name] = true;
        continue;
      }
      raw = argv[++i];
      if (raw === undefined) throw new QrobustError('invalid_option', `${command}: option --${name} needs a value (${spec.placeholder ?? spec.type})`);
    }
    options[name] = convert(spec, raw);
  }
  for (const spec of all) if (!(spec.name in options) && spec.default !== undefined) options[spec.name] = spec.default;
  if (!options['help']) {
    const required = positionals.filter((p) => p.required).length;
    if (pos.length < required) {
      throw new QrobustError('invalid_argument', `${command}: missing ${positionals[pos.length]!.name} (${positionals[pos.length]!.description})`);
    }
    if (pos.length > positionals.length) {
      throw new QrobustError('invalid_argument', `${command}: unexpected argument '${pos[positionals.length]}'`);
    }
  }
  return { positionals: pos, options };
}

export function formatHelp(command: string, summary: string, specs: readonly OptionSpec[], positionals: readonly PositionalSpec[]): string {
  const usage = [`qrobust ${command}`, ...positionals.map((p) => (p.required ? p.name : `[${p.name}]`)), '[options]'].join(' ');
  const lines = [summary, '', `Usage: ${usage}`, ''];
  if (positionals.length) {
    lines.push('Arguments:');
    for (const p of positionals) lines.push(`  ${p.name.padEnd(24)} ${p.description}`);
    lines.push('');
  }
  lines.push('Options:');
  for (const s of [...specs, ...GLOBAL_OPTIONS]) {
    const flag = s.type === 'boolean' ? `--${s.name}` : `--${s.name} ${s.placeholder ?? s.type.toUpperCase()}`;
    const def = s.default !== undefined ? ` (default ${s.default})` : '';
    lines.push(`  ${flag.padEnd(24)} ${s.description}${def}`);
  }
  return lines.join('\n');
}
