/**
 * The projection step of FAB (Croce & Hein 2020, "Minimally distorted adversarial examples with a fast adaptive
 * boundary attack", arXiv 1907.02044): the point of smallest Lp distance from x on the hyperplane w·z + b = 0
 * that also lies in the box [lo, hi]^d, for p = ∞ and p = 2, computed exactly.
 *
 * Moving coordinate j by t_j ≥ 0 in the direction that brings w·z towards −b changes w·z by |w_j|·t_j, and at
 * most by |w_j|·cap_j, cap_j being the distance to the box face on that side. The optimum has the form
 * t_j = min(τ·m_j, cap_j) for one scalar τ ≥ 0: m_j = 1 for L∞ (every coordinate moves by the same radius τ until
 * it hits the box) and m_j = |w_j| for L2 (the KKT form z = clip(x − μw)). The gain G(τ) = Σ |w_j| min(τ·m_j, cap_j)
 * is piecewise linear and non-decreasing with breakpoints cap_j/m_j, so sorting the breakpoints gives the
 * smallest τ with G(τ) = |w·x + b| in O(d log d). When even the whole box cannot reach the hyperplane, every
 * coordinate moves to its face (the box point closest to the hyperplane) and `reached` is false.
 */
import type { Norm } from './types.js';

export interface HyperplaneProjection {
  /** The projected point (length d). */
  readonly point: Float64Array;
  /** False when the hyperplane does not meet the box; `point` then minimizes |w·z + b| over the box. */
  readonly reached: boolean;
}

/** Projects `x` onto {z : w·z + b = 0, lo ≤ z ≤ hi} in the `norm` distance (x must lie in the box). */
export function projectOntoHyperplaneInBox(x: ArrayLike<number>, w: ArrayLike<number>, b: number, lo: number, hi: number, norm: Norm): HyperplaneProjection {
  const d = x.length;
  const point = Float64Array.from(x);
  let value = b;
  for (let j = 0; j < d; j++) value += w[j]! * x[j]!;
  if (value === 0) return { point, reached: true };
  // Move every coordinate so that w·z decreases (value > 0) or increases (value < 0).
  const sigma = value > 0 ? -1 : 1;
  const need = Math.abs(value);
  const idx: number[] = [];
  const cap = new Float64Array(d);
  const rate = new Float64Array(d);
  const breakAt = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const wj = w[j]!;
    if (wj === 0) continue;
    const up = sigma * wj > 0;
    cap[j] = up ? hi - x[j]! : x[j]! - lo;
    if (cap[j]! <= 0) continue;
    rate[j] = norm === 'l2' ? Math.abs(wj) : 1;
    breakAt[j] = cap[j]! / rate[j]!;
    idx.push(j);
  }
  idx.sort((a, c) => breakAt[a]! - breakAt[c]!);
  // Walk the breakpoints: `slope` is dG/dτ of the coordinates not yet at their face, `gain` is G at `tau`.
  let slope = 0;
  for (const j of idx) slope += Math.abs(w[j]!) * rate[j]!;
  let gain = 0;
  let tau = 0;
  let reached = false;
  for (const j of idx) {
    const next = gain + slope * (breakAt[j]! - tau);
    if (next >= need) {
      tau += (need - gain) / slope;
      reached = true;
      break;
    }
    gain = next;
    tau = breakAt[j]!;
    slope -= Math.abs(w[j]!) * rate[j]!;
  }
  for (const j of idx) {
    const t = reached ? Math.min(tau * rate[j]!, cap[j]!) : cap[j]!;
    const up = sigma * w[j]! > 0;
    point[j] = x[j]! + (up ? t : -t);
  }
  return { point, reached };
}

/** ‖v‖ in `norm` (L∞ or L2). */
export function vectorNorm(v: ArrayLike<number>, norm: Norm): number {
  let s = 0;
  for (let j = 0; j < v.length; j++) {
    const a = Math.abs(v[j]!);
    if (norm === 'l2') s += a * a;
    else if (a > s) s = a;
  }
  return norm === 'l2' ? Math.sqrt(s) : s;
}
