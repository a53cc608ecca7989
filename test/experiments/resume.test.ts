/**
 * Resume after a kill: `qrobust run` is started as a separate process and killed (SIGKILL) as soon as its first
 * task is in results.jsonl; running again must not recompute anything finished, and the final records must equal
 * those of an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/backend.js';
import { RESULTS_FILE } from '../../src/experiments/results-file.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { comparable, recordsOf, tempDir, tinyConfig, writeConfig } from './fixtures.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

async function lineCount(file: string): Promise<number> {
  try {
    return (await readFile(file, 'utf8')).split('\n').length - 1;
  } catch {
    return 0;
  }
}

/** Starts `qrobust run` and kills it once results.jsonl holds a finished record; resolves with the exit signal. */
function runAndKillAfterFirstTask(config: string, out: string): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, BIN, 'run', config, '--out', out, '--backend', 'wasm'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setInterval(() => {
      void lineCount(join(out, RESULTS_FILE)).then((n) => {
        if (n >= 1) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      });
    }, 10);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearInterval(timer);
      resolve({ signal, stderr });
    });
  });
}

test('a run killed mid-way resumes without recomputing finished tasks and ends equal to an uninterrupted run', async () => {
  await initBackend('wasm');
  const t = await tempDir('resume');
  try {
    const config = await writeConfig(t.dir, tinyConfig());
    const killedDir = join(t.dir, 'killed');
    const killed = await runAndKillAfterFirstTask(config, killedDir);
    assert.equal(killed.signal, 'SIGKILL', `the run ended before it could be killed:\n${killed.stderr}`);
    const before = await recordsOf(killedDir);
    const beforeText = await readFile(join(killedDir, RESULTS_FILE), 'utf8');
    assert.ok(before.length >= 1);

    const resumed = await runExperiment({ config, out: killedDir });
    assert.equal(resumed.skipped, before.length, 'every finished task is skipped');
    assert.ok(resumed.ran > 0, 'the kill left tasks to run');
    assert.equal(resumed.skipped + resumed.ran, resumed.tasks);
    const after = await recordsOf(killedDir);
    const afterText = await readFile(join(killedDir, RESULTS_FILE), 'utf8');
    const complete = beforeText.slice(0, beforeText.lastIndexOf('\n') + 1);
    assert.ok(afterText.startsWith(complete), 'records written before the kill are kept byte for byte');
    assert.equal(new Set(after.map((r) => r.id)).size, after.length, 'no task is recorded twice');
    await assert.rejects(stat(join(killedDir, 'models', '.mlp.partial')), /ENOENT/);

    const again = await runExperiment({ config, out: killedDir });
    assert.equal(again.ran, 0);

    const cleanDir = join(t.dir, 'uninterrupted');
    const clean = await runExperiment({ config, out: cleanDir });
    assert.equal(clean.ran, clean.tasks);
    assert.deepEqual(comparable(after), comparable(await recordsOf(cleanDir)));
  } finally {
    await t.cleanup();
  }
});
