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
 * the result names the stage that decided (`method`) and records every stage's time. Both pipelines are stage
 * lists run on one clock per case (`auto-stages.ts`).
 */
import { QrobustError } from '../core/errors.js';
import { runStages, StageClock, type AutoResult, type Stage, type StageOutcome, type StageRecord } from './auto-stages.js';
import { verifyCaseBab } from './bab/verify-bab.js';
import { linearLowerOverBox } from './bounds/rounding.js';
import { crownBounds, crownSpecLowerBounds, type CrownOptions } from './crown.js';
import { confirmCounterexample, type ModelCheck } from './counterexample.js';
import { intervalBounds } from './ibp.js';
import { attackIR } from './ir-attack.js';
import { stepWithoutCompleteMethod, type NetworkIR } from './ir.js';
import { attackInteger } from './integer/attack.js';
import type { IntegerVerificationCase } from './integer/integer-case.js';
import { integerCrownBounds } from './integer/crown-bounds.js';
import { integerIntervalBounds, type IntegerBounds } from './integer/interval.js';
import type { IntegerRelaxation } from './integer/relaxation.js';
import { integerRelaxation } from './integer/relaxation.js';
import { verifyIntegerCaseMilp } from './milp/verify-integer-milp.js';
import { verifyCaseMilp } from './milp/verify-milp.js';
import { boundExcludes, type LinearConstraint, type NetworkBounds, type VerificationCase, type VerificationProblem, type VerificationResult } from './property.js';
import type { RequantEncoding } from './smt/encode-integer.js';
import { verifyCaseSmt, verifyIntegerCaseSmt } from './smt/verify-smt.js';

/** 'bab': branch and bound with alpha-beta-CROWN (float IRs only; integer programs use 'milp' or 'smt'). */
export type CompleteMethod = 'milp' | 'smt' | 'bab';

export type { AutoResult, StageRecord } from './auto-stages.js';

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
/** What the float pipeline's stages share. */
interface FloatContext {
  readonly ir: NetworkIR;
  readonly vcase: VerificationCase;
  readonly o: AutoOptions;
  readonly closed: boolean[];
  /** Open disjuncts in the order the complete method tries them (closest to a counterexample first). */
  order: number[];
  ibp?: NetworkBounds;
  complete?: CompleteMethod;
  completed?: VerificationResult;
}

const closedNote = (closed: readonly boolean[]): string => `${countTrue(closed)}/${closed.length} disjuncts infeasible`;

function openCase(c: FloatContext): VerificationCase {
  return { input: c.vcase.input, unsafe: { disjuncts: c.vcase.unsafe.disjuncts.filter((_, d) => !c.closed[d]) } };
}

/** 1-2. A bound stage: close the disjuncts it excludes; unsat when all are; unknown when the mode stops here. */
function boundOutcome(closed: readonly boolean[], method: string, upTo: boolean, reason: string): StageOutcome {
  const note = closedNote(closed);
  if (closed.every(Boolean)) return { note, result: { verdict: 'unsat', method } };
  return upTo ? { note, result: { verdict: 'unknown', method, reason } } : { note };
}

const FLOAT_STAGES: readonly Stage<FloatContext>[] = [
  {
    name: 'ibp',
    run: (c) => {
      const ibp = intervalBounds(c.ir, c.vcase.input);
      c.ibp = ibp;
      const out = ibp.steps[ibp.steps.length - 1]!;
      c.vcase.unsafe.disjuncts.forEach((conj, d) => {
        if (conj.some((k) => boundExcludes(k, boxLower(k, out.lower, out.upper)))) c.closed[d] = true;
      });
      return boundOutcome(c.closed, 'ibp', c.o.upTo === 'ibp', 'interval bounds do not decide it');
    },
  },
  {
    name: 'crown',
    run: (c) => {
      const rows: { d: number; k: LinearConstraint }[] = [];
      c.vcase.unsafe.disjuncts.forEach((conj, d) => {
        if (!c.closed[d]) for (const k of conj) rows.push({ d, k });
      });
      const lower = crownSpecLowerBounds(c.ir, c.vcase.input, rows.map((r) => r.k), c.o.crown);
      rows.forEach((r, i) => {
        if (boundExcludes(r.k, lower[i]!)) c.closed[r.d] = true;
      });
      return boundOutcome(c.closed, 'crown', c.o.upTo === 'crown', 'CROWN bounds do not decide it');
    },
  },
  {
    name: 'attack',
    run: async (c, clock) => {
      if (c.o.noAttack) return { note: null };
      const atk = attackIR(c.ir, openCase(c), { seed: c.o.seed ?? 0, deadline: clock.attackDeadline() });
      if (atk.counterexample) {
        const ce = await confirmCounterexample(c.ir, c.vcase, atk.counterexample.input, c.o.modelCheck ? { modelCheck: c.o.modelCheck } : {});
        if (ce) return { note: 'counterexample', result: { verdict: 'sat', method: 'attack', counterexample: { input: ce.input, output: ce.output } } };
      }
      const openIdx = c.vcase.unsafe.disjuncts.map((_, d) => d).filter((d) => !c.closed[d]);
      const value = new Map(openIdx.map((d, k) => [d, atk.disjunctValues[k]!]));
      c.order = [...openIdx].sort((a, b) => value.get(a)! - value.get(b)!);
      return { note: `none (best margin ${atk.bestMargin.toPrecision(3)})` };
    },
  },
  {
    name: 'before-complete',
    run: (c, clock) => {
      if (c.o.complete === 'none') return { note: null, result: { verdict: 'unknown', method: 'auto', reason: 'no complete method run' } };
      const open = stepWithoutCompleteMethod(c.ir);
      if (open && c.o.complete === undefined) {
        const what = open.kind === 'smooth' ? `${open.fn} steps` : 'run-time input quantizers';
        return { note: null, result: { verdict: 'unknown', method: 'auto', reason: `no complete method for ${what} (bounds and the attack only)` } };
      }
      if (clock.remaining() <= 0) return { note: null, result: { verdict: 'timeout', method: 'auto', reason: 'time limit reached before the complete method' } };
      return { note: null };
    },
  },
  {
    name: 'complete',
    run: async (c, clock) => {
      // Branch and bound by default on affine + ReLU networks; MILP where max-pooling or fake-quant steps are
      // (branch and bound splits only ReLUs, so their relaxations would stay loose until a leaf).
      const chosen = c.o.complete === 'none' ? undefined : c.o.complete;
      const complete: CompleteMethod = chosen ?? (c.ir.steps.every((st) => st.kind === 'affine' || st.kind === 'relu') ? 'bab' : 'milp');
      const remaining = clock.remaining();
      const check = c.o.modelCheck ? { modelCheck: c.o.modelCheck } : {};
      let r: VerificationResult;
      if (complete === 'bab') {
        r = await verifyCaseBab(c.ir, c.vcase, { timeLimit: remaining, provedInfeasible: c.closed, ...(c.o.crown ? { crown: c.o.crown } : {}), ...check });
      } else if (complete === 'milp') {
        const bounds: NetworkBounds = crownBounds(c.ir, c.vcase.input, c.o.crown);
        r = await verifyCaseMilp(c.ir, c.vcase, bounds, { timeLimit: clock.remaining(), order: c.order, provedInfeasible: c.closed, ...check });
      } else {
        r = await verifyCaseSmt(c.ir, openCase(c), { timeLimit: remaining, bounds: c.ibp!, ...check });
      }
      c.complete = complete;
      c.completed = r;
      return { note: r.verdict + (r.reason ? ` (${r.reason})` : ''), as: complete };
    },
  },
  {
    // A strict constraint (VNN-LIB `<`, `>`) met with equality is no counterexample, nor is the excluded end of an
    // open side of the box, but only exact arithmetic can prove that nothing better exists: bounds are widened by
    // rounding margins and MILP has tolerances. A case they leave undecided that has strict constraints goes to
    // exact SMT with the time left.
    name: 'smt',
    run: async (c, clock) => {
      const input = c.vcase.input;
      const openBox = [input.openLower, input.openUpper].some((a) => a?.some((v) => v === 1));
      const strict = openBox || c.vcase.unsafe.disjuncts.some((conj, d) => !c.closed[d] && conj.some((k) => k.strict));
      const left = clock.remaining();
      if (!(c.completed!.verdict === 'unknown' && strict && c.o.complete === undefined && c.complete !== 'smt' && left > 0)) return { note: null };
      const exact = await verifyCaseSmt(c.ir, openCase(c), { timeLimit: left, bounds: c.ibp!, ...(c.o.modelCheck ? { modelCheck: c.o.modelCheck } : {}) });
      const note = exact.verdict + (exact.reason ? ` (${exact.reason})` : '');
      return exact.verdict === 'sat' || exact.verdict === 'unsat' ? { note, result: { ...exact, method: 'smt' } } : { note };
    },
  },
];

export async function verifyCaseAuto(ir: NetworkIR, vcase: VerificationCase, o: AutoOptions = {}): Promise<AutoResult> {
  const clock = new StageClock(o.timeLimit ?? 60);
  const ctx: FloatContext = { ir, vcase, o, closed: vcase.unsafe.disjuncts.map(() => false), order: vcase.unsafe.disjuncts.map((_, d) => d) };
  return runStages(FLOAT_STAGES, ctx, clock, () => {
    const r = ctx.completed!;
    return { ...r, method: r.verdict === 'sat' || r.verdict === 'unsat' ? ctx.complete! : r.method };
  });
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

/** What the integer pipeline's stages share. */
interface IntegerContext {
  readonly icase: IntegerVerificationCase;
  readonly o: IntegerAutoOptions;
  readonly closed: boolean[];
  bounds?: IntegerBounds;
  /** Per disjunct, the largest CROWN lower bound of its constraints (the smaller, the more promising). */
  promise?: number[];
  open?: IntegerVerificationCase;
  order?: number[];
  /** Accumulators that may wrap around in int32 over the box, after CROWN's ranges. */
  wraps?: number;
}

/** Closes the disjuncts that the output code bounds exclude (dequantized). */
function closeByCodes(c: IntegerContext, b: IntegerBounds): void {
  const prog = c.icase.program;
  const s = prog.output.scale[0]!;
  const zp = prog.output.zeroPoint[0]!;
  const outB = b.ops[b.ops.length - 1]!;
  const lo = Array.from(outB.lower, (q) => s * (q - zp));
  const hi = Array.from(outB.upper, (q) => s * (q - zp));
  c.icase.unsafe.disjuncts.forEach((conj, d) => {
    if (conj.some((k) => boundExcludes(k, boxLower(k, lo, hi)))) c.closed[d] = true;
  });
}

/** The property's constraints on the output codes: c·y + o with y = s·(q − zp). */
function codeRows(c: IntegerContext): { d: number; k: LinearConstraint }[] {
  const s = c.icase.program.output.scale[0]!;
  const zp = c.icase.program.output.zeroPoint[0]!;
  const rows: { d: number; k: LinearConstraint }[] = [];
  c.icase.unsafe.disjuncts.forEach((conj, d) => {
    if (c.closed[d]) return;
    for (const k of conj) rows.push({ d, k: { coeffs: k.coeffs.map((w) => w * s), offset: k.offset - s * zp * k.coeffs.reduce((a, w) => a + w, 0), ...(k.strict ? { strict: true } : {}) } });
  });
  return rows;
}

const INTEGER_STAGES: readonly Stage<IntegerContext>[] = [
  {
    // 1. Exact integer interval bounds on the output codes.
    name: 'interval',
    run: (c) => {
      closeByCodes(c, integerIntervalBounds(c.icase.program, c.icase.codes));
      return boundOutcome(c.closed, 'interval', c.o.upTo === 'ibp', 'interval bounds do not decide it');
    },
  },
  {
    // 2. CROWN on the program's real relaxation: tighter code bounds, and the property's own constraints.
    name: 'crown',
    run: (c) => {
      const bounds = integerCrownBounds(c.icase.program, c.icase.codes);
      c.bounds = bounds;
      closeByCodes(c, bounds);
      const relax: IntegerRelaxation = integerRelaxation(c.icase.program, c.icase.codes);
      const rows = codeRows(c);
      const promise = c.icase.unsafe.disjuncts.map(() => -Infinity);
      if (rows.length) {
        const lower = crownSpecLowerBounds(relax.ir, relax.box, rows.map((r) => r.k));
        rows.forEach((r, i) => {
          if (boundExcludes(r.k, lower[i]!)) c.closed[r.d] = true;
          promise[r.d] = Math.max(promise[r.d]!, lower[i]!);
        });
      }
      c.promise = promise;
      return boundOutcome(c.closed, 'crown', c.o.upTo === 'crown', 'CROWN bounds do not decide it');
    },
  },
  {
    // 3. An attack on the deployed program, guided by the fake-quant IR's gradients.
    name: 'attack',
    run: (c, clock) => {
      const disjuncts = c.icase.unsafe.disjuncts;
      c.wraps = c.bounds!.ops.reduce((n, b) => n + (b.wraps ?? 0), 0);
      const openIdx = disjuncts.map((_, d) => d).filter((d) => !c.closed[d]);
      c.open = { ...c.icase, unsafe: { disjuncts: openIdx.map((d) => disjuncts[d]!) } };
      c.order = openIdx.map((_, k) => k).sort((a, b) => c.promise![openIdx[a]!]! - c.promise![openIdx[b]!]! || a - b);
      if (c.o.noAttack || !c.o.guide) return { note: null };
      const atk = attackInteger(c.open, c.o.guide, { seed: c.o.seed ?? 0, order: c.order, deadline: clock.attackDeadline() });
      if (atk.counterexample) {
        return { note: 'counterexample', result: { verdict: 'sat', method: 'attack', counterexample: { input: Float64Array.from(atk.counterexample.pixels), output: atk.counterexample.logits } } };
      }
      return { note: `none (best margin ${atk.bestMargin.toPrecision(3)})` };
    },
  },
  {
    name: 'before-complete',
    run: (c, clock) => {
      if (c.o.complete === 'none') return { note: null, result: { verdict: 'unknown', method: 'auto', reason: 'no complete method run' } };
      // The exact encodings model no int32 wrap-around: only the attack can decide such a case.
      if (c.wraps! > 0) {
        return { note: null, result: { verdict: 'unknown', method: 'auto', reason: `${c.wraps} accumulator(s) may wrap around in int32 over the box; the bit-precise encodings do not model wrap-around` } };
      }
      if (clock.remaining() <= 0) return { note: null, result: { verdict: 'timeout', method: 'auto', reason: 'time limit reached before the complete method' } };
      return { note: null };
    },
  },
  {
    // 4. Complete, bit-precise.
    name: 'complete',
    run: async (c, clock) => {
      const complete = c.o.complete === 'smt' ? 'smt' : 'milp';
      const r =
        complete === 'smt'
          ? await verifyIntegerCaseSmt(c.open!, { timeLimit: clock.remaining(), bounds: c.bounds!, ...(c.o.encoding ? { encoding: c.o.encoding } : {}) })
          : await verifyIntegerCaseMilp(c.open!, { timeLimit: clock.remaining(), bounds: c.bounds!, order: c.order! });
      return { note: r.verdict + (r.reason ? ` (${r.reason})` : ''), as: complete, result: { ...r } };
    },
  },
];

/** Decides one case of a deployed integer program, bit-precisely. */
export async function verifyIntegerCaseAuto(icase: IntegerVerificationCase, o: IntegerAutoOptions = {}): Promise<AutoResult> {
  if (o.complete === 'bab') throw new QrobustError('invalid_argument', 'branch and bound (bab) verifies float networks; integer programs use milp or smt');
  const clock = new StageClock(o.timeLimit ?? 60);
  const ctx: IntegerContext = { icase, o, closed: icase.unsafe.disjuncts.map(() => false) };
  return runStages(INTEGER_STAGES, ctx, clock, () => ({ verdict: 'unknown', method: 'auto', reason: 'no stage decided' }));
}
