/**
 * What a verifier is asked, in VNN-LIB's sense: an input region and an *unsafe* output condition. The answer is
 * `sat` when some input in the region satisfies the unsafe condition (a counterexample exists, the robustness
 * property is violated) and `unsat` when none does (the property holds, is verified).
 *
 * The unsafe condition is a disjunction of conjunctions of linear constraints on the output vector y, each
 * written `coeffs · y + offset ≤ 0`, or `< 0` where the constraint is `strict`. An output tie counts as unsafe
 * for VNN-COMP's non-strict `>=`, and not for a strict `>`.
 *
 * Verifiers that ignore `strict` (and the open sides of a box) decide a larger unsafe set, so their `unsat` stays
 * sound; a counterexample is accepted only by the exact tests below (`isUnsafe`, `inBox`), which honour both.
 */

export interface Box {
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  /** Where set, `openLower[i] = 1` excludes the end point `lower[i]` itself (from a strict `X_i > c`). */
  readonly openLower?: Uint8Array;
  /** Where set, `openUpper[i] = 1` excludes the end point `upper[i]` itself (from a strict `X_i < c`). */
  readonly openUpper?: Uint8Array;
}

/** coeffs · y + offset ≤ 0, or < 0 when `strict`. */
export interface LinearConstraint {
  readonly coeffs: Float64Array;
  readonly offset: number;
  /** The comparison is strict (`<`, `>` in VNN-LIB): coeffs · y + offset < 0, a tie does not satisfy it. */
  readonly strict?: boolean;
}

/**
 * Whether a lower bound `lower` of `coeffs · y + offset` over a region proves that the constraint can never hold
 * there: > 0 for a non-strict constraint, ≥ 0 for a strict one.
 */
export function boundExcludes(c: LinearConstraint, lower: number): boolean {
  return c.strict ? lower >= 0 : lower > 0;
}

/** Whether a constraint's value v = coeffs · y + offset satisfies it: v ≤ 0, or v < 0 when strict (false for NaN). */
export function satisfiedBy(c: LinearConstraint, v: number): boolean {
  return c.strict ? v < 0 : v <= 0;
}

/** OR over disjuncts, each an AND of constraints. */
export interface UnsafeCondition {
  readonly disjuncts: readonly (readonly LinearConstraint[])[];
}

/** One region and its unsafe condition; a VNN-LIB file may hold several (a disjunction over input boxes). */
export interface VerificationCase {
  readonly input: Box;
  readonly unsafe: UnsafeCondition;
}

export interface VerificationProblem {
  readonly cases: readonly VerificationCase[];
  readonly inputSize: number;
  readonly outputSize: number;
  /** Where it came from (a .vnnlib path, or a description such as "sample 17, linf ε=2/255"). */
  readonly source: string;
  /** Things the reader of a verdict should know about the property (e.g. disjuncts left out as empty). */
  readonly notes?: readonly string[];
}

/**
 * Local robustness of a classifier at `x` with true label `label`: the region is the L∞ ball of radius `epsilon`
 * clipped to [lo, hi]; unsafe means some other class scores at least as high as `label`.
 */
export function localRobustnessCase(x: ArrayLike<number>, label: number, epsilon: number, numClasses: number, lo = 0, hi = 1): VerificationCase {
  const lower = new Float64Array(x.length);
  const upper = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    lower[i] = Math.max(lo, x[i]! - epsilon);
    upper[i] = Math.min(hi, x[i]! + epsilon);
  }
  const disjuncts: LinearConstraint[][] = [];
  for (let j = 0; j < numClasses; j++) {
    if (j === label) continue;
    // y_label − y_j ≤ 0
    const coeffs = new Float64Array(numClasses);
    coeffs[label] = 1;
    coeffs[j] = -1;
    disjuncts.push([{ coeffs, offset: 0 }]);
  }
  return { input: { lower, upper }, unsafe: { disjuncts } };
}

/**
 * Whether the output y satisfies the unsafe condition (with a tolerance `tol` ≥ 0 in favour of "unsafe"; with
 * `tol` = 0 a strict constraint needs a value < 0).
 */
export function isUnsafe(unsafe: UnsafeCondition, y: ArrayLike<number>, tol = 0): boolean {
  return unsafe.disjuncts.some((conj) =>
    conj.every((c) => {
      let s = c.offset;
      for (let i = 0; i < c.coeffs.length; i++) s += c.coeffs[i]! * y[i]!;
      return satisfiedBy(c, s - tol);
    }),
  );
}

/** Whether x lies in the box (with a tolerance; with `tol` = 0 an open side excludes its end point). */
export function inBox(box: Box, x: ArrayLike<number>, tol = 0): boolean {
  for (let i = 0; i < box.lower.length; i++) {
    const v = x[i]!;
    const lo = box.lower[i]! - tol;
    const hi = box.upper[i]! + tol;
    if (!(box.openLower?.[i] ? v > lo : v >= lo) || !(box.openUpper?.[i] ? v < hi : v <= hi)) return false;
  }
  return true;
}

/** Per-step bounds: `steps[i]` bounds the output of IR step i. */
export interface Interval {
  readonly lower: Float64Array;
  readonly upper: Float64Array;
}

export interface NetworkBounds {
  readonly input: Interval;
  readonly steps: readonly Interval[];
}

export type Verdict = 'sat' | 'unsat' | 'unknown' | 'timeout';

export interface VerificationResult {
  readonly verdict: Verdict;
  /** For 'sat': an input in the region whose concrete output satisfies the unsafe condition (re-checked). */
  readonly counterexample?: { readonly input: Float64Array; readonly output: Float64Array };
  /** Which method decided (e.g. 'ibp', 'crown', 'milp', 'smt', 'pgd'), or the reason it stayed unknown. */
  readonly method: string;
  readonly reason?: string;
  readonly seconds: number;
}
