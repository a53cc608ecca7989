/**
 * Outward rounding for bound propagation in float64. A bound computed in floating point can land on the wrong
 * side of the true value by a few units in the last place; a verifier that trusts it can "prove" a property
 * that is false by 1e-16. Every bound qrobust computes is widened by a margin that covers
 *
 * 1. the rounding of the bound computation itself, and
 * 2. the rounding of the concrete float64 forward pass (`evaluateIR`),
 *
 * so a bound contains both the exact real-arithmetic value and the float64-evaluated value of the network, and
 *
 * 3. the rounding of a float32 evaluation of each affine step as the source network computes it (ONNX Runtime,
 *    TF.js), in any summation order: the same bound with u = 2⁻²⁴ (`float32Margin`), over the step's rounding
 *    depth (one dot product plus bias, plus the element-wise ops folded into it, see `AffineStep.float32`).
 *
 * The float32 term dominates: about 6e-8 relative per rounding, against 1.1e-16 for float64.
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

/** Unit roundoff of float32 (round to nearest). */
export const UNIT_ROUNDOFF_F32 = 2 ** -24;

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

/** γₙ for float32 (u = 2⁻²⁴). */
export function gamma32(n: number): number {
  const nu = n * UNIT_ROUNDOFF_F32;
  return nu >= 0.5 ? Infinity : (1.01 * nu) / (1 - nu);
}

/** Below this magnitude a float32 evaluation cannot overflow (float32's largest finite value is about 2^128). */
const FLOAT32_SAFE = 2 ** 127;

/**
 * How far a float32 evaluation with `depth` roundings per term, in any order, can land from the exact value of a
 * sum whose terms' absolute values add up to at most `magnitude`: γ₃₂(depth)·magnitude, plus 2⁻¹⁴⁹ (float32's
 * smallest subnormal) per rounding for underflow; infinite where float32 could overflow.
 */
export function float32Margin(depth: number, magnitude: number): number {
  if (!(magnitude < FLOAT32_SAFE)) return Infinity;
  return gamma32(depth) * magnitude + depth * 2 ** -149;
}
