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
    // A code objective is integral up to the scale; 1e-9 relative to the logit scale separates 0 from a step.
    const tol = 1e-6 * s;
    const r = await solveDisjunct(runtime, withObjective(base, logits, conj, highs.infinity), inputCols, remaining, tol);
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
