/**
 * Complete verification with Z3: one satisfiability check of "input in the region AND output unsafe" per case.
 * `unsat` is a proof in exact arithmetic (real arithmetic for float IRs, integer arithmetic for integer
 * programs); `sat` comes with Z3's model, which is re-checked concretely before it is reported (the float64 IR
 * and the model for float IRs, the deployed integer program on float32 pixels for integer programs).
 */
import { confirmCounterexample, type ModelCheck } from '../counterexample.js';
import type { NetworkIR } from '../ir.js';
import { checkIntegerCodes, type IntegerVerificationCase } from '../integer/integer-case.js';
import type { IntegerBounds } from '../integer/interval.js';
import type { NetworkBounds, VerificationCase, VerificationResult } from '../property.js';
import { encodeIntegerProgram, type RequantEncoding } from './encode-integer.js';
import { encodeRealNetwork, type RealSemantics } from './encode-real.js';
import { rationalToNumber } from './smtlib.js';
import { withZ3Context } from './z3-runtime.js';

export interface SmtOptions {
  /** Seconds for the check (default 60). */
  readonly timeLimit?: number;
}

export interface RealSmtOptions extends SmtOptions {
  /** Sound bounds for the IR over the box: stable ReLUs then need no case split. */
  readonly bounds?: NetworkBounds;
  readonly modelCheck?: ModelCheck;
  /**
   * 'evaluated' (default): each affine output may deviate from its exact value by its float32 evaluation
   * margin, so `unsat` holds for exact, float64 and float32 evaluation; 'exact': exact real arithmetic only
   * (a cross-check of the other methods' real semantics).
   */
  readonly semantics?: RealSemantics;
}

export interface IntegerSmtOptions extends SmtOptions {
  /** How requantization is written (default 'threshold'). */
  readonly encoding?: RequantEncoding;
  /** Sound bounds for the case (default: interval bounds); `integerCrownBounds` gives tighter ones. */
  readonly bounds?: IntegerBounds;
}

type CheckOutcome = { readonly result: 'sat'; readonly values: bigint[][] } | { readonly result: 'unsat' | 'unknown'; readonly reason?: string };

/** Seconds past the limit after which a check that ignored both its timeout and the interrupt is abandoned. */
const OVERRUN_GRACE = 2;

/**
 * Runs one SMT-LIB script; on sat, returns the (numerator, denominator) of each named constant. The time limit
 * is kept in three layers: Z3's own `timeout`, an interrupt from this thread shortly after it, and, since some
 * of Z3's arithmetic loops check neither (seen on integer programs with 4-bit activations), abandoning the
 * whole wasm instance (its threads are killed and the next check starts a fresh one).
 */
async function check(script: string, names: readonly string[], sort: 'Real' | 'Int', seconds: number): Promise<CheckOutcome> {
  return withZ3Context(async (ctx, _api, abandon) => {
    const solver = new ctx.Solver();
    const deadline = performance.now() + seconds * 1000;
    const timer = setTimeout(() => ctx.interrupt(), Math.max(1, Math.round(seconds * 1000) + 250));
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    let abandoned = false;
    try {
      solver.fromString(script);
      solver.set('timeout', Math.max(1, Math.round(deadline - performance.now())));
      const overrun = new Promise<'overrun'>((resolve) => {
        watchdog = setTimeout(() => resolve('overrun'), Math.max(1, deadline - performance.now()) + OVERRUN_GRACE * 1000);
      });
      const r = await Promise.race([solver.check(), overrun]);
      if (r === 'overrun') {
        abandoned = true;
        await abandon();
        return { result: 'unknown', reason: `timeout (Z3 ignored its limit; stopped ${OVERRUN_GRACE} s after it)` };
      }
      if (r !== 'sat') return r === 'unsat' ? { result: 'unsat' } : { result: 'unknown', reason: solver.reasonUnknown?.() ?? 'unknown' };
      const model = solver.model();
      const values = names.map((n) => {
        const v = model.eval(sort === 'Real' ? ctx.Real.const(n) : ctx.Int.const(n), true) as unknown as { value(): bigint | { numerator: bigint; denominator: bigint } };
        const val = v.value();
        return typeof val === 'bigint' ? [val, 1n] : [val.numerator, val.denominator];
      });
      return { result: 'sat', values };
    } finally {
      clearTimeout(timer);
      clearTimeout(watchdog);
      if (!abandoned) solver.release();
    }
  });
}

function timeoutOrUnknown(reason: string | undefined, seconds: number, limit: number): { verdict: 'timeout' | 'unknown'; reason: string } {
  const r = reason ?? 'unknown';
  return /timeout|canceled|cancelled/i.test(r) || seconds >= limit * 0.98 ? { verdict: 'timeout', reason: `Z3: ${r}` } : { verdict: 'unknown', reason: `Z3: ${r}` };
}

/** Decides a case on a float IR in exact rational arithmetic (with the evaluation margins unless `semantics: 'exact'`). */
export async function verifyCaseSmt(ir: NetworkIR, vcase: VerificationCase, o: RealSmtOptions = {}): Promise<VerificationResult> {
  const t0 = performance.now();
  const limit = o.timeLimit ?? 60;
  const enc = encodeRealNetwork(ir, vcase, o.bounds, o.semantics ?? 'evaluated');
  const out = await check(enc.script, enc.inputNames, 'Real', limit);
  const seconds = (): number => (performance.now() - t0) / 1000;
  if (out.result !== 'sat') {
    if (out.result === 'unsat') return { verdict: 'unsat', method: 'smt', seconds: seconds() };
    return { ...timeoutOrUnknown(out.reason, seconds(), limit), method: 'smt', seconds: seconds() };
  }
  const x = Float64Array.from(out.values, ([n, d]) => rationalToNumber(n!, d!));
  const ce = await confirmCounterexample(ir, vcase, x, o.modelCheck ? { modelCheck: o.modelCheck } : {});
  if (ce) return { verdict: 'sat', counterexample: { input: ce.input, output: ce.output }, method: 'smt', seconds: seconds() };
  return { verdict: 'unknown', method: 'smt', reason: "Z3's model lies on the decision boundary and fails the float64 re-check", seconds: seconds() };
}

/** Decides a case on a deployed integer program, bit-precisely. */
export async function verifyIntegerCaseSmt(icase: IntegerVerificationCase, o: IntegerSmtOptions = {}): Promise<VerificationResult> {
  const t0 = performance.now();
  const limit = o.timeLimit ?? 60;
  const enc = encodeIntegerProgram(icase, o.encoding ?? 'threshold', o.bounds);
  const out = await check(enc.script, enc.inputNames, 'Int', limit);
  const seconds = (): number => (performance.now() - t0) / 1000;
  if (out.result !== 'sat') {
    if (out.result === 'unsat') return { verdict: 'unsat', method: 'smt', seconds: seconds() };
    return { ...timeoutOrUnknown(out.reason, seconds(), limit), method: 'smt', seconds: seconds() };
  }
  const codes = out.values.map(([n]) => Number(n));
  const ce = checkIntegerCodes(icase, codes);
  if (ce) return { verdict: 'sat', counterexample: { input: Float64Array.from(ce.pixels), output: ce.logits }, method: 'smt', seconds: seconds() };
  return { verdict: 'unknown', method: 'smt', reason: "Z3's input codes have no pixel preimage in the box or fail the integer re-check", seconds: seconds() };
}
