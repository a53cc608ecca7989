/**
 * `auto`: cheap sound methods first, a falsifier next, a complete method last, within one time limit per
 * case (the strategy of every competitive verifier since VNN-COMP 2021):
 *
 * 1. interval bounds (IBP): a disjunct with a constraint whose lower bound is > 0 is infeasible;
 * 2. CROWN / alpha-CROWN lower bounds of the property's own constraints (`crownSpecLowerBounds`);
 * 3. an attack: PGD on the IR's margin (float IRs), or the integer program judged on float32 pixels with the
 *    fake-quant IR's gradients (integer programs);
 * 4. the complete method on the disjuncts still open: branch and bound with alpha-beta-CROWN (default for float
 *    IRs of affine and ReLU steps only; it decided the mnistfc instances many times faster than MILP), MILP on HiGHS
 *    (default for fake-quant IRs and for integer programs, bit-precisely there: it decided the mlp-tiny w4a4
 *    cases many times faster than Z3) or SMT on Z3; see docs/verification.md.
 *
 * `unsat` only ever comes from a sound stage (1, 2, 4) and `sat` only with a re-checked counterexample (3, 4);
 * the result names the stage that decided (`method`) and records every stage's time.
 */
import { QrobustError } from '../core/errors.js';
import { verifyCaseBab } from './bab/verify-bab.js';
import { linearLowerOverBox } from './bounds/rounding.js';
import { crownBounds, crownSpecLowerBounds, type CrownOptions } from './crown.js';
import { confirmCounterexample, type ModelCheck } from './counterexample.js';
import { intervalBounds } from './ibp.js';
import { attackIR } from './ir-attack.js';
import type { NetworkIR } from './ir.js';
import { attackInteger } from './integer/attack.js';
import type { IntegerVerificationCase } from './integer/integer-case.js';
import { integerCrownBounds } from './integer/crown-bounds.js';
import { integerIntervalBounds, type IntegerBounds } from './integer/interval.js';
import { integerRelaxation } from './integer/relaxation.js';
import { verifyIntegerCaseMilp } from './milp/verify-integer-milp.js';
import { verifyCaseMilp } from './milp/verify-milp.js';
import { boundExcludes, type LinearConstraint, type NetworkBounds, type VerificationCase, type VerificationProblem, type VerificationResult } from './property.js';
import type { RequantEncoding } from './smt/encode-integer.js';
import { verifyCaseSmt, verifyIntegerCaseSmt } from './smt/verify-smt.js';

/** 'bab': branch and bound with alpha-beta-CROWN (float IRs only; integer programs use 'milp' or 'smt'). */
export type CompleteMethod = 'milp' | 'smt' | 'bab';

export interface StageRecord {
  readonly stage: string;
  readonly seconds: number;
  /** What the stage established, e.g. "3/9 disjuncts infeasible" or "counterexample". */
  readonly outcome: string;
}

export interface AutoResult extends VerificationResult {
  readonly stages: readonly StageRecord[];
}

export interface AutoOptions {
  /** Seconds per case (default 60). */
  readonly timeLimit?: number;
  readonly seed?: number;
  /** The complete method (default 'bab' for affine + ReLU IRs, else 'milp'; 'milp' for integer programs); 'none' stops after the attack. */
  readonly complete?: CompleteMethod | 'none';
  /** Skip the attack stage. */
  readonly noAttack?: boolean;
  /** Stop after this bound stage (its verdict or `unknown`): the single-method modes of `qrobust verify`. */
  readonly upTo?: 'ibp' | 'crown';
  readonly crown?: CrownOptions;
  /** The model itself, for re-checking counterexamples of float IRs. */
  readonly modelCheck?: ModelCheck;
}

export interface IntegerAutoOptions extends Omit<AutoOptions, 'modelCheck' | 'crown'> {
  /** The fake-quant IR of the same model: its straight-through gradients guide the attack. */
  readonly guide?: NetworkIR;
  /** Requantization encoding for SMT (default 'threshold'). */
  readonly encoding?: RequantEncoding;
}

/** Lower bound of c·y + o over an output box, rounded outward (≤ the exact minimum). */
function boxLower(c: LinearConstraint, lo: ArrayLike<number>, hi: ArrayLike<number>): number {
  return linearLowerOverBox(c.coeffs, c.offset, lo, hi);
}

function countTrue(a: readonly boolean[]): number {
  return a.filter(Boolean).length;
}

/** Decides one case of a float IR. */
export async function verifyCaseAuto(ir: NetworkIR, vcase: VerificationCase, o: AutoOptions = {}): Promise<AutoResult> {
  const t0 = performance.now();
  const limit = o.timeLimit ?? 60;
  const deadline = t0 + limit * 1000;
  const stages: StageRecord[] = [];
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const disjuncts = vcase.unsafe.disjuncts;
  const closed = disjuncts.map(() => false);
  let st = performance.now();
  const mark = (stage: string, outcome: string): void => {
    stages.push({ stage, seconds: (performance.now() - st) / 1000, outcome });
    st = performance.now();
  };
  const done = (r: Omit<AutoResult, 'stages' | 'seconds'>): AutoResult => ({ ...r, seconds: elapsed(), stages });

  // 1. Interval bounds.
  const ibp = intervalBounds(ir, vcase.input);
  const out = ibp.steps[ibp.steps.length - 1]!;
  disjuncts.forEach((conj, d) => {
    if (conj.some((c) => boundExcludes(c, boxLower(c, out.lower, out.upper)))) closed[d] = true;
  });
  mark('ibp', `${countTrue(closed)}/${disjuncts.length} disjuncts infeasible`);
  if (closed.every(Boolean)) return done({ verdict: 'unsat', method: 'ibp' });
  if (o.upTo === 'ibp') return done({ verdict: 'unknown', method: 'ibp', reason: 'interval bounds do not decide it' });

  // 2. CROWN on the property's constraints (those of open disjuncts).
  const rows: { d: number; c: LinearConstraint }[] = [];
  disjuncts.forEach((conj, d) => {
    if (!closed[d]) for (const c of conj) rows.push({ d, c });
  });
  const lower = crownSpecLowerBounds(ir, vcase.input, rows.map((r) => r.c), o.crown);
  rows.forEach((r, k) => {
    if (boundExcludes(r.c, lower[k]!)) closed[r.d] = true;
  });
  mark('crown', `${countTrue(closed)}/${disjuncts.length} disjuncts infeasible`);
  if (closed.every(Boolean)) return done({ verdict: 'unsat', method: 'crown' });
  if (o.upTo === 'crown') return done({ verdict: 'unknown', method: 'crown', reason: 'CROWN bounds do not decide it' });

  // 3. Attack.
  let order = disjuncts.map((_, d) => d);
  if (!o.noAttack) {
    const openCase: VerificationCase = { input: vcase.input, unsafe: { disjuncts: disjuncts.filter((_, d) => !closed[d]) } };
    const atk = attackIR(ir, openCase, { seed: o.seed ?? 0, deadline: Math.min(deadline, performance.now() + Math.max(1000, limit * 100)) });
    if (atk.counterexample) {
      const ce = await confirmCounterexample(ir, vcase, atk.counterexample.input, o.modelCheck ? { modelCheck: o.modelCheck } : {});
      if (ce) {
        mark('attack', 'counterexample');
        return done({ verdict: 'sat', method: 'attack', counterexample: { input: ce.input, output: ce.output } });
      }
    }
    // Open disjuncts closest to a counterexample first.
    const openIdx = disjuncts.map((_, d) => d).filter((d) => !closed[d]);
    const value = new Map(openIdx.map((d, k) => [d, atk.disjunctValues[k]!]));
    order = [...openIdx].sort((a, b) => value.get(a)! - value.get(b)!);
    mark('attack', `none (best margin ${atk.bestMargin.toPrecision(3)})`);
  }
  if (o.complete === 'none') return done({ verdict: 'unknown', method: 'auto', reason: 'no complete method run' });
  const smooth = ir.steps.find((st) => st.kind === 'smooth');
  if (smooth && o.complete === undefined) {
    return done({ verdict: 'unknown', method: 'auto', reason: `no complete method for ${smooth.kind === 'smooth' ? smooth.fn : 'smooth'} steps (bounds and the attack only)` });
  }
  const remaining = (deadline - performance.now()) / 1000;
  if (remaining <= 0) return done({ verdict: 'timeout', method: 'auto', reason: 'time limit reached before the complete method' });

  // 4. Complete method.
  // Branch and bound by default on affine + ReLU networks; MILP where max-pooling or fake-quant steps are (branch
  // and bound splits only ReLUs, so their relaxations would stay loose until a leaf).
  const complete = o.complete ?? (ir.steps.every((st) => st.kind === 'affine' || st.kind === 'relu') ? 'bab' : 'milp');
  let r: VerificationResult;
  if (complete === 'bab') {
    r = await verifyCaseBab(ir, vcase, { timeLimit: remaining, provedInfeasible: closed, ...(o.crown ? { crown: o.crown } : {}), ...(o.modelCheck ? { modelCheck: o.modelCheck } : {}) });
  } else if (complete === 'milp') {
    const bounds: NetworkBounds = crownBounds(ir, vcase.input, o.crown);
    r = await verifyCaseMilp(ir, vcase, bounds, { timeLimit: (deadline - performance.now()) / 1000, order, provedInfeasible: closed, ...(o.modelCheck ? { modelCheck: o.modelCheck } : {}) });
  } else {
    const open: VerificationCase = { input: vcase.input, unsafe: { disjuncts: disjuncts.filter((_, d) => !closed[d]) } };
    r = await verifyCaseSmt(ir, open, { timeLimit: remaining, bounds: ibp, ...(o.modelCheck ? { modelCheck: o.modelCheck } : {}) });
  }
  mark(complete, r.verdict + (r.reason ? ` (${r.reason})` : ''));
  // A strict constraint (VNN-LIB `<`, `>`) met with equality is no counterexample, nor is the excluded end of an
  // open side of the box, but only exact arithmetic can
  // prove that nothing better exists: bounds are widened by rounding margins and MILP has tolerances. In auto
  // mode, a case they leave undecided and that has strict constraints goes to exact SMT with the time left.
  const openBox = [vcase.input.openLower, vcase.input.openUpper].some((a) => a?.some((v) => v === 1));
  const strict = openBox || disjuncts.some((conj, d) => !closed[d] && conj.some((c) => c.strict));
  const left = (deadline - performance.now()) / 1000;
  if (r.verdict === 'unknown' && strict && o.complete === undefined && complete !== 'smt' && left > 0) {
    const open: VerificationCase = { input: vcase.input, unsafe: { disjuncts: disjuncts.filter((_, d) => !closed[d]) } };
    const exact = await verifyCaseSmt(ir, open, { timeLimit: left, bounds: ibp, ...(o.modelCheck ? { modelCheck: o.modelCheck } : {}) });
    mark('smt', exact.verdict + (exact.reason ? ` (${exact.reason})` : ''));
    if (exact.verdict === 'sat' || exact.verdict === 'unsat') return done({ ...exact, method: 'smt' });
  }
  return done({ ...r, method: r.verdict === 'sat' || r.verdict === 'unsat' ? complete : r.method });
}

/**
 * Decides a VNN-LIB problem (a disjunction of cases): `sat` as soon as one case is sat, `unsat` when every case
 * is, else the first undecided case's verdict. The time limit covers the whole problem.
 */
export async function verifyProblemAuto(ir: NetworkIR, problem: VerificationProblem, o: AutoOptions = {}): Promise<AutoResult> {
  const t0 = performance.now();
  const limit = o.timeLimit ?? 60;
  const stages: StageRecord[] = [];
  let undecided: AutoResult | null = null;
  let lastMethod = 'auto';
  for (const [k, c] of problem.cases.entries()) {
    const left = limit - (performance.now() - t0) / 1000;
    if (left <= 0) {
      undecided ??= { verdict: 'timeout', method: 'auto', reason: `time limit reached before case ${k}`, seconds: 0, stages: [] };
      break;
    }
    const r = await verifyCaseAuto(ir, c, { ...o, timeLimit: left });
    stages.push(...r.stages.map((s) => (problem.cases.length > 1 ? { ...s, stage: `case ${k}: ${s.stage}` } : s)));
    if (r.verdict === 'sat') return { ...r, seconds: (performance.now() - t0) / 1000, stages };
    if (r.verdict !== 'unsat') undecided ??= r;
    else lastMethod = r.method;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (undecided) return { ...undecided, seconds, stages };
  return { verdict: 'unsat', method: problem.cases.length === 1 ? lastMethod : 'auto', seconds, stages };
}

/** Decides one case of a deployed integer program, bit-precisely. */
export async function verifyIntegerCaseAuto(icase: IntegerVerificationCase, o: IntegerAutoOptions = {}): Promise<AutoResult> {
  const t0 = performance.now();
  const limit = o.timeLimit ?? 60;
  const deadline = t0 + limit * 1000;
  const stages: StageRecord[] = [];
  let st = performance.now();
  const mark = (stage: string, outcome: string): void => {
    stages.push({ stage, seconds: (performance.now() - st) / 1000, outcome });
    st = performance.now();
  };
  const done = (r: Omit<AutoResult, 'stages' | 'seconds'>): AutoResult => ({ ...r, seconds: (performance.now() - t0) / 1000, stages });
  if (o.complete === 'bab') throw new QrobustError('invalid_argument', 'branch and bound (bab) verifies float networks; integer programs use milp or smt');
  const prog = icase.program;
  const disjuncts = icase.unsafe.disjuncts;
  // 1. Exact integer interval bounds on the output codes, dequantized.
  const s = prog.output.scale[0]!;
  const zp = prog.output.zeroPoint[0]!;
  const closeWith = (b: IntegerBounds): void => {
    const outB = b.ops[b.ops.length - 1]!;
    const lo = Array.from(outB.lower, (q) => s * (q - zp));
    const hi = Array.from(outB.upper, (q) => s * (q - zp));
    disjuncts.forEach((conj, d) => {
      if (conj.some((c) => boundExcludes(c, boxLower(c, lo, hi)))) closed[d] = true;
    });
  };
  const closed = disjuncts.map(() => false);
  closeWith(integerIntervalBounds(prog, icase.codes));
  mark('interval', `${countTrue(closed)}/${disjuncts.length} disjuncts infeasible`);
  if (closed.every(Boolean)) return done({ verdict: 'unsat', method: 'interval' });
  if (o.upTo === 'ibp') return done({ verdict: 'unknown', method: 'interval', reason: 'interval bounds do not decide it' });
  // 2. CROWN on the program's real relaxation: tighter code bounds, and the property's own constraints.
  const bounds = integerCrownBounds(prog, icase.codes);
  closeWith(bounds);
  const relax = integerRelaxation(prog, icase.codes);
  const rows: { d: number; c: LinearConstraint }[] = [];
  disjuncts.forEach((conj, d) => {
    if (closed[d]) return;
    // c·y + o with y = s·(q − zp): coefficients c·s on the codes, offset o − s·zp·Σc.
    for (const c of conj) rows.push({ d, c: { coeffs: c.coeffs.map((w) => w * s), offset: c.offset - s * zp * c.coeffs.reduce((a, w) => a + w, 0), ...(c.strict ? { strict: true } : {}) } });
  });
  // Per disjunct, the largest CROWN lower bound of its constraints: the smaller, the more room for a
  // counterexample, so the complete method tries those disjuncts first.
  const promise = disjuncts.map(() => -Infinity);
  if (rows.length) {
    const lower = crownSpecLowerBounds(relax.ir, relax.box, rows.map((r) => r.c));
    rows.forEach((r, k) => {
      if (boundExcludes(r.c, lower[k]!)) closed[r.d] = true;
      promise[r.d] = Math.max(promise[r.d]!, lower[k]!);
    });
  }
  mark('crown', `${countTrue(closed)}/${disjuncts.length} disjuncts infeasible`);
  if (closed.every(Boolean)) return done({ verdict: 'unsat', method: 'crown' });
  if (o.upTo === 'crown') return done({ verdict: 'unknown', method: 'crown', reason: 'CROWN bounds do not decide it' });
  // The exact encodings model no int32 wrap-around: with an accumulator that may wrap (after CROWN's tighter
  // ranges), only the attack can still decide the case.
  const wraps = bounds.ops.reduce((n, b) => n + (b.wraps ?? 0), 0);
  const openIdx = disjuncts.map((_, d) => d).filter((d) => !closed[d]);
  const open: IntegerVerificationCase = { ...icase, unsafe: { disjuncts: openIdx.map((d) => disjuncts[d]!) } };
  const order = openIdx.map((_, k) => k).sort((a, b) => promise[openIdx[a]!]! - promise[openIdx[b]!]! || a - b);
  // 2. Attack on the deployed program.
  if (!o.noAttack && o.guide) {
    const atk = attackInteger(open, o.guide, { seed: o.seed ?? 0, order, deadline: Math.min(deadline, performance.now() + Math.max(1000, limit * 100)) });
    if (atk.counterexample) {
      mark('attack', 'counterexample');
      return done({ verdict: 'sat', method: 'attack', counterexample: { input: Float64Array.from(atk.counterexample.pixels), output: atk.counterexample.logits } });
    }
    mark('attack', `none (best margin ${atk.bestMargin.toPrecision(3)})`);
  }
  if (o.complete === 'none') return done({ verdict: 'unknown', method: 'auto', reason: 'no complete method run' });
  if (wraps > 0) {
    return done({ verdict: 'unknown', method: 'auto', reason: `${wraps} accumulator(s) may wrap around in int32 over the box; the bit-precise encodings do not model wrap-around` });
  }
  const remaining = (deadline - performance.now()) / 1000;
  if (remaining <= 0) return done({ verdict: 'timeout', method: 'auto', reason: 'time limit reached before the complete method' });
  // 3. Complete, bit-precise.
  const complete = o.complete ?? 'milp';
  const r =
    complete === 'smt'
      ? await verifyIntegerCaseSmt(open, { timeLimit: remaining, bounds, ...(o.encoding ? { encoding: o.encoding } : {}) })
      : await verifyIntegerCaseMilp(open, { timeLimit: remaining, bounds, order });
  mark(complete, r.verdict + (r.reason ? ` (${r.reason})` : ''));
  return done({ ...r });
}
