/**
 * Outward rounding for bound propagation in float64. A bound computed in floating point can land on the wrong
 * side of the true value by a few units in the last place; a verifier that trusts it can "prove" a property
 * that is false by 1e-16. Every bound qrobust computes is widened by a margin that covers
 *
 * 1. the rounding of the bound computation itself, and
 * 2. the rounding of the concrete float64 forward pass (`evaluateIR`),
 *
 * so a bound contains both the exact real-arithmetic value and the float64-evaluated value of the network.
 *
 * The margin for a sum of n products (a row of W·x plus the bias) follows the standard forward error bound of
 * recursive summation (Higham, "Accuracy and Stability of Numerical Algorithms", 2002, §3.1):
 * |fl(Σ aᵢ) − Σ aᵢ| ≤ γₙ · Σ|aᵢ| with γₙ = n·u / (1 − n·u) and u = 2⁻⁵³. Both the bound and the evaluation obey
 * it, so the bound is moved outward by 2·γₙ₊₁·M, where M bounds Σ|wᵢ·xᵢ| + |b| over the box; products that
 * underflow add at most 2⁻¹⁰⁷⁴ each. The widening subtraction is itself rounded, which one more relative ulp
 * absorbs. For the networks qrobust verifies (n ≤ 10⁵, |values| ≤ 10⁶) the margins are below 1e-9 in logits.
 */

/** Unit roundoff of float64 (round to nearest). */
export const UNIT_ROUNDOFF = 2 ** -53;

/** γₙ = n·u / (1 − n·u), rounded up generously (the 1.01 factor covers its own computation). */
export function gamma(n: number): number {
  const nu = n * UNIT_ROUNDOFF;
  return (1.01 * nu) / (1 - nu);
}

/**
 * The outward margin for a computed dot product of `terms` products (bias included in `terms`) whose absolute
 * values sum to at most `magnitude` (see the module comment).
 */
export function dotMargin(terms: number, magnitude: number): number {
  return 2 * gamma(terms + 1) * magnitude + (terms + 1) * Number.MIN_VALUE;
}

/** `x − margin`, rounded so that the result is ≤ the exact difference. */
export function roundDown(x: number, margin = 0): number {
  return x - margin - Math.abs(x) * 2 * UNIT_ROUNDOFF - Number.MIN_VALUE;
}

/** `x + margin`, rounded so that the result is ≥ the exact sum. */
export function roundUp(x: number, margin = 0): number {
  return x + margin + Math.abs(x) * 2 * UNIT_ROUNDOFF + Number.MIN_VALUE;
}

/**
 * A lower bound of c·y + o over the box lo ≤ y ≤ hi that is ≤ the exact minimum (each coefficient picks the end
 * that minimizes its term; the float64 sum is then moved down by its own rounding margin).
 */
export function linearLowerOverBox(coeffs: ArrayLike<number>, offset: number, lo: ArrayLike<number>, hi: ArrayLike<number>): number {
  let s = offset;
  let mag = Math.abs(offset);
  let terms = 0;
  for (let i = 0; i < coeffs.length; i++) {
    const a = coeffs[i]!;
    if (a === 0) continue;
    const v = a > 0 ? lo[i]! : hi[i]!;
    s += a * v;
    mag += Math.abs(a * v);
    terms++;
  }
  return roundDown(s, dotMargin(terms, mag));
}
