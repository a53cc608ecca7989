/**
 * Sound bounds for the dynamic (run-time) input quantizer of a hybrid layer (`DynamicQuantizeStep`, `ir.ts`).
 *
 * Over an input box, the quantizer's scale s(x) is at most s_hi, computed from the box alone: max_i
 * max(|lo_i|, |hi_i|) / 127 for the symmetric scheme, (max(0, max_i hi_i) − min(0, min_i lo_i)) / 255 for the
 * asymmetric ones. Each output element then lies within δ of its input element:
 * - symmetric: codes round(x · 127/range) never clamp (|x| ≤ range), so |code·s − x| ≤ s/2, plus the float32
 *   rounding of 127/range, of the product and of the scale (a few units in 10^-5 of a code); δ = s_hi · 0.5001;
 * - asymmetric and DynamicQuantizeLinear: the rounded zero point can push the largest (or smallest) code half a
 *   step past the code range, where it is clamped, so |(code − zp)·s − x| ≤ s; δ = s_hi · 1.0001.
 * The step is bounded as y ∈ [x − δ, x + δ]: the interval [lo − δ, hi + δ], and the linear band y = x ± δ.
 */
import type { DynamicQuantizeStep } from '../ir.js';
import type { Interval } from '../property.js';
import { roundDown, roundUp } from './rounding.js';

/** The largest distance between an element and its dequantized code, over the box. */
export function dynamicQuantizeError(step: DynamicQuantizeStep, x: Interval): number {
  let scale: number;
  if (step.scheme === 'symmetric') {
    let m = 0;
    for (let i = 0; i < step.size; i++) m = Math.max(m, Math.abs(x.lower[i]!), Math.abs(x.upper[i]!));
    scale = (m / 127) * (1 + 1e-6);
    return roundUp(scale * 0.5001);
  }
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < step.size; i++) {
    hi = Math.max(hi, x.upper[i]!);
    lo = Math.min(lo, x.lower[i]!);
  }
  scale = ((hi - lo) / 255) * (1 + 1e-6);
  return roundUp(scale * 1.0001);
}

/** The interval image of the step. */
export function dynamicQuantizeInterval(step: DynamicQuantizeStep, x: Interval): Interval {
  const d = dynamicQuantizeError(step, x);
  return { lower: x.lower.map((v) => roundDown(v, d)), upper: x.upper.map((v) => roundUp(v, d)) };
}
