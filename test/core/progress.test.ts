import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCI } from '../../src/core/ci.js';
import { ProgressLine, progressEnabled, type ProgressStream } from '../../src/core/progress.js';

function terminal(columns?: number): ProgressStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY: true, ...(columns ? { columns } : {}), written, write: (s: string) => (written.push(s), true) };
}

test('CI is on for any value of CI but empty, 0 and false (any case)', () => {
  for (const v of ['true', '1', 'yes', 'github']) assert.equal(isCI({ CI: v }), true, v);
  for (const v of ['false', 'False', 'FALSE', '0', '']) assert.equal(isCI({ CI: v }), false, v);
  assert.equal(isCI({}), false);
});

test('progress draws on a terminal when CI=false, and not in CI or off a terminal', () => {
  assert.equal(progressEnabled(terminal(), { CI: 'false' }), true);
  assert.equal(progressEnabled(terminal(), {}), true);
  assert.equal(progressEnabled(terminal(), { CI: 'true' }), false);
  assert.equal(progressEnabled({ ...terminal(), isTTY: false }, {}), false);
});

test('a progress line redraws in place, throttled but for the final draw, cut to the terminal width', () => {
  const out = terminal(30);
  const line = new ProgressLine(out, {});
  line.draw('first');
  line.draw('skipped: under 100 ms after the first');
  line.draw('x'.repeat(50), true);
  line.end(true);
  assert.deepEqual(out.written, ['\rfirst\x1b[K', `\r${'x'.repeat(29)}\x1b[K`, '\n']);
  const silent = terminal();
  const off = new ProgressLine(silent, { CI: '1' });
  off.draw('nothing', true);
  off.end(false);
  assert.deepEqual(silent.written, []);
});
