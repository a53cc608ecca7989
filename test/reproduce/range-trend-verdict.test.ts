/** Rules R (a paper's range over configurations) and T (a falling trend) on made-up estimates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rangeClaimVerdict, rangeVerdict, trendVerdict } from '../../src/reproduce/verdict.js';

test('rule R: meets the range ± t and narrow enough → reproduced; wholly outside ± 3t → refuted; else inconclusive', () => {
  const range = [98.6, 99.7] as const;
  assert.equal(rangeVerdict(range, { value: 99, lo: 97, hi: 100 }, 1, 10), 'reproduced');
  assert.equal(rangeVerdict(range, { value: 97, lo: 96, hi: 97.7 }, 1, 10), 'reproduced');
  assert.equal(rangeVerdict(range, { value: 100, lo: 77, hi: 100 }, 1, 10), 'inconclusive', 'too wide to tell');
  assert.equal(rangeVerdict(range, { value: 96, lo: 95, hi: 97 }, 1, 10), 'inconclusive');
  assert.equal(rangeVerdict(range, { value: 90, lo: 88, hi: 92 }, 1, 10), 'refuted');
  assert.equal(rangeVerdict(range, { value: 50, lo: 20, hi: 80 }, 1, 10), 'refuted', 'wide but wholly outside');
  assert.equal(rangeClaimVerdict(['reproduced', 'reproduced']), 'reproduced');
  assert.equal(rangeClaimVerdict(['reproduced', 'inconclusive']), 'inconclusive');
  assert.equal(rangeClaimVerdict(['reproduced', 'refuted']), 'refuted');
  assert.equal(rangeClaimVerdict([]), 'inconclusive');
});

test('rule T: some group significantly falling and none rising → reproduced, the reverse → refuted', () => {
  assert.equal(trendVerdict([{ lo: 5, hi: 20 }, { lo: -3, hi: 8 }]), 'reproduced');
  assert.equal(trendVerdict([{ lo: -20, hi: -5 }]), 'refuted');
  assert.equal(trendVerdict([{ lo: 5, hi: 20 }, { lo: -20, hi: -5 }]), 'inconclusive');
  assert.equal(trendVerdict([{ lo: -1, hi: 1 }]), 'inconclusive');
  assert.equal(trendVerdict([]), 'inconclusive');
});
