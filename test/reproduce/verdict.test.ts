/**
 * The reproduction verdict rules on made-up rows, the intervals against known values, the fitted model on
 * synthetic curves, and the table writers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLogistic } from '../../src/reproduce/curve-fit.js';
import { bootstrapIntervals, wilsonInterval } from '../../src/reproduce/intervals.js';
import { paperTableCsv, paperTableMarkdown, type PaperTable } from '../../src/reproduce/paper-table.js';
import { crossingVerdict, numericVerdict } from '../../src/reproduce/verdict.js';

test('rule N: within the interval ± t reproduced, beyond ± 3t refuted, inconclusive between', () => {
  const ours = { value: 95, lo: 94, hi: 96 };
  assert.equal(numericVerdict(95.5, ours, 1), 'reproduced');
  assert.equal(numericVerdict(97, ours, 1), 'reproduced'); // on the widened edge
  assert.equal(numericVerdict(92.9, ours, 1), 'inconclusive');
  assert.equal(numericVerdict(98.5, ours, 1), 'inconclusive');
  assert.equal(numericVerdict(99.01, ours, 1), 'refuted');
  assert.equal(numericVerdict(90.9, ours, 1), 'refuted');
});

test('rule C: a significant sign change reproduces, resolved curves that never cross refute, else inconclusive', () => {
  const above = { lo: 0.01, hi: 0.05 };
  const below = { lo: -0.05, hi: -0.01 };
  const unsure = { lo: -0.02, hi: 0.02 };
  assert.deepEqual(crossingVerdict([{ label: 'a', intervals: [unsure, unsure] }, { label: 'b', intervals: [below, unsure, above] }]), { verdict: 'reproduced', crossing: ['b'] });
  assert.equal(crossingVerdict([{ label: 'a', intervals: [above, above, unsure] }, { label: 'b', intervals: [below, below, below] }]).verdict, 'refuted');
  assert.equal(crossingVerdict([{ label: 'a', intervals: [above, unsure, unsure] }]).verdict, 'inconclusive');
  assert.equal(crossingVerdict([]).verdict, 'inconclusive');
});

test('Wilson interval: known values, and it stays inside [0, 1]', () => {
  const [lo, hi] = wilsonInterval(50, 100);
  assert.ok(Math.abs(lo - 0.4038) < 1e-3 && Math.abs(hi - 0.5962) < 1e-3, `${lo} ${hi}`);
  const [l0, h0] = wilsonInterval(0, 20);
  assert.equal(l0, 0);
  assert.ok(Math.abs(h0 - 0.1611) < 1e-3, `${h0}`);
  assert.deepEqual(wilsonInterval(0, 0), [0, 1]);
});

test('bootstrap: the interval of a mean is about ±1.96 standard errors, paired statistics share resamples, seeded', () => {
  const n = 400;
  const v = Uint8Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0));
  const mean = (idx: Int32Array): number => idx.reduce((s, i) => s + v[i]!, 0) / idx.length;
  const [m, same, never] = bootstrapIntervals(n, [mean, (idx) => mean(idx) - mean(idx), () => NaN], { resamples: 2000, seed: 3 });
  const se = Math.sqrt(0.25 / n);
  assert.ok(Math.abs(m!.lo - (0.5 - 1.96 * se)) < 0.01 && Math.abs(m!.hi - (0.5 + 1.96 * se)) < 0.01, `${m!.lo} ${m!.hi}`);
  assert.deepEqual([same!.lo, same!.hi], [0, 0]);
  assert.equal(never!.defined, 0);
  assert.deepEqual(bootstrapIntervals(n, [mean], { resamples: 50, seed: 9 }), bootstrapIntervals(n, [mean], { resamples: 50, seed: 9 }));
});

test('the logistic model recovers the parameters of synthetic curves, with and without a floor', () => {
  const eps = Array.from({ length: 13 }, (_, k) => k * 0.025);
  for (const floor of [0, 0.2]) {
    const points = eps.map((e) => ({ eps: e, acc: floor + (0.97 - floor) / (1 + Math.exp((e - 0.08) / 0.02)) }));
    points[0] = { eps: 0, acc: 0.97 };
    const fit = fitLogistic(points);
    assert.equal(fit.clean, 0.97);
    assert.ok(Math.abs(fit.eps0 - 0.08) < 0.003 && Math.abs(fit.width - 0.02) < 0.002, `floor ${floor}: ε₀ ${fit.eps0}, w ${fit.width}`);
    assert.ok(Math.abs(fit.floor - floor) < 0.01, `floor ${floor}: fitted ${fit.floor}`);
    assert.ok(fit.rms < 0.02, `rms ${fit.rms}`);
  }
});

test('the table writers: Markdown rows with intervals, CSV with quoting', () => {
  const t: PaperTable = {
    paper: 'p', title: 'P (2000)', budget: 'smoke',
    rows: [
      { id: 'a', what: 'accuracy, "x", y', paper: 97.5, ours: { value: 96, lo: 95.25, hi: 96.75 }, oursText: '%', verdict: 'inconclusive', rule: 'N' },
      { id: 'b', what: 'a | claim', paper: 'claimed', ours: null, oursText: 'seen', verdict: 'reproduced', rule: 'C' },
    ],
    sections: [{ heading: 'More', body: 'text' }],
  };
  const md = paperTableMarkdown(t);
  assert.match(md, /\| a \| accuracy, "x", y \| 97\.50 \| 96 \[95\.25, 96\.75\] \| inconclusive \| N \|/);
  assert.match(md, /\| b \| a \\\| claim \| claimed \| seen \| reproduced \| C \|/);
  assert.match(md, /## More\n\ntext\n$/);
  const csv = paperTableCsv(t).split('\n');
  assert.equal(csv[1], 'p,a,"accuracy, ""x"", y",97.5,96,95.25,96.75,%,inconclusive,N');
});
