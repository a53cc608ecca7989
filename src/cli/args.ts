/**
 * A small, typed argument parser: each command declares its positionals and options once; `parseArgs` is pure
 * (no process access) so tests call it directly. Errors are QrobustErrors naming the option and the problem.
 */
import yargsParser from 'yargs-parser';
import { QrobustError } from '../core/errors.js';

export type OptionType = 'string' | 'number' | 'int' | 'boolean';

export interface OptionSpec {
  readonly name: string;
  readonly type: OptionType;
  readonly description: string;
  readonly placeholder?: string;
  readonly default?: string | number | boolean;
  readonly choices?: readonly string[];
  /** A one-letter flag (`-o`); `help`, `verbose` and `out` have theirs in every command. */
  readonly short?: string;
  /** A switch that is on by default: help shows it as `--no-NAME`, which sets it to false. */
  readonly negatable?: boolean;
  /** A comma-separated list: the option may be repeated, and `--x a --x b` means `--x a,b`. */
  readonly list?: boolean;
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

/** Short flags that mean the same in every command that has the long option. */
const CONVENTIONAL_SHORT: Readonly<Record<string, string>> = { help: 'h', verbose: 'v', out: 'o' };

function shortOf(spec: OptionSpec): string | undefined {
  return spec.short ?? CONVENTIONAL_SHORT[spec.name];
}

/**
 * Parses `argv` (without the command name) against the command's specs plus the global options. Tokenizing is
 * yargs-parser's (`--name value`, `--name=value`, `-o value`, grouped short flags `-hv`, `--no-name` for
 * booleans, `--` ends the options); what the options mean (types, choices, defaults, repeats) is checked here
 * against the specs, with errors that name the option.
 */
export function parseArgs(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  positionals: readonly PositionalSpec[],
  command: string,
): ParsedArgs {
  const all = [...GLOBAL_OPTIONS, ...specs];
  const byName = new Map(all.map((s) => [s.name, s]));
  const aliases: Record<string, string> = {};
  for (const s of all) {
    const short = shortOf(s);
    if (short && !byName.has(short)) aliases[s.name] = short;
  }
  const parsed = yargsParser([...argv], {
    string: all.filter((s) => s.type !== 'boolean').map((s) => s.name),
    boolean: all.filter((s) => s.type === 'boolean').map((s) => s.name),
    alias: aliases,
    configuration: {
      'camel-case-expansion': false,
      'dot-notation': false,
      'duplicate-arguments-array': true,
      'flatten-duplicate-arrays': true,
      'greedy-arrays': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'boolean-negation': true,
      'strip-aliased': true,
      'populate--': true,
    },
  });
  const shortNames = new Map(Object.entries(aliases).map(([long, short]) => [short, long]));
  const options: Record<string, string | number | boolean | undefined> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === '_' || key === '--') continue;
    const spec = byName.get(key);
    if (!spec) {
      const flag = key.length === 1 && !shortNames.has(key) ? `-${key}` : `--${key}`;
      throw new QrobustError('invalid_option', `${command}: unknown option ${flag} (see qrobust ${command} --help)`);
    }
    const values = (Array.isArray(value) ? value : [value]) as (string | boolean)[];
    if (values.length > 1 && !spec.list) throw new QrobustError('invalid_option', `${command}: option --${key} given twice`);
    if (spec.type === 'boolean') {
      options[key] = values[0] as boolean;
      continue;
    }
    if (values.some((v) => v === '' || typeof v !== 'string')) {
      throw new QrobustError('invalid_option', `${command}: option --${key} needs a value (${spec.placeholder ?? spec.type})`);
    }
    options[key] = convert(spec, values.join(','));
  }
  for (const spec of all) if (!(spec.name in options) && spec.default !== undefined) options[spec.name] = spec.default;
  const pos = [...parsed._, ...((parsed['--'] as (string | number)[] | undefined) ?? [])].map(String);
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
    const short = shortOf(s);
    const long = s.type === 'boolean' ? `--${s.negatable ? 'no-' : ''}${s.name}` : `--${s.name} ${s.placeholder ?? s.type.toUpperCase()}`;
    const flag = short ? `-${short}, ${long}` : long;
    const def = s.default !== undefined ? ` (default ${s.default})` : '';
    const list = s.list ? ' (a list; the option may be repeated)' : '';
    lines.push(`  ${flag.padEnd(24)} ${s.description}${def}${list}`);
  }
  lines.push('', 'A switch is turned off with --no-NAME (e.g. --no-early-stop where the default is on).');
  return lines.join('\n');
}
