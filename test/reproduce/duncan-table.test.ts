/**
 * The duncan2020 table on made-up records: relative robustness per configuration, the one reported adversarial
 * image per input split T / F / O, the lowest transfer rate and the falling trend, and records of other settings
 * left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResultRecord } from '../../src/experiments/results-file.js';
import { duncanTableFor } from '../../src/reproduce/duncan2020.js';
import type { DuncanSearchResult } from '../../src/reproduce/duncan2020-run.js';
import { DUNCAN_SETTINGS, type DuncanSettings } from '../../src/reproduce/duncan2020-settings.js';

const settings: DuncanSettings = { ...DUNCAN_SETTINGS.smoke, pairs: [[256, 10], [4, 10]] };

function record(index: number, manip: number, result: Partial<DuncanSearchResult>, maxQueries = settings.search.maxQueries): ResultRecord {
  const full: DuncanSearchResult = {
    index, label: 3, quantizedClean: 3, ended: 'queries', explored: 5, checked: 5, quantizedCorrect: 5, best: null,
    allAdversarial: { n: 0, kept: 0, sameWrong: 0, otherWrong: 0 }, counts: { iterations: 1, levels: 1, nodes: 308, rollouts: 9, queries: 100 }, ...result,
  };
  return { id: `${manip}/${index}`, kind: 'search', config: { kind: 'search', paper: 'duncan2020', index, manip, radius: 10, search: { ...settings.search, maxQueries } }, result: full } as unknown as ResultRecord;
}

test('duncan2020 table: RR by rule R, transfer of the reported images, the lowest rate by rule N and the trend by rule T', () => {
  const records: ResultRecord[] = [];
  for (let i = 0; i < 40; i++) {
    // Inputs 0-19 are FP-robust at both steps (the quantized net misses one image of input 0 at MANIP 4); inputs
    // 20-39 have a reported adversarial image: transferred at MANIP 256, kept at MANIP 4.
    const robust = i < 20;
    records.push(record(i, 256, robust ? {} : { best: { fp: 5, quantized: 5, l1: 9 } }));
    records.push(record(i, 4, robust ? (i === 0 ? { quantizedCorrect: 4 } : {}) : { best: { fp: 5, quantized: 3, l1: 9 } }));
  }
  records.push(record(0, 256, { best: { fp: 1, quantized: 1, l1: 1 } }, 999)); // another budget: left out
  const t = duncanTableFor(records, settings, 'test');
  const row = (id: string) => t.rows.find((r) => r.id === id)!;
  assert.deepEqual(t.rows.map((r) => r.id), ['rr-m256-r10', 'rr-m4-r10', 'rr-range', 'transfer-min', 'transfer-falls']);
  assert.equal(row('rr-m256-r10').ours!.value, 100);
  assert.equal(row('rr-m4-r10').ours!.value, 95);
  assert.equal(row('rr-m256-r10').verdict, 'inconclusive', 'a 20-input interval is too wide for a 1-point range');
  assert.equal(row('transfer-min').ours!.value, 0);
  assert.match(row('transfer-min').what, /MANIP 4, R 10/);
  assert.equal(row('transfer-min').verdict, 'refuted');
  assert.equal(row('transfer-falls').verdict, 'reproduced');
  assert.match(row('transfer-falls').oursText, /R 10: MANIP 256 − 4 in \[100\.00, 100\.00\]/);
  assert.match(t.sections[0]!.body, /\| 4 \| 10 \| 40 \| 40 \| 20 \| 19 \| 95\.00 /);
});
