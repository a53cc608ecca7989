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
 */
export type Verdict = 'reproduced' | 'refuted' | 'inconclusive';

export interface Estimate {
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
}

export const RULE_N = 'N';
export const RULE_C = 'C';

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
