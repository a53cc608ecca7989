import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadView, reportSections } from '../../src/report/report.js';
import type { Table } from '../../src/report/table.js';
import { runCliCaptured } from '../fixtures/cli.js';
import { tempDir } from '../experiments/fixtures.js';
import { writeSyntheticExperiment } from './fixtures.js';

async function tables(dir: string): Promise<Map<string, Table>> {
  const sections = reportSections(await loadView(dir));
  return new Map(sections.flatMap((s) => s.tables).map((t) => [t.id, t]));
}

function row(t: Table, match: Record<string, string | number | null>): Record<string, unknown> {
  const r = t.rows.find((x) => Object.entries(match).every(([k, v]) => x[k] === v));
  assert.ok(r, `no row ${JSON.stringify(match)} in ${t.id}: ${JSON.stringify(t.rows)}`);
  return r;
}

test('the report computes every metric from the records', async () => {
  const t = await tempDir('report');
  try {
    await writeSyntheticExperiment(t.dir);
    const tb = await tables(t.dir);
    const pgd = 'pgd, L∞, steps=10';
    assert.deepEqual(row(tb.get('transfer')!, { source: 'fp', target: 'fp-w4' }), {
      attack: pgd, eps: 0.1, source: 'fp', target: 'fp-w4', n: 6, kept: 2, same: 3, other: 1, rate: 0.5, untargeted: 4 / 6,
    });
    const rr = tb.get('relative-robustness')!;
    assert.equal(row(rr, { attack: pgd, eps: 0.1, threat: 'white-box STE' })['relative'], 1);
    assert.equal(row(rr, { attack: pgd, eps: 0.1, threat: 'white-box STE' })['reverse'], 2 / 3);
    assert.equal(row(rr, { attack: pgd, eps: 0.1, threat: 'white-box exact' })['reverse'], 2 / 7);

    const masking = tb.get('gradient-masking')!;
    const exact = row(masking, { model: 'fp-w4', gradient: 'white-box exact' });
    assert.equal(exact['flags'], 5);
    assert.deepEqual(
      ['single-step', 'black-box', 'transfer', 'large-eps', 'zero-gradients', 'monotonic'].map((k) => exact[k]),
      ['flag', 'not-measured', 'flag', 'flag', 'flag', 'flag'],
    );
    assert.match(String(exact['single-step:detail']), /FGSM 75\.0% < PGD 87\.5% at ε=0\.1/);
    assert.match(String(exact['transfer:detail']), /transfer from fp 37\.5% < FGSM 75\.0% at ε=0\.1/);
    assert.equal(row(masking, { model: 'fp-w4', gradient: 'white-box STE' })['flags'], 0);
    assert.equal(row(masking, { model: 'fp', gradient: 'white-box' })['flags'], 0);
    assert.equal(row(masking, { model: 'fp', gradient: 'white-box' })['transfer'], 'not-measured');

    const fgsm = tb.get('robust-accuracy-fgsm-linf')!;
    assert.deepEqual(row(fgsm, { model: 'fp' }), { model: 'fp', precision: 'FP32', threat: 'white-box', clean: 1, 'eps:0.1': 0.5, 'eps:0.2': 0.25 });
    const crossing = row(tb.get('crossings')!, { attack: 'fgsm, L∞', threat: 'white-box STE' });
    assert.equal(crossing['crossings'], 'between ε=0.1 and ε=0.2 (FP higher before)');
    assert.equal(crossing['smallest'], 'full precision');
    assert.equal(crossing['largest'], 'variant');
    assert.equal(row(tb.get('crossings')!, { attack: pgd, threat: 'white-box STE' })['crossings'], 'none');

    assert.equal(row(tb.get('quantization-loss')!, { variant: 'fp-w4' })['loss'], 0.125);
    const adv = row(tb.get('adversarial-loss')!, { attack: pgd, eps: 0.1, model: 'fp-w4', threat: 'white-box STE' });
    assert.equal(adv['quantizationLoss'], -0.125);
    assert.equal(adv['adversarialLoss'], 0.625);
    assert.equal(row(tb.get('adversarial-loss')!, { attack: pgd, eps: 0.1, model: 'fp' })['firstOrder'], 2);
    assert.equal(tb.get('value-shift')!.rows.length, 2);
    assert.equal(row(tb.get('models')!, { model: 'fp-w4' })['clean'], 7 / 8);
  } finally {
    await t.cleanup();
  }
});

test('qrobust report writes one self-contained page and every table as CSV', async () => {
  const t = await tempDir('report');
  try {
    await writeSyntheticExperiment(t.dir);
    const out = join(t.dir, 'report.html');
    const csv = join(t.dir, 'csv');
    const r = await runCliCaptured(['report', t.dir, '--out', out, '--csv', csv]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /report of 19\/20 tasks written to .*report\.html; \d+ CSV files/);
    const html = await readFile(out, 'utf8');
    assert.doesNotMatch(html, /<script|<link|<iframe|@import|url\(/i);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i);
    assert.match(html, /19 of 20 tasks finished/);
    for (const id of ['models', 'robust-accuracy', 'transfer', 'relative-robustness', 'gradient-masking', 'value-shift', 'losses', 'examples']) {
      assert.match(html, new RegExp(`<section id="${id}">`));
    }
    assert.equal((html.match(/<svg class="chart line-chart"/g) ?? []).length, 2);
    assert.equal((html.match(/<svg class="chart heatmap"/g) ?? []).length, 1);
    assert.equal((html.match(/<svg class="chart bar-chart"/g) ?? []).length, 1);
    // Two example rows per attack group, each with the clean image and three attacked models.
    assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 2 * 2 * 4);
    const files = (await readdir(csv)).sort();
    const ids = [...(await tables(t.dir)).keys()].map((id) => `${id}.csv`).sort();
    assert.deepEqual(files, ids);
    const transfer = await readFile(join(csv, 'transfer.csv'), 'utf8');
    assert.equal(transfer.split('\r\n')[1], '"pgd, L∞, steps=10",0.1,fp,fp-w4,6,2,3,1,0.5,0.6666666666666666');
    const bad = await runCliCaptured(['report', join(t.dir, 'nothing-here'), '--out', out]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /nothing-here: no results\.jsonl/);
  } finally {
    await t.cleanup();
  }
});
