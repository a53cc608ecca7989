/**
 * A rigorous lower bound of a linear program from any dual vector (Neumaier and Shcherbina 2004, "Safe bounds in
 * linear and mixed-integer linear programming", Math. Programming 99). For min c·x + c0 subject to
 * rowLower ≤ A x ≤ rowUpper and colLower ≤ x ≤ colUpper, every y gives
 *
 *     c·x = y·(A x) + (c − Aᵀy)·x ≥ Σ_i min_{a ∈ [rowLower_i, rowUpper_i]} y_i·a + Σ_j min_{x_j ∈ [l_j, u_j]} r_j·x_j
 *
 * with r = c − Aᵀy, whatever the solver's tolerances did: only the float64 arithmetic of this bound itself needs a
 * margin, and it gets one (r_j as an interval of radius γ·Σ|terms|, the sum moved down by `dotMargin`). With
 * HiGHS's optimal row duals it is the LP optimum up to about the dual tolerance times Σ_j (u_j − l_j); a row
 * dual whose needed side is infinite is set to 0 (still a valid y), and a column with an infinite bound whose
 * reduced cost interval is not one-signed makes the bound −∞. Every column the encoders make is bounded.
 */
import { dotMargin, gamma, roundDown } from '../bounds/rounding.js';
import type { MilpData } from './lp-builder.js';

/** Bounds at or beyond this magnitude are HiGHS's infinity. */
const INF = 1e300;

function productLower(rLo: number, rHi: number, l: number, u: number): number {
  const lInf = l <= -INF;
  const uInf = u >= INF;
  if (!lInf && !uInf) return Math.min(rLo * l, rLo * u, rHi * l, rHi * u);
  if (lInf && uInf) return rLo === 0 && rHi === 0 ? 0 : -Infinity;
  if (lInf) return rHi <= 0 ? Math.min(rLo * u, rHi * u) : -Infinity; // x ≤ u: needs r ≤ 0
  return rLo >= 0 ? Math.min(rLo * l, rHi * l) : -Infinity; // x ≥ l: needs r ≥ 0
}

/** A lower bound of the LP's optimum (objective offset included) that holds exactly; −∞ when none follows from y. */
export function safeLpLowerBound(data: MilpData, rowDual: ArrayLike<number>): number {
  const { numCols, numRows, matrix: m } = data;
  const y = new Float64Array(numRows);
  for (let i = 0; i < numRows; i++) {
    const v = rowDual[i]!;
    if (!Number.isFinite(v)) continue;
    if ((v > 0 && data.rowLower[i]! <= -INF) || (v < 0 && data.rowUpper[i]! >= INF)) continue;
    y[i] = v;
  }
  const r = Float64Array.from(data.colCost);
  const mag = Float64Array.from(data.colCost, Math.abs);
  const count = new Int32Array(numCols);
  let terms = 0;
  let sum = data.offset;
  let total = Math.abs(data.offset);
  for (let i = 0; i < numRows; i++) {
    const yi = y[i]!;
    if (yi === 0) continue;
    for (let k = m.starts[i]!; k < m.starts[i + 1]!; k++) {
      const j = m.indices[k]!;
      const p = m.values[k]! * yi;
      r[j] -= p;
      mag[j] += Math.abs(p);
      count[j]++;
    }
    const t = yi > 0 ? yi * data.rowLower[i]! : yi * data.rowUpper[i]!;
    sum += t;
    total += Math.abs(t);
    terms++;
  }
  for (let j = 0; j < numCols; j++) {
    const e = gamma(count[j]! + 2) * mag[j]! * 2 + Number.MIN_VALUE;
    const t = productLower(r[j]! - e, r[j]! + e, data.colLower[j]!, data.colUpper[j]!);
    if (t === -Infinity) return -Infinity;
    if (t === 0) continue;
    sum += t;
    total += Math.abs(t);
    terms++;
  }
  return roundDown(sum, dotMargin(terms, total));
}
