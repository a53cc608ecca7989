import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, formatHelp, type OptionSpec, type PositionalSpec } from '../../src/cli/args.js';
import { QrobustError } from '../../src/core/errors.js';

const specs: OptionSpec[] = [
  { name: 'epochs', type: 'int', description: 'epochs', default: 5 },
  { name: 'lr', type: 'number', description: 'learning rate' },
  { name: 'out', type: 'string', description: 'output' },
  { name: 'split', type: 'string', description: 'split', choices: ['test', 'train'] },
  { name: 'dry', type: 'boolean', description: 'dry run' },
  { name: 'eps', type: 'string', list: true, description: 'radii' },
  { name: 'early-stop', type: 'boolean', negatable: true, description: 'keep going' },
  { name: 'n', type: 'int', description: 'count', short: 'N' },
];
const pos: PositionalSpec[] = [{ name: 'DIR', description: 'model directory', required: true }];

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof QrobustError && pattern.test(e.message));
}

test('parses typed options, both --name value and --name=value forms, and defaults', () => {
  const a = parseArgs(['m', '--lr', '0.01', '--out=x/y', '--dry'], specs, pos, 'cmd');
  assert.deepEqual(a.positionals, ['m']);
  assert.equal(a.options['lr'], 0.01);
  assert.equal(a.options['out'], 'x/y');
  assert.equal(a.options['dry'], true);
  assert.equal(a.options['epochs'], 5);
  assert.equal(a.options['split'], undefined);
});

test('rejects unknown options, bad numbers, bad choices, repeats and missing values with the option named', () => {
  usageError(() => parseArgs(['m', '--nope', '1'], specs, pos, 'cmd'), /unknown option --nope/);
  usageError(() => parseArgs(['m', '--epochs', '2.5'], specs, pos, 'cmd'), /--epochs: expected an integer, got '2.5'/);
  usageError(() => parseArgs(['m', '--lr', 'abc'], specs, pos, 'cmd'), /--lr: expected a number/);
  usageError(() => parseArgs(['m', '--split', 'val'], specs, pos, 'cmd'), /--split: expected one of test, train, got 'val'/);
  usageError(() => parseArgs(['m', '--lr', '1', '--lr', '2'], specs, pos, 'cmd'), /--lr given twice/);
  usageError(() => parseArgs(['m', '--out'], specs, pos, 'cmd'), /--out needs a value/);
});

test('short flags, grouped short switches, --no-NAME, repeated list options, negative values and --', () => {
  const a = parseArgs(['-hv', 'm', '-o', 'dir', '-N', '3', '--no-early-stop', '--eps', '0.1', '--eps=0.2,0.3', '--lr', '-0.5', '--', '--not-an-option'], specs, pos, 'cmd');
  assert.equal(a.options['help'], true);
  assert.equal(a.options['verbose'], true);
  assert.equal(a.options['out'], 'dir');
  assert.equal(a.options['n'], 3);
  assert.equal(a.options['early-stop'], false);
  assert.equal(a.options['eps'], '0.1,0.2,0.3');
  assert.equal(a.options['lr'], -0.5);
  assert.deepEqual(a.positionals, ['m', '--not-an-option']);
  assert.equal(parseArgs(['m', '--dry=false'], specs, pos, 'cmd').options['dry'], false);
  assert.equal(parseArgs(['m'], specs, pos, 'cmd').options['early-stop'], undefined);
  usageError(() => parseArgs(['m', '-x', '1'], specs, pos, 'cmd'), /unknown option -x/);
  usageError(() => parseArgs(['m', '-o', 'a', '--out', 'b'], specs, pos, 'cmd'), /--out given twice/);
  const h = formatHelp('cmd', 'does things', specs, pos);
  assert.match(h, /-o, --out STRING/);
  assert.match(h, /--no-early-stop\s+keep going/);
  assert.match(h, /--eps STRING\s+radii \(a list; the option may be repeated\)/);
});

test('checks positional arguments', () => {
  usageError(() => parseArgs([], specs, pos, 'cmd'), /missing DIR/);
  usageError(() => parseArgs(['a', 'b'], specs, pos, 'cmd'), /unexpected argument 'b'/);
  assert.doesNotThrow(() => parseArgs(['--help'], specs, pos, 'cmd'));
});

test('help lists every option with its default', () => {
  const h = formatHelp('cmd', 'does things', specs, pos);
  for (const s of specs) assert.match(h, new RegExp(`--${s.negatable ? "no-" : ""}${s.name}`));
  assert.match(h, /--epochs INT\s+epochs \(default 5\)/);
  assert.match(h, /--backend/);
});
