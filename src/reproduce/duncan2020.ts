/**
 * Duncan, Komendantskaya, Stewart & Lones (2020), "Relative Robustness of Quantized Neural Networks Against
 * Adversarial Attacks", IJCNN 2020: the authors' CIFAR-10 MLP (3072-256-256-10) and its TFLite dynamic-range
 * int8 version; a DLV search on the full-precision network around each correctly classified test image, for
 * MANIP ∈ {256, …, 4} (step MANIP/255) and L1 radius R ∈ {10, 20}; relative robustness (the quantized network
 * labels every explored image of an FP-robust input correctly; 98.6-99.7% in the abstract) and the transfer of
 * the FP adversarial images (falling to as low as 52.05% as the perturbation gets subtler).
 *
 * Our protocol (docs/reproduce.md lists every difference from the authors' code): `dlv-search.ts` with a query
 * budget in place of the authors' wall clock, the first N CIFAR-10 test images, both networks imported from the
 * authors' files and the quantized one run in its deployed semantics; one reported adversarial image per input
 * that is not FP-robust, as the authors' scripts count them. Intervals are Wilson's (relative robustness: one
 * Bernoulli per FP-robust input; transfer: one per reported image, one per input); the trend's difference is
 * bootstrapped over the inputs, paired across configurations.
 */
import type { ResultRecord } from '../experiments/results-file.js';
import { searchRobustness, type SearchOutcome } from '../metrics/search-robustness.js';
import type { Budget } from './budget.js';
import type { DuncanSearchConfig, DuncanSearchResult } from './duncan2020-run.js';
import { DUNCAN_RADII, DUNCAN_SETTINGS, type DuncanSettings } from './duncan2020-settings.js';
import { bootstrapIntervals, wilsonInterval } from './intervals.js';
import type { PaperRow, PaperTable } from './paper-table.js';
import { numericVerdict, rangeClaimVerdict, rangeVerdict, RULE_N, RULE_R, RULE_T, trendVerdict, type Estimate, type Verdict } from './verdict.js';

/** The abstract's range of relative robustness (%) over the configurations. */
export const DUNCAN_RR_RANGE = [98.6, 99.7] as const;
/** The abstract's lowest transfer rate (%). */
export const DUNCAN_MIN_TRANSFER = 52.05;

/** Rule R's tolerance and widest useful interval for relative robustness; rule N's tolerance for a transfer rate. */
const RR_TOLERANCE = 1;
const RR_MAX_WIDTH = 10;
const TRANSFER_TOLERANCE = 5;

interface Searched {
  readonly config: DuncanSearchConfig;
  readonly result: DuncanSearchResult;
}

const pct = (v: number | null): string => (v === null ? '—' : (100 * v).toFixed(2));
const key = (manip: number, radius: number): string => `${manip}/${radius}`;

/** The authors' counting: one reported adversarial image per input that is not FP-robust. */
function outcomeOf(r: DuncanSearchResult): SearchOutcome {
  return { label: r.label, explored: r.explored, quantizedCorrect: r.quantizedCorrect, adversarial: r.best ? [{ fp: r.best.fp, quantized: r.best.quantized }] : [] };
}

/** F / (T + F + O) over the reported adversarial images of a resample of inputs (NaN when there is none). */
function transferOf(rows: readonly (DuncanSearchResult | undefined)[], images: Int32Array | null): number {
  let n = 0;
  let same = 0;
  const pick = images ? Array.from(images, (i) => rows[i]) : rows;
  for (const r of pick) {
    if (!r?.best) continue;
    n++;
    if (r.best.quantized === r.best.fp) same++;
  }
  return n > 0 ? same / n : NaN;
}

/** The table of a finished run's records (only the searches of this budget count). */
export function duncanTable(records: readonly ResultRecord[], budget: Budget): PaperTable {
  return duncanTableFor(records, DUNCAN_SETTINGS[budget], budget);
}

/** The table for other settings than a budget's (`name` stands for the budget in its heading). */
export function duncanTableFor(records: readonly ResultRecord[], s: DuncanSettings, name: string): PaperTable {
  const budget = name;
  const byPair = new Map<string, Map<number, DuncanSearchResult>>();
  for (const rec of records as unknown as readonly Searched[]) {
    const c = rec.config;
    if (c.kind !== 'search' || c.paper !== 'duncan2020' || c.search['maxQueries'] !== s.search.maxQueries) continue;
    if (!s.pairs.some(([m, r]) => m === c.manip && r === c.radius)) continue;
    const k = key(c.manip, c.radius);
    if (!byPair.has(k)) byPair.set(k, new Map());
    byPair.get(k)!.set(c.index, rec.result);
  }
  // Inputs in one order for every pair, so the bootstrap's resamples are paired across configurations.
  const indices = [...new Set([...byPair.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const aligned = (m: number, r: number): (DuncanSearchResult | undefined)[] => indices.map((i) => byPair.get(key(m, r))?.get(i));
  const results = (m: number, r: number): DuncanSearchResult[] => aligned(m, r).filter((x): x is DuncanSearchResult => x !== undefined);

  const pairs = s.pairs.filter(([m, r]) => byPair.has(key(m, r)));
  const rows: PaperRow[] = [];
  const rrVerdicts: Verdict[] = [];
  const measured: string[] = [];
  const allRows: string[] = [];
  const transfer = new Map<string, Estimate | null>();
  for (const [m, r] of pairs) {
    const rs = results(m, r);
    const sr = searchRobustness(rs.map(outcomeOf));
    const [lo, hi] = wilsonInterval(sr.relative.bothRobust, sr.relative.fpRobust);
    const rr = sr.relative.relative;
    if (rr !== null) {
      const ours = { value: 100 * rr, lo: 100 * lo, hi: 100 * hi };
      const verdict = rangeVerdict(DUNCAN_RR_RANGE, ours, RR_TOLERANCE, RR_MAX_WIDTH);
      rrVerdicts.push(verdict);
      rows.push({ id: `rr-m${m}-r${r}`, what: `relative robustness (%), MANIP ${m}, R ${r} (${sr.relative.fpRobust} FP-robust inputs)`, paper: `${DUNCAN_RR_RANGE[0]}-${DUNCAN_RR_RANGE[1]} (range over configurations)`, ours, oursText: '%', verdict, rule: RULE_R });
    }
    // One reported image per input, inputs independent: Wilson's interval.
    const t = sr.transfer;
    const [tlo, thi] = wilsonInterval(t.sameWrong, t.n);
    transfer.set(key(m, r), t.transferRate === null ? null : { value: 100 * t.transferRate, lo: 100 * tlo, hi: 100 * thi });
    const qCleanOk = rs.filter((x) => x.quantizedClean === x.label).length;
    const meanExplored = rs.length ? rs.reduce((a, x) => a + x.explored, 0) / rs.length : 0;
    const queries = rs.reduce((a, x) => a + x.counts.queries, 0);
    const all = rs.reduce((a, x) => ({ n: a.n + x.allAdversarial.n, kept: a.kept + x.allAdversarial.kept, same: a.same + x.allAdversarial.sameWrong, other: a.other + x.allAdversarial.otherWrong }), { n: 0, kept: 0, same: 0, other: 0 });
    const ends = new Map<string, number>();
    for (const x of rs) ends.set(x.ended, (ends.get(x.ended) ?? 0) + 1);
    allRows.push(`| ${m} | ${r} | ${all.n} | ${all.kept} | ${all.same} | ${all.other} | ${all.n ? pct(all.same / all.n) : '—'} | ${[...ends].map(([e, c]) => `${e} ${c}`).join(', ')} |`);
    measured.push(
      `| ${m} | ${r} | ${rs.length} | ${qCleanOk} | ${sr.relative.fpRobust} | ${sr.relative.bothRobust} | ${pct(rr)} [${pct(lo)}, ${pct(hi)}] | ${t.n} | ${t.kept} | ${t.sameWrong} | ${t.otherWrong} | ${pct(t.transferRate)}${t.transferRate === null ? '' : ` [${pct(tlo)}, ${pct(thi)}]`} | ${meanExplored.toFixed(1)} | ${queries} |`,
    );
  }
  rows.push({
    id: 'rr-range',
    what: 'relative robustness lies in the paper\'s range at every configuration',
    paper: `${DUNCAN_RR_RANGE[0]}-${DUNCAN_RR_RANGE[1]}%`,
    ours: null,
    oursText: `${rrVerdicts.filter((v) => v === 'reproduced').length} of ${rrVerdicts.length} configurations reproduced, ${rrVerdicts.filter((v) => v === 'refuted').length} refuted`,
    verdict: rangeClaimVerdict(rrVerdicts),
    rule: RULE_R,
  });

  // The lowest transfer rate over the configurations against the paper's 52.05%.
  const lowest = pairs.map(([m, r]) => ({ m, r, e: transfer.get(key(m, r)) })).filter((x) => x.e && Number.isFinite(x.e.lo)).sort((a, b) => a.e!.value - b.e!.value)[0];
  rows.push(
    lowest
      ? { id: 'transfer-min', what: `lowest transfer rate F/(T+F+O) over the configurations (%): MANIP ${lowest.m}, R ${lowest.r}`, paper: DUNCAN_MIN_TRANSFER, ours: lowest.e!, oursText: '%', verdict: numericVerdict(DUNCAN_MIN_TRANSFER, lowest.e!, TRANSFER_TOLERANCE), rule: RULE_N }
      : { id: 'transfer-min', what: 'lowest transfer rate F/(T+F+O) over the configurations (%)', paper: DUNCAN_MIN_TRANSFER, ours: null, oursText: 'no FP adversarial image found', verdict: 'inconclusive', rule: RULE_N },
  );

  // Trend: per R, (rate at the coarsest MANIP − rate at the finest MANIP with adversarial images).
  const trends: { r: number; coarse: number; fine: number; lo: number; hi: number }[] = [];
  for (const r of DUNCAN_RADII) {
    const withData = pairs.filter(([, rr]) => rr === r).map(([m]) => m).filter((m) => transfer.get(key(m, r)) !== null).sort((a, b) => b - a);
    if (withData.length < 2) continue;
    const coarse = aligned(withData[0]!, r);
    const fine = aligned(withData[withData.length - 1]!, r);
    const [ci] = bootstrapIntervals(indices.length, [(im) => 100 * (transferOf(coarse, im) - transferOf(fine, im))], { resamples: 1000, seed: 2021 + r });
    trends.push({ r, coarse: withData[0]!, fine: withData[withData.length - 1]!, lo: ci!.lo, hi: ci!.hi });
  }
  rows.push({
    id: 'transfer-falls',
    what: 'transfer falls as the perturbation gets subtler (coarsest − finest MANIP, per R)',
    paper: 'claimed (abstract)',
    ours: null,
    oursText: trends.length ? trends.map((t) => `R ${t.r}: MANIP ${t.coarse} − ${t.fine} in [${t.lo.toFixed(2)}, ${t.hi.toFixed(2)}] points`).join('; ') : 'no radius with two MANIP values that found adversarial images',
    verdict: trendVerdict(trends.filter((t) => Number.isFinite(t.lo))),
    rule: RULE_T,
  });

  return {
    paper: 'duncan2020',
    title: 'Duncan, Komendantskaya, Stewart, Lones (2020)',
    budget: `${budget}: the first ${s.images} CIFAR-10 test images, ${indices.length} of them labelled correctly by the full-precision network and searched; a budget of ${s.search.maxQueries} FP queries per search (the authors: 30 s of wall clock); ${pairs.length} (MANIP, R) configuration(s)`,
    rows,
    sections: [
      {
        heading: 'Per configuration',
        body: [
          'Searched: inputs the FP network labels correctly; Q clean: of those, the quantized network too; A: FP-robust (no adversarial image found); robust: the quantized network labels all of S(x) correctly (of A); RR with its Wilson interval; n: inputs with a reported FP adversarial image (the farthest one found, as the authors report one per input), split T (the quantized network keeps the true label), F (it gives the FP adversarial label: transferred), O (other); transfer F/n with its Wilson interval; mean |S(x)|; images the FP network was asked about.',
          '',
          '| MANIP | R | searched | Q clean | A | robust | RR % | n | T | F | O | transfer % | mean S(x) | FP queries |',
          '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
          ...measured,
        ].join('\n'),
      },
      {
        heading: 'Every FP adversarial image found (not only the reported one)',
        body: [
          'All distinct adversarial images of all searches, split by the quantized label as above (not independent: many come from one input); and why the searches stopped.',
          '',
          '| MANIP | R | images | T | F | O | F % | searches ended by |',
          '|---|---|---|---|---|---|---|---|',
          ...allRows,
        ].join('\n'),
      },
      {
        heading: 'Complete verification (L∞ boxes)',
        body: 'Not run: the quantized network is TFLite dynamic-range ("hybrid"), whose input grid depends on each input\'s own range, and qrobust\'s verifiers cannot encode that yet (`qrobust verify` refuses such a directory); the full-precision network alone can be verified with `qrobust verify <out>/models/fp --eps E`.',
      },
    ],
  };
}
