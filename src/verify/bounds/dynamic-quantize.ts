/**
 * Sound bounds for the dynamic (run-time) input quantizer of a hybrid layer (`DynamicQuantizeStep`, `ir.ts`).
 *
 * Over an input box, the quantizer's scale s(x) lies in [s_lo, s_hi], computed from the box alone: the range
 * max_i |x_i| / 127 for the symmetric scheme, (max(0, max_i x_i) − min(0, min_i x_i)) / 255 for the asymmetric
 * ones, each end taken over the box and widened by 10^-6 for the float32 rounding of the runtime's scale.
 *
 * **The band.** Each output element lies within δ of its input element:
 * - symmetric: codes round(x · 127/range) never clamp (|x| ≤ range), so |code·s − x| ≤ s/2, plus the float32
 *   rounding of 127/range, of the product and of the scale (a few units in 10^-5 of a code); δ = s_hi · 0.5001;
 * - asymmetric and DynamicQuantizeLinear: the rounded zero point can push the largest (or smallest) code half a
 *   step past the code range, where it is clamped, so |(code − zp)·s − x| ≤ s; δ = s_hi · 1.0001.
 *
 * **The plateau interval** (symmetric scheme): for a fixed s, element i takes the code k = round(x_i/s), and
 * over the box x_i/s lies in [min(l_i/s_lo, l_i/s_hi), max(u_i/s_lo, u_i/s_hi)] (x/s is monotone in each of x
 * and s). With the quotient nudged outward by 10^-4 of a code (the float32 rounding of x · (127/range)), the
 * codes lie in [k_lo, k_hi] and the value k·s in [min(k_lo·s_lo, k_lo·s_hi), max(k_hi·s_lo, k_hi·s_hi)]. For a
 * narrow box this is far tighter than the band: when k_lo = k_hi the element is pinned to one code, whose
 * value moves only with the scale.
 *
 * The interval image is the intersection of the two; the linear relaxation takes, per element, the narrower of
 * the band y = x ± δ (slope 1) and the plateau interval (slope 0).
 */
import { roundHalfAway } from '../../quant/rounding.js';
import type { DynamicQuantizeStep } from '../ir.js';
import type { Interval } from '../property.js';
import { roundDown, roundUp } from './rounding.js';

const SCALE_SLACK = 1e-6;
const CODE_NUDGE = 1e-4;

/** The range of the runtime's scale over the box. */
export function dynamicScaleRange(step: DynamicQuantizeStep, x: Interval): { lo: number; hi: number } {
  if (step.scheme === 'symmetric') {
    let mHi = 0;
    let mLo = 0;
    for (let i = 0; i < step.size; i++) {
      const l = x.lower[i]!;
      const u = x.upper[i]!;
      mHi = Math.max(mHi, Math.abs(l), Math.abs(u));
      mLo = Math.max(mLo, l > 0 ? l : u < 0 ? -u : 0);
    }
    return { lo: (mLo / 127) * (1 - SCALE_SLACK), hi: (mHi / 127) * (1 + SCALE_SLACK) };
  }
  let maxHi = 0;
  let maxLo = 0;
  let minLo = 0;
  let minHi = 0;
  for (let i = 0; i < step.size; i++) {
    maxHi = Math.max(maxHi, x.upper[i]!);
    maxLo = Math.max(maxLo, x.lower[i]!);
    minLo = Math.min(minLo, x.lower[i]!);
    minHi = Math.min(minHi, x.upper[i]!);
  }
  return { lo: ((maxLo - minHi) / 255) * (1 - SCALE_SLACK), hi: ((maxHi - minLo) / 255) * (1 + SCALE_SLACK) };
}

/** The largest distance between an element and its dequantized code, over the box. */
export function dynamicQuantizeError(step: DynamicQuantizeStep, x: Interval): number {
  const { hi } = dynamicScaleRange(step, x);
  return roundUp(hi * (step.scheme === 'symmetric' ? 0.5001 : 1.0001));
}

/** Per element, the plateau interval of the symmetric scheme (null for the others, or when s_lo is 0). */
function plateauIntervals(step: DynamicQuantizeStep, x: Interval, s: { lo: number; hi: number }): Interval | null {
  if (step.scheme !== 'symmetric' || !(s.lo > 0)) return null;
  const lower = new Float64Array(step.size);
  const upper = new Float64Array(step.size);
  for (let i = 0; i < step.size; i++) {
    const l = x.lower[i]!;
    const u = x.upper[i]!;
    const tLo = Math.min(l / s.lo, l / s.hi);
    const tHi = Math.max(u / s.lo, u / s.hi);
    const kLo = Math.max(-127, roundHalfAway(tLo - CODE_NUDGE - Math.abs(tLo) * 1e-12));
    const kHi = Math.min(127, roundHalfAway(tHi + CODE_NUDGE + Math.abs(tHi) * 1e-12));
    lower[i] = roundDown(Math.min(kLo * s.lo, kLo * s.hi));
    upper[i] = roundUp(Math.max(kHi * s.lo, kHi * s.hi));
  }
  return { lower, upper };
}

/** The interval image of the step: the band, intersected with the plateau interval where there is one. */
export function dynamicQuantizeInterval(step: DynamicQuantizeStep, x: Interval): Interval {
  const s = dynamicScaleRange(step, x);
  const d = dynamicQuantizeError(step, x);
  const lower = x.lower.map((v) => roundDown(v, d));
  const upper = x.upper.map((v) => roundUp(v, d));
  const p = plateauIntervals(step, x, s);
  if (p) {
    for (let i = 0; i < step.size; i++) {
      lower[i] = Math.max(lower[i]!, p.lower[i]!);
      upper[i] = Math.min(upper[i]!, p.upper[i]!);
    }
  }
  return { lower, upper };
}

/** Per element: slope 1 with intercepts ±δ, or slope 0 with the plateau interval, whichever band is narrower. */
export function dynamicQuantizeBand(step: DynamicQuantizeStep, x: Interval): { slope: Float64Array; lowerIntercept: Float64Array; upperIntercept: Float64Array } {
  const s = dynamicScaleRange(step, x);
  const d = dynamicQuantizeError(step, x);
  const slope = new Float64Array(step.size).fill(1);
  const lowerIntercept = new Float64Array(step.size).fill(-d);
  const upperIntercept = new Float64Array(step.size).fill(d);
  const p = plateauIntervals(step, x, s);
  if (p) {
    for (let i = 0; i < step.size; i++) {
      if (p.upper[i]! - p.lower[i]! < 2 * d) {
        slope[i] = 0;
        lowerIntercept[i] = p.lower[i]!;
        upperIntercept[i] = p.upper[i]!;
      }
    }
  }
  return { slope, lowerIntercept, upperIntercept };
}
