/**
 * Sound bounds for sigmoid and tanh steps of the IR, over input bounds [l, u] per element.
 *
 * - Intervals: both functions are increasing, so [f(l), f(u)], widened by `VALUE_ERROR` for the float64
 *   evaluation of exp/tanh (|f| ≤ 1; a few ulps of 1 at most).
 * - Linear band: y ∈ [s·x + b_lo, s·x + b_hi] with s the chord slope (f(u) − f(l))/(u − l); the intercepts are
 *   the minimum and maximum of g(x) = f(x) − s·x over [l, u], which lie at the ends or where f'(x) = s
 *   (sigmoid: σ = (1 ± √(1 − 4s))/2; tanh: tanh x = ±√(1 − s)), widened outward by the evaluation error. A band
 *   of one slope fits the relaxation form the backward pass already takes for fake-quant steps.
 * Elements outside [from, to) are the identity (slope 1, intercepts 0).
 */
import { smoothValue, type SmoothFunction, type SmoothStep } from '../ir.js';
import type { Interval } from '../property.js';
import { UNIT_ROUNDOFF } from './rounding.js';

/** Absolute error bound of one float64 evaluation of sigmoid or tanh (values in [−1, 1]). */
const VALUE_ERROR = 1e-14;

export interface SmoothRelaxation {
  readonly kind: 'smooth';
  readonly slope: Float64Array;
  readonly lowerIntercept: Float64Array;
  readonly upperIntercept: Float64Array;
  readonly absMax: Float64Array;
}

export function smoothInterval(step: SmoothStep, x: Interval): Interval {
  const lower = Float64Array.from(x.lower);
  const upper = Float64Array.from(x.upper);
  for (let i = step.from; i < step.to; i++) {
    lower[i] = smoothValue(step.fn, x.lower[i]!) - VALUE_ERROR;
    upper[i] = smoothValue(step.fn, x.upper[i]!) + VALUE_ERROR;
  }
  return { lower, upper };
}

/** Where f'(x) = s (0 < s ≤ f'(0)): the points where g = f − s·x can have an interior extremum. */
function criticalPoints(fn: SmoothFunction, s: number): number[] {
  if (fn === 'sigmoid') {
    if (!(s > 0 && s < 0.25)) return s === 0.25 ? [0] : [];
    const r = Math.sqrt(1 - 4 * s);
    return [(1 - r) / 2, (1 + r) / 2].map((p) => Math.log(p / (1 - p)));
  }
  if (!(s > 0 && s < 1)) return s === 1 ? [0] : [];
  const t = Math.sqrt(1 - s);
  return [Math.atanh(-t), Math.atanh(t)];
}

export function smoothRelaxation(step: SmoothStep, x: Interval): SmoothRelaxation {
  const n = step.size;
  const slope = new Float64Array(n).fill(1);
  const lowerIntercept = new Float64Array(n);
  const upperIntercept = new Float64Array(n);
  const absMax = new Float64Array(n);
  for (let i = 0; i < n; i++) absMax[i] = Math.max(Math.abs(x.lower[i]!), Math.abs(x.upper[i]!));
  for (let i = step.from; i < step.to; i++) {
    const l = x.lower[i]!;
    const u = x.upper[i]!;
    const fl = smoothValue(step.fn, l);
    const fu = smoothValue(step.fn, u);
    const s = u > l ? Math.max(0, (fu - fl) / (u - l)) : 0;
    const points = [l, u, ...criticalPoints(step.fn, s).filter((p) => p > l && p < u)];
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of points) {
      const g = smoothValue(step.fn, p) - s * p;
      lo = Math.min(lo, g);
      hi = Math.max(hi, g);
    }
    // Errors: f at the points, s·p, and a critical point computed a little off (g' = 0 there: second order).
    const err = 2 * VALUE_ERROR + 4 * UNIT_ROUNDOFF * s * Math.max(Math.abs(l), Math.abs(u));
    slope[i] = s;
    lowerIntercept[i] = lo - err;
    upperIntercept[i] = hi + err;
  }
  return { kind: 'smooth', slope, lowerIntercept, upperIntercept, absMax };
}
