/**
 * Gorsline, Smith, Merkel (2021), "On the Adversarial Robustness of Quantized Neural Networks" (arXiv
 * 2105.00227): a 784-100-10 ReLU MLP on MNIST with its weights quantized to B = 1..10 bits during training,
 * attacked with FGSM over ε ∈ [0, 0.3]; clean accuracy per B (Fig. 3(c)) and the claim that quantization
 * improves or degrades robustness depending on the attack's strength (the accuracy curves cross).
 *
 * Our protocol (the paper publishes no code; see docs/reproduce.md for every difference): the zoo's `mlp-100`
 * trained in float (Adam, batch 32), then B-bit weight-only quantization-aware training from it (symmetric
 * per-tensor grids, every layer; B = 1 is binary, sign times the mean |w|); FGSM through the straight-through
 * gradient; curves on the experiment's seeded test slice, averaged over training seeds; intervals by bootstrap
 * over test images and seeds.
 */
import type { ResultRecord } from '../experiments/results-file.js';
import { fitLogistic } from './curve-fit.js';
import { correctnessCurves, meanAt, type CorrectnessCurve } from './curves.js';
import { bootstrapIntervals, type ResampledStatistic } from './intervals.js';
import type { PaperRow, PaperTable } from './paper-table.js';
import type { Budget } from './budget.js';
import { crossingVerdict, numericVerdict, RULE_C, RULE_N, type CurveDifference } from './verdict.js';

export const GORSLINE_BITS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
export const GORSLINE_EPS = [0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.275, 0.3] as const;

/** Fig. 3(c), clean test accuracy (%) against weight bits, as a third party read it from the PDF's vector data. */
export const GORSLINE_FIG3C: Readonly<Record<number, number>> = { 1: 94.85, 2: 96.41, 3: 97.59, 4: 97.76, 5: 97.67, 6: 97.81, 7: 97.83, 8: 97.61, 9: 97.81, 10: 97.73 };

/** Rule N's tolerance for an accuracy: one point. */
const ACCURACY_TOLERANCE = 1;

interface Settings {
  readonly seeds: readonly number[];
  readonly trainEpochs: number;
  readonly trainN: number | null;
  readonly qatEpochs: number;
  readonly qatN: number | null;
  readonly testN: number;
}

const SETTINGS: Readonly<Record<Budget, Settings>> = {
  smoke: { seeds: [0], trainEpochs: 2, trainN: 30000, qatEpochs: 1, qatN: 10000, testN: 1000 },
  full: { seeds: [0, 1, 2], trainEpochs: 10, trainN: null, qatEpochs: 2, qatN: null, testN: 10000 },
};

const fpName = (seed: number): string => `s${seed}`;
const qName = (seed: number, bits: number): string => `s${seed}-b${bits}`;

/** The experiment config (`qrobust run`'s format) of a budget. */
export function gorslineConfig(budget: Budget): Record<string, unknown> {
  const s = SETTINGS[budget];
  return {
    name: `gorsline2021-${budget}`,
    seed: 0,
    data: { n: s.testN, examples: 0 },
    models: s.seeds.map((seed) => ({
      name: fpName(seed),
      train: { dataset: 'mnist', arch: 'mlp-100', epochs: s.trainEpochs, seed, batchSize: 32, learningRate: 1e-3, ...(s.trainN ? { n: s.trainN } : {}) },
    })),
    quantize: GORSLINE_BITS.map((bits) => ({
      name: `b${bits}`,
      spec: { weights: bits === 1 ? { bits: 1, kind: 'binary', granularity: 'per-tensor' } : { bits, scheme: 'symmetric', granularity: 'per-tensor' }, firstLast: 'same' },
      qat: { epochs: s.qatEpochs, batchSize: 32, learningRate: 1e-3, ...(s.qatN ? { n: s.qatN } : {}) },
    })),
    attacks: [{ attack: 'fgsm', eps: [...GORSLINE_EPS], grad: ['ste'] }],
  };
}

/** Accuracy of a bit width (null: float) at eps index k, averaged over the resampled seeds and images. */
function accuracy(curves: ReadonlyMap<string, CorrectnessCurve>, seeds: readonly number[], bits: number | null, k: number, images: Int32Array | null, groups: Int32Array | null): number {
  const picks = groups ? Array.from(groups, (g) => seeds[g]!) : seeds;
  let sum = 0;
  for (const seed of picks) sum += meanAt(curves.get(bits === null ? fpName(seed) : qName(seed, bits))!.correct[k]!, images);
  return sum / picks.length;
}

/**
 * The ε at which (B − float) first changes sign, interpolated linearly between the two nonzero differences
 * around it (ties, such as both curves at 0, are skipped); NaN when it never does.
 */
function crossing(diffs: readonly number[], eps: readonly number[]): number {
  let last = -1;
  for (let k = 0; k < diffs.length; k++) {
    if (diffs[k] === 0) continue;
    if (last >= 0 && Math.sign(diffs[k]!) !== Math.sign(diffs[last]!)) {
      const a = diffs[last]!;
      const b = diffs[k]!;
      return eps[last]! + ((eps[k]! - eps[last]!) * a) / (a - b);
    }
    last = k;
  }
  return NaN;
}

const pct = (v: number): string => (100 * v).toFixed(2);

/** The table of a finished run's records. */
export function gorslineTable(records: readonly ResultRecord[], budget: Budget): PaperTable {
  const s = SETTINGS[budget];
  const curves = correctnessCurves(records, 'fgsm');
  const eps = curves.get(fpName(s.seeds[0]!))!.eps;
  const n = curves.get(fpName(s.seeds[0]!))!.correct[0]!.length;
  const widths: (number | null)[] = [null, ...GORSLINE_BITS];
  const acc = (bits: number | null, k: number, images: Int32Array | null, groups: Int32Array | null): number => accuracy(curves, s.seeds, bits, k, images, groups);

  // Statistics shared by one bootstrap: clean accuracy per width, (B − float) at every ε > 0, crossing points.
  const stats: ResampledStatistic[] = [];
  const cleanAt = new Map<number, number>();
  for (const b of GORSLINE_BITS) cleanAt.set(b, stats.push((im, g) => 100 * acc(b, 0, im, g)) - 1);
  const diffAt = new Map<number, number[]>();
  for (const b of GORSLINE_BITS) diffAt.set(b, eps.slice(1).map((_, j) => stats.push((im, g) => acc(b, j + 1, im, g) - acc(null, j + 1, im, g)) - 1));
  const crossAt = new Map<number, number>();
  for (const b of GORSLINE_BITS) crossAt.set(b, stats.push((im, g) => crossing(eps.map((_, k) => acc(b, k, im, g) - acc(null, k, im, g)), eps)) - 1);
  const intervals = bootstrapIntervals(n, stats, { resamples: 1000, seed: 2021, groups: s.seeds.length });

  const rows: PaperRow[] = GORSLINE_BITS.map((b) => {
    const value = 100 * acc(b, 0, null, null);
    const ci = intervals[cleanAt.get(b)!]!;
    const ours = { value, lo: ci.lo, hi: ci.hi };
    return {
      id: `fig3c-b${b}`, what: `clean accuracy, ${b}-bit weights (%)`, paper: GORSLINE_FIG3C[b]!, ours, oursText: '%',
      verdict: numericVerdict(GORSLINE_FIG3C[b]!, ours, ACCURACY_TOLERANCE), rule: RULE_N,
    };
  });
  const pairs: CurveDifference[] = GORSLINE_BITS.map((b) => ({ label: `${b}-bit vs float`, intervals: diffAt.get(b)!.map((i) => intervals[i]!) }));
  const cross = crossingVerdict(pairs);
  rows.push({
    id: 'claim-cross',
    what: 'quantization improves or degrades FGSM robustness depending on ε (curves cross)',
    paper: 'claimed (abstract)',
    ours: null,
    oursText: cross.crossing.length > 0 ? `significant crossing for ${cross.crossing.join(', ')}` : 'no pair significantly above at one ε and below at another',
    verdict: cross.verdict,
    rule: RULE_C,
  });

  const header = `| weights | ${eps.map((e) => `ε=${e}`).join(' | ')} |`;
  const curveRows = widths.map((b) => `| ${b === null ? 'float' : `${b}-bit`} | ${eps.map((_, k) => pct(acc(b, k, null, null))).join(' | ')} |`);
  const fits = widths.map((b) => {
    const f = fitLogistic(eps.map((e, k) => ({ eps: e, acc: acc(b, k, null, null) })));
    return `| ${b === null ? 'float' : `${b}-bit`} | ${pct(f.clean)} | ${f.eps0.toFixed(4)} | ${f.width.toFixed(4)} | ${pct(f.floor)} | ${pct(f.rms)} |`;
  });
  const crossings = GORSLINE_BITS.map((b) => {
    const point = crossing(eps.map((_, k) => acc(b, k, null, null) - acc(null, k, null, null)), eps);
    const ci = intervals[crossAt.get(b)!]!;
    const share = ((100 * ci.defined) / 1000).toFixed(0);
    return `| ${b}-bit | ${Number.isNaN(point) ? 'none' : point.toFixed(4)} | ${ci.defined ? `[${ci.lo.toFixed(4)}, ${ci.hi.toFixed(4)}]` : '—'} | ${share}% |`;
  });
  return {
    paper: 'gorsline2021',
    title: 'Gorsline, Smith, Merkel (2021)',
    budget: `${budget}: ${s.seeds.length} seed(s); float training ${s.trainEpochs} epoch(s) on ${s.trainN ?? 'all'} images, QAT ${s.qatEpochs} epoch(s) on ${s.qatN ?? 'all'}; ${n} test images`,
    rows,
    sections: [
      { heading: 'FGSM accuracy (%) against ε, mean over seeds', body: [header, `|---|${eps.map(() => '---').join('|')}|`, ...curveRows].join('\n') },
      {
        heading: 'Where each B-bit curve crosses the float curve',
        body: ['First sign change of (B-bit − float) accuracy along ε, linearly interpolated; interval over the bootstrap resamples that cross at all (their share in the last column).', '', '| weights | crossing ε | 95% interval | resamples crossing |', '|---|---|---|---|', ...crossings].join('\n'),
      },
      {
        heading: 'Fitted model: acc(ε) = c + (a − c) / (1 + exp((ε − ε₀) / w))',
        body: ['a is the clean accuracy (%), c the accuracy the curve levels off at (%), ε₀ the middle of the fall, w its width; rms in accuracy points. The paper\'s own model form is not published.', '', '| weights | a | ε₀ | w | c | rms |', '|---|---|---|---|---|---|', ...fits].join('\n'),
      },
    ],
  };
}
