/**
 * Complete, bit-precise verification of a deployed integer program by MILP on HiGHS (`encodeIntegerProgramMilp`):
 * one minimization per disjunct of the unsafe condition on the dequantized logits, stopped as soon as it is
 * settled, exactly as for float IRs (`verify-milp.ts`). A candidate's input codes are turned into float32
 * pixels in the box and re-run on the integer program before `sat` is reported.
 */
import { checkIntegerCodes, type IntegerVerificationCase } from '../integer/integer-case.js';
import type { IntegerBounds } from '../integer/interval.js';
import type { LinearConstraint, VerificationResult } from '../property.js';
import { encodeIntegerProgramMilp } from './encode-integer.js';
import { highsRuntime, type HighsRuntime } from './highs-runtime.js';
import { combine, type LinExpr } from './lp-builder.js';
import { solveDisjunct, withObjective } from './verify-milp.js';

export interface IntegerMilpOptions {
  readonly timeLimit?: number;
  /** Sound bounds for the case (default: interval bounds); `integerCrownBounds` gives tighter ones. */
  readonly bounds?: IntegerBounds;
  readonly runtime?: HighsRuntime;
  /** Disjunct indices in the order to solve them, the most promising first (default: as given). */
  readonly order?: readonly number[];
}

export async function verifyIntegerCaseMilp(icase: IntegerVerificationCase, o: IntegerMilpOptions = {}): Promise<VerificationResult> {
  const t0 = performance.now();
  const deadline = t0 + (o.timeLimit ?? 60) * 1000;
  const runtime = o.runtime ?? highsRuntime;
  const enc = encodeIntegerProgramMilp(icase, o.bounds);
  const s = icase.program.output.scale[0]!;
  const zp = icase.program.output.zeroPoint[0]!;
  // Real logits y_j = s·(q_j − zp) as expressions.
  const logits: LinExpr[] = enc.outputs.map((q) => combine([{ expr: q, weight: s }], -s * zp));
  const highs = await runtime.get();
  const base = enc.builder.toModelData(highs.infinity);
  const inputCols = enc.inputVars.map((v) => (v < 0 ? 0 : v));
  let timedOut = false;
  let reason: string | undefined;
  const seconds = (): number => (performance.now() - t0) / 1000;
  const disjuncts = icase.unsafe.disjuncts as (readonly LinearConstraint[])[];
  for (const d of o.order ?? disjuncts.map((_, k) => k)) {
    const conj = disjuncts[d]!;
    const remaining = (deadline - performance.now()) / 1000;
    if (remaining <= 0) {
      timedOut = true;
      break;
    }
    // With integer coefficients each constraint is, in codes, Σ c_j q_j ≤ T: an integer against an integer, so
    // the objective Σ c_j q_j − T − ½ lies on the grid ℤ + ½ and HiGHS must be off by ½ to get its sign wrong.
    // Otherwise the logits themselves, with a margin of 1e-6 of the logit scale.
    const onGrid = latticeConstraints(conj, s, zp);
    const tol = onGrid ? 0.25 : 1e-6 * s;
    const data = onGrid ? withObjective(base, enc.outputs, onGrid, highs.infinity) : withObjective(base, logits, conj, highs.infinity);
    const r = await solveDisjunct(runtime, data, inputCols, remaining, tol);
    if (r.status === 'infeasible') continue;
    if (r.status === 'candidate') {
      const codes = enc.inputVars.map((v, i) => (v < 0 ? icase.codes.lower[i]! : Math.round(r.candidate![i]!)));
      const ce = checkIntegerCodes(icase, codes);
      if (ce) return { verdict: 'sat', counterexample: { input: Float64Array.from(ce.pixels), output: ce.logits }, method: 'milp', seconds: seconds() };
      reason = 'a MILP candidate failed the re-check on the integer program';
      continue;
    }
    if (r.status === 'timeout') timedOut = true;
    else reason = r.reason;
  }
  if (!timedOut && !reason) return { verdict: 'unsat', method: 'milp', seconds: seconds() };
  if (timedOut && !reason) return { verdict: 'timeout', method: 'milp', reason: 'time limit reached', seconds: seconds() };
  return { verdict: 'unknown', method: 'milp', reason: reason!, seconds: seconds() };
}

/** The exact value of a finite double as m·2^e (BigInt mantissa). */
function dyadic(x: number): { m: bigint; e: number } {
  if (x === 0) return { m: 0n, e: 0 };
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  const hi = v.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(v.getUint32(4));
  if (biased !== 0) m |= 1n << 52n;
  return { m: hi >>> 31 ? -m : m, e: (biased === 0 ? 1 : biased) - 1075 };
}

/** Whether a ≤ b exactly for a = s·k (k an integer) and b a double. */
function scaledAtMost(s: number, k: number, b: number): boolean {
  const x = dyadic(s);
  const y = dyadic(b);
  const e = Math.min(x.e, y.e);
  return x.m * BigInt(k) * (1n << BigInt(x.e - e)) <= y.m * (1n << BigInt(y.e - e));
}

/**
 * The constraints c·y + o ≤ 0 on logits y = s·(q − zp) rewritten on codes as Σ c_j q_j − T − ½ ≤ 0, T the
 * largest integer with s·(T − zp·Σc) ≤ −o (decided exactly): the same set of integer code vectors, with every
 * value on ℤ + ½. Null unless every coefficient is an integer (and the numbers stay exact).
 */
function latticeConstraints(conj: readonly LinearConstraint[], s: number, zp: number): LinearConstraint[] | null {
  if (!(s > 0) || !Number.isFinite(s)) return null;
  const out: LinearConstraint[] = [];
  for (const c of conj) {
    if (!Array.from(c.coeffs).every((w) => Number.isSafeInteger(w) && Math.abs(w) < 2 ** 20) || !Number.isFinite(c.offset)) return null;
    const sum = c.coeffs.reduce((a, w) => a + w, 0);
    // Largest K with s·K ≤ −o, from the float estimate corrected by exact comparisons.
    let k = Math.floor(-c.offset / s);
    if (!Number.isSafeInteger(k) || Math.abs(k) > 2 ** 40) return null;
    while (!scaledAtMost(s, k, -c.offset)) k--;
    while (scaledAtMost(s, k + 1, -c.offset)) k++;
    const t = k + zp * sum;
    out.push({ coeffs: Float64Array.from(c.coeffs), offset: -t - 0.5 });
  }
  return out;
}
