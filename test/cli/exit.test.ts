/**
 * Processes end. Node 20 can deadlock at exit when V8's concurrent optimizing compiler needs a garbage collection
 * while the main thread waits for that compile job in its final task drain (nodejs/node#54918): the process
 * then sleeps forever after its work is done. Here it ended most runs of the safe-LP-bound test file (a short
 * HiGHS session: 20 LPs, their row duals, 400 bound evaluations) without Node flags, and it made a CI run time
 * out. The `qrobust` binary and the test command therefore run Node with `--no-concurrent-recompilation`. This
 * test runs that file directly with the flags of the binary's own `#!` line, several times, and requires each
 * run to end promptly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const session = fileURLToPath(new URL('../verify/safe-bound.test.js', import.meta.url));

/** The Node options on the binary's `#!/usr/bin/env -S node ...` line. */
function binNodeFlags(): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node((?: --[a-z-]+)*)$/.exec(first);
  assert.ok(m, `bin.js starts with an env -S node line: ${first}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}

test('the binary runs Node without concurrent recompilation', () => {
  assert.ok(binNodeFlags().includes('--no-concurrent-recompilation'));
});

test('a HiGHS session under the binary\'s Node flags ends on its own, every time', () => {
  const flags = binNodeFlags();
  for (let run = 1; run <= 4; run++) {
    const started = Date.now();
    // A child of a test file would report to this runner's protocol; it must run as a plain program.
    const env = { ...process.env, NODE_TEST_CONTEXT: undefined };
    const p = spawnSync(process.execPath, [...flags, session], { encoding: 'utf8', timeout: 30_000, env });
    assert.equal(p.error, undefined, `run ${run} did not end within 30 s (${Date.now() - started} ms)`);
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stdout, /^# pass 1$/m);
  }
});
