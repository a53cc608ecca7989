/**
 * `qrobust --help` and `qrobust <command> --help` load no solver, no tfjs, no ONNX runtime and no queue client: each is run in a
 * child process with a preload that records every module it loads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { COMMANDS } from '../../src/cli/main.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const RECORDER = fileURLToPath(new URL('../fixtures/import-log.js', import.meta.url));
const HEAVY = /\/node_modules\/(highs|z3-solver|@tensorflow\/[^/]+|onnxruntime-node|protobufjs|bullmq|ioredis)\//;

/** The module URLs a `node` run with these arguments loaded, and its exit status. */
function loadedBy(args: readonly string[]): { status: number | null; urls: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'qrobust-imports-'));
  const log = join(dir, 'imports.txt');
  try {
    const p = spawnSync(process.execPath, ['--import', pathToFileURL(RECORDER).href, ...args], {
      encoding: 'utf8',
      env: { ...process.env, QROBUST_IMPORT_LOG: log },
    });
    return { status: p.status, urls: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function heavyPackages(urls: readonly string[]): string[] {
  return [...new Set(urls.map((u) => HEAVY.exec(u)?.[1]).filter((m): m is string => m !== undefined))];
}

test('the recorder sees a solver package that a module imports', () => {
  const r = loadedBy(['--input-type=module', '-e', "import 'highs';"]);
  assert.equal(r.status, 0);
  assert.deepEqual(heavyPackages(r.urls), ['highs']);
});

test('qrobust --help loads no solver, tfjs, onnxruntime or queue client', () => {
  const r = loadedBy([BIN, '--help']);
  assert.equal(r.status, 0);
  assert.ok(r.urls.includes(pathToFileURL(BIN).href), 'the recorder saw the binary itself');
  assert.deepEqual(heavyPackages(r.urls), []);
});

for (const command of COMMANDS) {
  test(`qrobust ${command.name} --help loads no solver, tfjs, onnxruntime or queue client`, () => {
    const r = loadedBy([BIN, command.name, '--help']);
    assert.equal(r.status, 0);
    assert.ok(r.urls.some((u) => u.endsWith(`/cli/commands/${command.name}.js`)), `the recorder saw the ${command.name} command module`);
    assert.deepEqual(heavyPackages(r.urls), []);
    assert.ok(!r.urls.some((u) => u.includes('/cli/actions/')), 'no action module is loaded for help');
  });
}

test('every command names an action module that runs it', async () => {
  for (const command of COMMANDS) {
    const action = await command.action();
    assert.equal(typeof action.run, 'function', command.name);
  }
});
