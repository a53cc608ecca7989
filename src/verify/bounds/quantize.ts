/**
 * Sound bounds for the fake-quant step `q(x) = (clamp(roundHalfAway(x/s) + z, qmin, qmax) − z) · s` of the IR.
 *
 * q is monotone and piecewise constant: plateau k (integer code k ∈ [qmin, qmax]) takes the value (k − z)·s on
 * x/s ∈ [k − z − ½, k − z + ½], the lowest plateau extends to −∞ and the highest to +∞. Whether a point that
 * lies exactly on a rounding threshold goes up or down depends on how x/s was rounded, so plateau ends are
 * widened by a few float32 ulps and the plateaus overlap slightly: every bound below holds for the exact, the
 * float64 and the float32 evaluation of q (see `rounding.ts`).
 */
import { roundHalfAway } from '../../quant/rounding.js';
import type { QuantizeStep } from '../ir.js';
import { UNIT_ROUNDOFF, UNIT_ROUNDOFF_F32, roundDown, roundUp } from './rounding.js';

/** Scale and zero point of element i. */
export function quantGrid(step: QuantizeStep, i: number): { s: number; z: number } {
  const per = step.scale.length > 1;
  return { s: per ? step.scale[i]! : step.scale[0]!, z: per ? step.zeroPoint[i]! : step.zeroPoint[0]! };
}

function clampCode(step: QuantizeStep, k: number): number {
  return Math.min(step.qmax, Math.max(step.qmin, k));
}

/**
 * Relative nudge applied to x/s so that a value on a threshold is rounded both ways, whether the quotient was
 * computed in float64 or in float32 (the fake-quant model itself runs in float32).
 */
export const NUDGE = 8 * UNIT_ROUNDOFF_F32;

/** The smallest code q can take at any point ≥ x (x/s nudged down). */
export function codeAtLeast(step: QuantizeStep, i: number, x: number): number {
  const { s, z } = quantGrid(step, i);
  const v = x / s;
  return clampCode(step, roundHalfAway(v - Math.abs(v) * NUDGE - Number.MIN_VALUE) + z);
}

/** The largest code q can take at any point ≤ x (x/s nudged up). */
export function codeAtMost(step: QuantizeStep, i: number, x: number): number {
  const { s, z } = quantGrid(step, i);
  const v = x / s;
  return clampCode(step, roundHalfAway(v + Math.abs(v) * NUDGE + Number.MIN_VALUE) + z);
}

/** The value of code k, rounded outward by `dir` (−1 down, +1 up, 0 as evaluated). */
export function codeValue(step: QuantizeStep, i: number, k: number, dir: -1 | 0 | 1): number {
  const { s, z } = quantGrid(step, i);
  const v = (k - z) * s;
  return dir < 0 ? roundDown(v) : dir > 0 ? roundUp(v) : v;
}

/** The interval q maps [lo, hi] into (monotone: the ends' plateaus, nudged outward). */
export function quantizeInterval(step: QuantizeStep, i: number, lo: number, hi: number): [number, number] {
  return [codeValue(step, i, codeAtLeast(step, i, lo), -1), codeValue(step, i, codeAtMost(step, i, hi), 1)];
}

/**
 * Where plateau k lies in x: [left, right] (±∞ at the clamped ends), widened by a few ulps.
 */
export function plateau(step: QuantizeStep, i: number, k: number): [number, number] {
  const { s, z } = quantGrid(step, i);
  const left = k <= step.qmin ? -Infinity : (k - z - 0.5) * s;
  const right = k >= step.qmax ? Infinity : (k - z + 0.5) * s;
  const widen = (x: number): number => Math.abs(x) * NUDGE * 2 + Number.MIN_VALUE;
  return [left - widen(left), right + widen(right)];
}

/** A linear relaxation a·x + bL ≤ q(x) ≤ a·x + bU of one element over [lo, hi]. */
export interface QuantRelaxation {
  readonly slope: number;
  readonly lowerIntercept: number;
  readonly upperIntercept: number;
}

/**
 * The exact intercepts of the relaxation with slope a ≥ 0: the extremes of q(x) − a·x over the plateaus that meet
 * [lo, hi] (v − a·x is largest at a plateau's left end and smallest at its right end), widened by the rounding
 * of v − a·x and of a·x when the relaxation is evaluated.
 */
function interceptsFor(step: QuantizeStep, i: number, lo: number, hi: number, kLo: number, kHi: number, a: number): QuantRelaxation {
  let bU = -Infinity;
  let bL = Infinity;
  let mag = 0;
  for (let k = kLo; k <= kHi; k++) {
    const [pl, pr] = plateau(step, i, k);
    const v = codeValue(step, i, k, 0);
    bU = Math.max(bU, v - a * Math.max(pl, lo));
    bL = Math.min(bL, v - a * Math.min(pr, hi));
    mag = Math.max(mag, Math.abs(v));
  }
  const slack = 4 * UNIT_ROUNDOFF * (mag + a * Math.max(Math.abs(lo), Math.abs(hi)));
  return { slope: a, lowerIntercept: roundDown(bL, slack), upperIntercept: roundUp(bU, slack) };
}

/**
 * A linear relaxation of q over [lo, hi] (one pass over the at most 2^bits plateaus that meet it per candidate).
 * Three slopes are tried and the one with the narrowest band bU − bL is kept: 0 (the interval [q(lo), q(hi)]),
 * 1 (q(x) ≈ x, within half a step inside the clipping range, which keeps the dependence on x), and the chord
 * (q(hi) − q(lo)) / (hi − lo) (which follows the clamped ends); ties go to the slope nearest 1. When q is
 * constant on [lo, hi] the slope is 0 and both intercepts are that constant (outward-rounded).
 */
export function quantizeRelaxation(step: QuantizeStep, i: number, lo: number, hi: number): QuantRelaxation {
  const kLo = codeAtLeast(step, i, lo);
  const kHi = codeAtMost(step, i, hi);
  if (kLo >= kHi || !(hi > lo)) {
    const [l, u] = quantizeInterval(step, i, lo, hi);
    return { slope: 0, lowerIntercept: l, upperIntercept: u };
  }
  const chord = (codeValue(step, i, kHi, 0) - codeValue(step, i, kLo, 0)) / (hi - lo);
  let best: QuantRelaxation | null = null;
  for (const a of [1, chord, 0]) {
    const r = interceptsFor(step, i, lo, hi, kLo, kHi, a);
    if (!best || r.upperIntercept - r.lowerIntercept < best.upperIntercept - best.lowerIntercept) best = r;
  }
  return best!;
}
