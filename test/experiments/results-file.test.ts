import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appendRecord, readResults, RECORD_FORMAT, type ResultRecord } from '../../src/experiments/results-file.js';
import { tempDir } from './fixtures.js';

function record(id: string): ResultRecord {
  return {
    format: RECORD_FORMAT,
    version: 1,
    id,
    kind: 'data',
    label: `data ${id}`,
    config: { kind: 'data', data: { dataset: 'mnist', split: 'test', n: 1, seed: 0 }, examples: 0 },
    seed: 0,
    inputs: {},
    versions: {},
    result: { value: id },
    run: { seconds: 0, finishedAt: '2026-01-01T00:00:00.000Z', shard: null },
  };
}

test('a torn last line is ignored, cut off with repair, and the next append starts on a fresh line', async () => {
  const t = await tempDir('results');
  try {
    const file = join(t.dir, 'results.jsonl');
    assert.deepEqual((await readResults(file)).records, []);
    await appendRecord(file, record('a'));
    await appendRecord(file, record('b'));
    await appendFile(file, JSON.stringify(record('c')).slice(0, 40));
    const read = await readResults(file);
    assert.deepEqual(read.records.map((r) => r.id), ['a', 'b']);
    assert.equal(read.tornBytes, 40);
    assert.equal((await readResults(file, { repair: true })).tornBytes, 40);
    await appendRecord(file, record('d'));
    const after = await readResults(file);
    assert.deepEqual(after.records.map((r) => r.id), ['a', 'b', 'd']);
    assert.equal(after.tornBytes, 0);
    assert.ok((await readFile(file, 'utf8')).endsWith('\n'));
  } finally {
    await t.cleanup();
  }
});

test('a bad line before the last one is an error naming the file and the line', async () => {
  const t = await tempDir('results');
  try {
    const file = join(t.dir, 'results.jsonl');
    await writeFile(file, `${JSON.stringify(record('a'))}\n{"oops\n${JSON.stringify(record('b'))}\n`);
    await assert.rejects(readResults(file), /results\.jsonl:2: not valid JSON/);
    await writeFile(file, `${JSON.stringify({ id: 'x' })}\n`);
    await assert.rejects(readResults(file), /results\.jsonl:1: not a qrobust result record/);
  } finally {
    await t.cleanup();
  }
});

test('a directory another live run holds is refused; a dead run\'s lock is taken over', async () => {
  const { runExperiment } = await import('../../src/experiments/runner.js');
  const { tinyConfig, writeConfig } = await import('./fixtures.js');
  const t = await tempDir('lock');
  try {
    const config = await writeConfig(t.dir, { ...tinyConfig(), attacks: [], transfer: [], compare: null, diagnostics: null, quantize: [] });
    const out = join(t.dir, 'out');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(out);
    await writeFile(join(out, '.lock'), `${process.ppid}\n`);
    await assert.rejects(runExperiment({ config, out, shard: { index: 2, count: 2 } }), new RegExp(`another qrobust run \\(pid ${process.ppid}\\) is writing to this directory`));
    await writeFile(join(out, '.lock'), '2147483646\n');
    // Tasks: data, train, eval; shard 1 of 3 is the data task alone, so nothing is trained.
    const s = await runExperiment({ config, out, shard: { index: 1, count: 3 } });
    assert.equal(s.inShard, 1);
    await assert.rejects(readFile(join(out, '.lock')), /ENOENT/);
  } finally {
    await t.cleanup();
  }
});
