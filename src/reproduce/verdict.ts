/**
 * The rules that turn a paper's number or claim and our measurement into a verdict. They are fixed here, and
 * in docs/reproduce.md, before anything is run; a table row names the rule it used.
 *
 * - Rule N (a number): the paper's value p against our estimate with its 95% interval [lo, hi] and a tolerance
 *   t for differences of setup that do not matter (1 point for an accuracy): `reproduced` when p lies within
 *   [lo − t, hi + t], `refuted` when it lies outside [lo − 3t, hi + 3t], `inconclusive` in between.
 * - Rule C (curves cross: "quantization can improve or degrade robustness depending on attack strength"): for
 *   each compared pair of accuracy-vs-ε curves, the 95% interval of their difference at each ε. `reproduced`
 *   when some pair is significantly above at one ε and significantly below at another; `refuted` when no pair
 *   is, and every pair is significantly on one side at a majority of the grid (the curves are resolved and do
 *   not cross); `inconclusive` otherwise.
 * - Rule R (a range: the paper gives only the span [a, b] of a number over its configurations, e.g. "98.6-99.7%"):
 *   each of our configurations' estimates with its 95% interval [lo, hi] and a tolerance t: `refuted` when
 *   [lo, hi] lies wholly outside [a − 3t, b + 3t]; `reproduced` when [lo, hi] meets [a − t, b + t] and is at most
 *   `maxWidth` wide (a wider interval cannot tell; 10 points for a percentage); `inconclusive` otherwise. The
 *   claim as a whole (the paper's range over all configurations): `reproduced` when every configuration is,
 *   `refuted` when any is, `inconclusive` otherwise.
 * - Rule T (a trend: "transfer falls as the perturbation gets subtler"): per group (one L1 radius), the 95%
 *   interval of (rate at the coarsest step − rate at the finest step); `reproduced` when some group's interval
 *   lies above 0 and none lies below, `refuted` when some lies below and none above, `inconclusive` otherwise
 *   (no group, or groups that disagree or do not resolve).
 */
export type Verdict = 'reproduced' | 'refuted' | 'inconclusive';

export interface Estimate {
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
}

export const RULE_N = 'N';
export const RULE_C = 'C';
export const RULE_R = 'R';
export const RULE_T = 'T';

export function numericVerdict(paper: number, ours: Estimate, tolerance: number): Verdict {
  if (paper >= ours.lo - tolerance && paper <= ours.hi + tolerance) return 'reproduced';
  if (paper < ours.lo - 3 * tolerance || paper > ours.hi + 3 * tolerance) return 'refuted';
  return 'inconclusive';
}

/** One compared pair: the interval of (curve A − curve B) at each ε of the grid. */
export interface CurveDifference {
  readonly label: string;
  readonly intervals: readonly { readonly lo: number; readonly hi: number }[];
}

export function crossingVerdict(pairs: readonly CurveDifference[]): { verdict: Verdict; crossing: readonly string[] } {
  const crossing = pairs.filter((p) => p.intervals.some((d) => d.lo > 0) && p.intervals.some((d) => d.hi < 0)).map((p) => p.label);
  if (crossing.length > 0) return { verdict: 'reproduced', crossing };
  const resolved = pairs.every((p) => {
    const above = p.intervals.filter((d) => d.lo > 0).length;
    const below = p.intervals.filter((d) => d.hi < 0).length;
    return Math.max(above, below) > p.intervals.length / 2;
  });
  return { verdict: pairs.length > 0 && resolved ? 'refuted' : 'inconclusive', crossing };
}

export function rangeVerdict(paper: readonly [number, number], ours: Estimate, tolerance: number, maxWidth: number): Verdict {
  const [a, b] = paper;
  if (ours.hi < a - 3 * tolerance || ours.lo > b + 3 * tolerance) return 'refuted';
  if (ours.hi >= a - tolerance && ours.lo <= b + tolerance && ours.hi - ours.lo <= maxWidth) return 'reproduced';
  return 'inconclusive';
}

/** Rule R over every configuration: reproduced when all are, refuted when any is. */
export function rangeClaimVerdict(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.some((v) => v === 'refuted')) return 'refuted';
  return verdicts.length > 0 && verdicts.every((v) => v === 'reproduced') ? 'reproduced' : 'inconclusive';
}

/** Rule T: per group the interval of (coarsest − finest). */
export function trendVerdict(differences: readonly { readonly lo: number; readonly hi: number }[]): Verdict {
  const above = differences.some((d) => d.lo > 0);
  const below = differences.some((d) => d.hi < 0);
  if (above && !below) return 'reproduced';
  if (below && !above) return 'refuted';
  return 'inconclusive';
}
