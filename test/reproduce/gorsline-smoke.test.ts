/**
 * `reproduce gorsline2021 --budget smoke` end to end on real MNIST: the experiment runs, the table holds a row
 * per number of Fig. 3(c) and the crossing claim, and a second run resumes (nothing re-run) and writes the same
 * table, so the tables are a function of the records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GORSLINE_BITS, GORSLINE_FIG3C } from '../../src/reproduce/gorsline2021.js';
import { writeReport } from '../../src/report/report.js';
import { reproducePaper } from '../../src/workflows/reproduce.js';

test('gorsline2021 smoke: runs, writes the paper-vs-ours table, resumes to the same table', async () => {
  const out = await mkdtemp(join(tmpdir(), 'qrobust-repro-'));
  try {
    const first = await reproducePaper({ paper: 'gorsline2021', budget: 'smoke', out });
    assert.ok(first.table, 'a table');
    assert.equal(first.run.ran, first.run.tasks);
    const rows = first.table.rows;
    assert.deepEqual(rows.map((r) => r.id), [...GORSLINE_BITS.map((b) => `fig3c-b${b}`), 'claim-cross']);
    for (const b of GORSLINE_BITS) {
      const r = rows.find((x) => x.id === `fig3c-b${b}`)!;
      assert.equal(r.paper, GORSLINE_FIG3C[b]);
      assert.ok(r.ours && r.ours.lo <= r.ours.value && r.ours.value <= r.ours.hi, `${r.id}: ${JSON.stringify(r.ours)}`);
      // A trained 784-100-10 MLP: far above chance even on the smoke budget.
      assert.ok(r.ours.value > 85, `${r.id}: ${r.ours.value}%`);
    }
    const md = await readFile(join(out, 'paper-vs-ours.md'), 'utf8');
    assert.match(md, /\| fig3c-b4 \| clean accuracy, 4-bit weights \(%\) \| 97\.76 \|/);
    const json = JSON.parse(await readFile(join(out, 'paper-vs-ours.json'), 'utf8')) as { versions: Record<string, string>; budget: string };
    assert.equal(json.budget, 'smoke');
    assert.ok(json.versions['qrobust']);
    // The HTML report of the directory opens with the table.
    const summary = await writeReport({ dir: out, out: join(out, 'report.html'), csvDir: join(out, 'csv') });
    assert.ok(summary.csvFiles.some((f) => f.endsWith('reproduction-gorsline2021.csv')));
    assert.match(await readFile(join(out, 'report.html'), 'utf8'), /Gorsline, Smith, Merkel \(2021\): the paper beside qrobust/);
    const second = await reproducePaper({ paper: 'gorsline2021', budget: 'smoke', out });
    assert.equal(second.run.ran, 0, 'the second run resumes');
    assert.equal(await readFile(join(out, 'paper-vs-ours.md'), 'utf8'), md);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('reproduce refuses an unknown paper, and one not written yet, in one line', async () => {
  await assert.rejects(reproducePaper({ paper: 'nobody2000', budget: 'smoke', out: join(tmpdir(), 'never') }), /^QrobustError: reproduce: unknown paper 'nobody2000': expected one of duncan2020, bernhard2019, song2021, gorsline2021$/);
  await assert.rejects(reproducePaper({ paper: 'song2021', budget: 'smoke', out: join(tmpdir(), 'never') }), /reproduce: song2021 is not implemented yet \(gorsline2021 and duncan2020 are\)/);
});
