/**
 * `reproduce duncan2020 --budget smoke` end to end on the authors' two networks and real CIFAR-10 test images:
 * both networks are imported, every search writes one record, the table holds a relative-robustness row per
 * configuration and the three claim rows, and a second run resumes (nothing re-run) to the same table. A record
 * cut off mid-line is dropped and only that search runs again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DUNCAN_SETTINGS } from '../../src/reproduce/duncan2020-settings.js';
import { reproducePaper } from '../../src/workflows/reproduce.js';

test('duncan2020 smoke: imports, searches, writes the paper-vs-ours table, resumes to the same table', async () => {
  const out = await mkdtemp(join(tmpdir(), 'qrobust-duncan-'));
  try {
    const first = await reproducePaper({ paper: 'duncan2020', budget: 'smoke', out });
    assert.ok(first.table, 'a table');
    assert.ok(first.run.tasks > 0 && first.run.ran === first.run.tasks);
    const [[manip, radius]] = DUNCAN_SETTINGS.smoke.pairs as [[number, number]];
    assert.deepEqual(first.table.rows.map((r) => r.id), [`rr-m${manip}-r${radius}`, 'rr-range', 'transfer-min', 'transfer-falls']);
    const rr = first.table.rows[0]!;
    assert.ok(rr.ours && rr.ours.lo <= rr.ours.value && rr.ours.value <= rr.ours.hi && rr.ours.value >= 0 && rr.ours.value <= 100);
    const lines = (await readFile(join(out, 'results.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, first.run.tasks);
    const rec = JSON.parse(lines[0]!) as { kind: string; seed: number; inputs: Record<string, string>; result: { explored: number; quantizedCorrect: number } };
    assert.equal(rec.kind, 'search');
    assert.match(rec.inputs['qnn']!, /^[0-9a-f]{64}$/);
    assert.ok(rec.result.quantizedCorrect <= rec.result.explored);
    const md = await readFile(join(out, 'paper-vs-ours.md'), 'utf8');
    assert.match(md, /\| transfer-min \| .* \| 52\.05 \|/);
    const second = await reproducePaper({ paper: 'duncan2020', budget: 'smoke', out });
    assert.equal(second.run.ran, 0, 'the second run resumes');
    assert.equal(await readFile(join(out, 'paper-vs-ours.md'), 'utf8'), md);
    // A torn last record: dropped, and that one search runs again to the same table.
    const file = join(out, 'results.jsonl');
    await truncate(file, (await stat(file)).size - 20);
    const third = await reproducePaper({ paper: 'duncan2020', budget: 'smoke', out });
    assert.equal(third.run.ran, 1);
    assert.equal(await readFile(join(out, 'paper-vs-ours.md'), 'utf8'), md);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
