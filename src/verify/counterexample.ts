/**
 * Counterexamples are facts only after a concrete forward pass says so. A complete solver returns a point that
 * satisfies its *encoding* up to the solver's tolerances (HiGHS: 1e-6 feasibility, 1e-9 integrality by default),
 * which can sit a hair on the wrong side of the decision boundary in exact float64 evaluation. This module
 * re-checks a candidate with `evaluateIR` (and, where the caller has one, the model itself), and tries to repair
 * a near miss by a short signed-gradient local search inside the box; whatever still fails is not reported `sat`.
 */
import { exactlyUnsafe } from './exact.js';
import { evaluateIR, type NetworkIR } from './ir.js';
import { irInputGradient } from './ir-gradient.js';
import { inBox, type Box, type LinearConstraint, type UnsafeCondition, type VerificationCase } from './property.js';

/**
 * Value of one constraint, coeffs·y + offset, ≤ 0 exactly when it is satisfied: a strict constraint (< 0) that
 * sits at exactly 0 gets the smallest positive double instead, so a tie never counts for it.
 */
function constraintValue(c: LinearConstraint, y: ArrayLike<number>): number {
  let s = c.offset;
  for (let i = 0; i < c.coeffs.length; i++) if (c.coeffs[i] !== 0) s += c.coeffs[i]! * y[i]!;
  return c.strict && s === 0 ? Number.MIN_VALUE : s;
}

/** max over the conjunction's constraints: ≤ 0 exactly when the conjunction holds (strict constraints included). */
export function conjunctionValue(conj: UnsafeCondition['disjuncts'][number], y: ArrayLike<number>): number {
  let m = -Infinity;
  for (const c of conj) m = Math.max(m, constraintValue(c, y));
  return m;
}

/**
 * The unsafe margin of an output: min over disjuncts of `conjunctionValue`. It is ≤ 0 exactly when `y`
 * satisfies the unsafe condition (the same test as `isUnsafe(unsafe, y, 0)`, strict constraints included), and
 * its size says by how much. A NaN output never satisfies a disjunct.
 */
export function unsafeMargin(unsafe: UnsafeCondition, y: ArrayLike<number>): { margin: number; disjunct: number } {
  let best = Infinity;
  let which = -1;
  unsafe.disjuncts.forEach((conj, d) => {
    const v = conjunctionValue(conj, y);
    if (v < best) {
      best = v;
      which = d;
    }
  });
  return { margin: best, disjunct: which };
}

/** x clipped to the box. */
export function clipToBox(box: Box, x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(box.lower.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(box.upper[i]!, Math.max(box.lower[i]!, x[i]!));
  return out;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The next float32 above (dir = 1) or below (dir = −1) a float32 value. */
function nextFloat32(v: number, dir: 1 | -1): number {
  if (v === 0) return dir * 1.401298464324817e-45;
  F32[0] = v;
  U32[0] = U32[0]! + ((v > 0) === (dir > 0) ? 1 : -1);
  return F32[0]!;
}

/**
 * The float32 point nearest to x that lies inside the box (when the box contains a float32 value in each
 * coordinate, which any box wider than float32 spacing does). Models and ONNX runtimes compute in float32, so a
 * counterexample meant for them must be a float32 vector.
 * @returns null when some coordinate's interval holds no float32 value.
 */
export function float32InBox(box: Box, x: ArrayLike<number>): Float64Array | null {
  const out = new Float64Array(box.lower.length);
  for (let i = 0; i < out.length; i++) {
    const lo = box.lower[i]!;
    const hi = box.upper[i]!;
    const openLo = box.openLower?.[i] === 1;
    const openHi = box.openUpper?.[i] === 1;
    let f = Math.fround(Math.min(hi, Math.max(lo, x[i]!)));
    if (f < lo || (openLo && f === lo)) f = nextFloat32(f, 1);
    if (f > hi || (openHi && f === hi)) f = nextFloat32(f, -1);
    if (!(openLo ? f > lo : f >= lo) || !(openHi ? f < hi : f <= hi)) return null;
    out[i] = f;
  }
  return out;
}

/** A re-checked counterexample: the input, the IR's float64 output and its (≤ 0) unsafe margin. */
export interface CheckedCounterexample {
  readonly input: Float64Array;
  readonly output: Float64Array;
  readonly margin: number;
}

/**
 * An extra concrete check beyond the float64 IR: the model itself (a TF.js model, an ONNX runtime session, the
 * integer program). Returns the model's output for the input, or null when it cannot run it (a throw counts the
 * same). A check that cannot run is no pass: the point must then be a counterexample in exact real arithmetic
 * (`exactlyUnsafe`) to be accepted.
 */
export type ModelCheck = (input: Float64Array) => Promise<Float64Array | null> | Float64Array | null;

/**
 * Re-checks a candidate: it must lie in the box (no tolerance; an open side excludes its end point) and its
 * float64 IR output must satisfy the unsafe condition (no tolerance; a tie counts as unsafe for a non-strict
 * constraint, as VNN-LIB's `>=`, and not for a strict one).
 */
export function checkCounterexample(ir: NetworkIR, vcase: VerificationCase, x: Float64Array): CheckedCounterexample | null {
  if (x.length !== vcase.input.lower.length || !inBox(vcase.input, x)) return null;
  const output = evaluateIR(ir, x);
  const { margin } = unsafeMargin(vcase.unsafe, output);
  return margin <= 0 ? { input: x, output, margin } : null;
}

export interface RepairOptions {
  /** Step sizes tried, as fractions of each coordinate's box width (default 1e-7 … 1e-2). */
  readonly steps?: readonly number[];
  /** Signed-gradient iterations per step size (default 3). */
  readonly iterations?: number;
  /** Keep the result a float32 vector (default true: models and runtimes compute in float32). */
  readonly float32?: boolean;
  /**
   * The model itself, where one exists: a point passes only if the model's own output is unsafe too. A point the
   * IR accepts but the model rejects (float32 versus float64 rounding at the boundary) makes the search go on.
   */
  readonly modelCheck?: ModelCheck;
}

/**
 * Confirms a candidate, repairing a near miss: the candidate itself (snapped to float32 inside the box) is tried
 * first; then a short local search moves against the sign of the input gradient of the active disjunct's value
 * (`irInputGradient`), with growing step sizes, projected onto the box, and returns the first point that both
 * the float64 IR and the model (when given) find unsafe. Gradients through fake-quant steps are straight-through.
 * @returns null when no point passes: the caller must then not report `sat`.
 */
export async function confirmCounterexample(ir: NetworkIR, vcase: VerificationCase, candidate: Float64Array, o: RepairOptions = {}): Promise<CheckedCounterexample | null> {
  const box = vcase.input;
  const float32 = o.float32 ?? true;
  const snap = (x: Float64Array): Float64Array | null => (float32 ? float32InBox(box, x) : clipToBox(box, x));
  const accept = async (x: Float64Array): Promise<CheckedCounterexample | null> => {
    const checked = checkCounterexample(ir, vcase, x);
    if (!checked || !o.modelCheck) return checked;
    let y: Float64Array | null;
    try {
      y = await o.modelCheck(x);
    } catch {
      y = null;
    }
    if (y === null || y.length !== ir.outputSize) return exactlyUnsafe(ir, vcase, x) ? checked : null;
    return unsafeMargin(vcase.unsafe, y).margin <= 0 ? checked : null;
  };
  const start = snap(candidate);
  if (!start) return null;
  const first = await accept(start);
  if (first) return first;
  const widths = box.upper.map((u, i) => u - box.lower[i]!);
  for (const rel of o.steps ?? [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2]) {
    let x = start;
    for (let it = 0; it < (o.iterations ?? 3); it++) {
      const y = evaluateIR(ir, x);
      const { disjunct } = unsafeMargin(vcase.unsafe, y);
      const conj = vcase.unsafe.disjuncts[disjunct];
      if (!conj) break; // every disjunct's value is NaN: nothing to descend on
      // The active constraint of the conjunction (the largest value) is the one to push down.
      let active = conj[0]!;
      let worst = -Infinity;
      for (const c of conj) {
        const v = constraintValue(c, y);
        if (v > worst) {
          worst = v;
          active = c;
        }
      }
      const g = irInputGradient(ir, x, active.coeffs);
      const next = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) next[i] = x[i]! - rel * widths[i]! * Math.sign(g[i]!);
      const snapped = snap(next);
      if (!snapped) break;
      x = snapped;
      const checked = await accept(x);
      if (checked) return checked;
    }
  }
  return null;
}

/** One re-check of a reported counterexample: what ran and what it said. */
export interface Recheck {
  readonly name: string;
  readonly result: 'pass' | 'fail' | 'could not run';
  readonly reason?: string;
}

/**
 * Re-checks a final counterexample of a problem (any of its cases) independently of the verifier that found it:
 * the float64 IR, each model check given (its `name` says in what arithmetic), and exact real arithmetic on the
 * IR's parameters. `confirmed` is true when the float64 IR passes and so does some model check or, where none
 * passed because none could run, exact arithmetic; a model check that ran and failed is never outvoted.
 */
export async function recheckCounterexample(
  ir: NetworkIR,
  cases: readonly VerificationCase[],
  x: Float64Array,
  models: readonly { readonly name: string; readonly check: ModelCheck; readonly failures?: readonly string[] }[],
): Promise<{ readonly rechecks: readonly Recheck[]; readonly confirmed: boolean }> {
  const rechecks: Recheck[] = [];
  const float64 = cases.some((c) => checkCounterexample(ir, c, x) !== null);
  rechecks.push({ name: 'float64 IR', result: float64 ? 'pass' : 'fail' });
  let modelPass = false;
  let modelFail = false;
  for (const m of models) {
    let y: Float64Array | null;
    try {
      y = await m.check(x);
    } catch (e) {
      y = null;
      rechecks.push({ name: m.name, result: 'could not run', reason: e instanceof Error ? e.message.split('\n')[0]! : String(e) });
      continue;
    }
    if (y === null || y.length !== ir.outputSize) {
      const reason = m.failures?.[m.failures.length - 1];
      rechecks.push({ name: m.name, result: 'could not run', ...(reason ? { reason } : {}) });
      continue;
    }
    const pass = cases.some((c) => inBox(c.input, x) && unsafeMargin(c.unsafe, y!).margin <= 0);
    rechecks.push({ name: m.name, result: pass ? 'pass' : 'fail' });
    if (pass) modelPass = true;
    else modelFail = true;
  }
  const exact = cases.some((c) => exactlyUnsafe(ir, c, x));
  rechecks.push({ name: 'exact real arithmetic', result: exact ? 'pass' : 'fail' });
  return { rechecks, confirmed: float64 && !modelFail && (modelPass || exact) };
}
