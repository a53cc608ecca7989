/**
 * Complete verification of one VerificationCase by mixed-integer programming on HiGHS. The network is encoded
 * once (`encodeNetwork`); each disjunct of the unsafe condition (an AND of constraints c_k·y + o_k ≤ 0) then
 * becomes one MILP that minimizes t = max_k (c_k·y + o_k) (just c·y + o for a single constraint). The disjunct
 * is satisfiable exactly when the minimum is ≤ 0, so the solve stops as soon as either is settled: an incumbent
 * below −tol (a candidate counterexample) or a dual bound above +tol (no counterexample). `objective_bound`
 * prunes every node that cannot reach +tol.
 *
 * Soundness. An LP (no integer column, e.g. a branch-and-bound leaf) is decided by the Neumaier–Shcherbina
 * bound from its row duals (`safe-bound.ts`), which holds exactly. A MILP's `unsat` means HiGHS's dual bound
 * cleared tol (default 1e-6) plus the dual-tolerance slack 2·1e-9·Σ(u − l): it trusts the node LPs to meet
 * HiGHS's tolerances (all set to 1e-9). `sat` is reported only for a point that a float64 forward pass (and the
 * model, when a check is given) confirms; a candidate that fails is repaired by a short local search or the
 * disjunct stays unknown.
 */
import { QrobustError } from '../../core/errors.js';
import { confirmCounterexample, type CheckedCounterexample, type ModelCheck } from '../counterexample.js';
import type { NetworkIR } from '../ir.js';
import type { LinearConstraint, NetworkBounds, VerificationCase, VerificationResult } from '../property.js';
import { linearLowerOverBox } from '../bounds/rounding.js';
import { encodeNetwork, type EncodingStats } from './encode-network.js';
import { safeLpLowerBound } from './safe-bound.js';
import { highsRuntime, type HighsRuntime } from './highs-runtime.js';
import { combine, varExpr, type LinExpr, type MilpData } from './lp-builder.js';

export interface MilpOptions {
  /** Seconds for the whole case (default 60). */
  readonly timeLimit?: number;
  /** The optimum must clear 0 by this much to decide a disjunct (default 1e-6). */
  readonly tolerance?: number;
  /** The order in which disjuncts are tried (e.g. the closest to a counterexample first). */
  readonly order?: readonly number[];
  /** Disjuncts already proved infeasible by a sound method (skipped). */
  readonly provedInfeasible?: readonly boolean[];
  /** The model itself, to re-check counterexamples beyond the float64 IR. */
  readonly modelCheck?: ModelCheck;
  readonly runtime?: HighsRuntime;
}

export type DisjunctOutcome = 'infeasible' | 'feasible' | 'bounds' | 'skipped' | 'timeout' | 'unknown';

export interface MilpResult extends VerificationResult {
  readonly stats: EncodingStats;
  /** Per disjunct: how it was settled (or not). */
  readonly disjuncts: readonly DisjunctOutcome[];
}

/** Lower bound of c·y + o over the output interval, rounded outward (≤ the exact minimum). */
function intervalLower(c: LinearConstraint, lo: Float64Array, hi: Float64Array): number {
  return linearLowerOverBox(c.coeffs, c.offset, lo, hi);
}

/** The base model plus the objective of one disjunct (and, for a conjunction, a column t with its rows). */
export function withObjective(base: MilpData, outputs: readonly LinExpr[], conj: readonly LinearConstraint[], infinity: number): MilpData {
  const exprOf = (c: LinearConstraint): LinExpr =>
    combine(
      Array.from(c.coeffs, (w, i) => ({ expr: outputs[i]!, weight: w })).filter((t) => t.weight !== 0),
      c.offset,
    );
  if (conj.length === 1) {
    const e = exprOf(conj[0]!);
    const cost = new Float64Array(base.numCols);
    e.vars.forEach((v, k) => (cost[v] += e.coefs[k]!));
    return { ...base, colCost: cost, offset: e.constant };
  }
  // minimize t subject to c_k·y + o_k − t ≤ 0.
  const t = base.numCols;
  const numCols = base.numCols + 1;
  const rows = conj.map((c) => combine([{ expr: exprOf(c), weight: 1 }, { expr: varExpr(t), weight: -1 }]));
  const extraNnz = rows.reduce((a, r) => a + r.vars.length, 0);
  const m = base.matrix;
  const starts = new Int32Array(m.starts.length + rows.length);
  starts.set(m.starts);
  const indices = new Int32Array(m.indices.length + extraNnz);
  indices.set(m.indices);
  const values = new Float64Array(m.values.length + extraNnz);
  values.set(m.values);
  let p = m.indices.length;
  rows.forEach((r, k) => {
    r.vars.forEach((v, q) => {
      indices[p] = v;
      values[p++] = r.coefs[q]!;
    });
    starts[m.starts.length + k] = p;
  });
  const grow = (a: Float64Array, extra: number[]): Float64Array => {
    const out = new Float64Array(a.length + extra.length);
    out.set(a);
    out.set(extra, a.length);
    return out;
  };
  const cost = new Float64Array(numCols);
  cost[t] = 1;
  const integrality = new Int32Array(numCols);
  integrality.set(base.integrality);
  // t between max_k of the rows' interval minima and max_k of their maxima over the column bounds (widened): a
  // bounded column, which the safe bound needs, and no feasible optimum is cut off (the optimal t is max_k row_k).
  let tLo = -Infinity;
  let tHi = -Infinity;
  for (const r of rows) {
    let lo = r.constant;
    let hi = r.constant;
    r.vars.forEach((v, q) => {
      if (v === t) return;
      const a = r.coefs[q]!;
      lo += a * (a > 0 ? base.colLower[v]! : base.colUpper[v]!);
      hi += a * (a > 0 ? base.colUpper[v]! : base.colLower[v]!);
    });
    // The rows hold c_k·y + o_k − t: their interval without −t is that of c_k·y + o_k.
    tLo = Math.max(tLo, lo);
    tHi = Math.max(tHi, hi);
  }
  const finite = (v: number): boolean => Number.isFinite(v) && Math.abs(v) < infinity;
  const pad = (v: number): number => 1e-6 * (1 + Math.abs(v));
  return {
    numCols,
    numRows: base.numRows + rows.length,
    offset: 0,
    colCost: cost,
    colLower: grow(base.colLower, [finite(tLo) ? tLo - pad(tLo) : -infinity]),
    colUpper: grow(base.colUpper, [finite(tHi) ? tHi + pad(tHi) : infinity]),
    rowLower: grow(base.rowLower, rows.map(() => -infinity)),
    rowUpper: grow(base.rowUpper, rows.map((r) => -r.constant)),
    matrix: { format: 'csr', numRows: base.numRows + rows.length, numCols, starts, indices, values },
    integrality,
  };
}

/** Above this many integer columns MIP presolve is switched off (see `solveDisjunct`). */
const PRESOLVE_MAX_INTEGERS = 256;

function integerColumns(data: MilpData): number {
  let n = 0;
  for (const t of data.integrality) if (t !== 0) n++;
  return n;
}

/** HiGHS's primal and dual feasibility tolerances, set explicitly (its defaults are 1e-7). */
const FEASIBILITY_TOLERANCE = 1e-9;

/**
 * What a MILP's dual bound must clear besides `tol`: HiGHS's node LPs may leave reduced costs off by its dual
 * tolerance, which moves an LP bound by at most tolerance · Σ_j (u_j − l_j) over the (bounded) columns (the
 * correction of Neumaier and Shcherbina's safe bound, taken for every column at once).
 */
function dualSlack(data: MilpData): number {
  let width = 0;
  for (let j = 0; j < data.numCols; j++) width += data.colUpper[j]! - data.colLower[j]!;
  return Number.isFinite(width) && width < 1e300 ? 2 * FEASIBILITY_TOLERANCE * width : Infinity;
}

export interface SolveOutcome {
  readonly status: 'infeasible' | 'candidate' | 'timeout' | 'unknown';
  readonly candidate?: Float64Array;
  readonly objective?: number;
  readonly dualBound?: number;
  readonly reason?: string;
}

/** Minimizes one disjunct's objective until it is settled, the time runs out, or HiGHS gives up. */
export async function solveDisjunct(runtime: HighsRuntime, data: MilpData, inputVars: readonly number[], seconds: number, tol: number): Promise<SolveOutcome> {
  const highs = await runtime.get();
  const lp = integerColumns(data) === 0;
  // A MILP's dual bound must clear tol by the dual-tolerance slack; an LP is decided by its safe bound instead.
  const proveAbove = lp ? tol : tol + dualSlack(data);
  return runtime.withModel(data, (model) => {
    const cb = highs.constants.callbackType;
    const ms = highs.constants.modelStatus;
    model.options.set({
      output_flag: false,
      time_limit: Math.max(0.05, seconds),
      mip_rel_gap: 0,
      mip_abs_gap: 0,
      mip_feasibility_tolerance: FEASIBILITY_TOLERANCE,
      primal_feasibility_tolerance: FEASIBILITY_TOLERANCE,
      dual_feasibility_tolerance: FEASIBILITY_TOLERANCE,
      // An LP runs to optimality (no objective bound): its row duals give the safe bound.
      ...(lp ? {} : { objective_bound: Math.min(proveAbove, 1e300) }),
      // Measured on the VNN-COMP mnistfc nets (wasm, one thread): the feasibility-jump heuristic spent tens of
      // seconds before the root LP without checking the time limit, and so did presolve's probing with several
      // hundred binaries (256x4: 592), while with ~100 binaries (256x2) presolve cut the CPU time of a proof by a
      // third. Presolve is therefore kept for models with few integer columns only.
      presolve: integerColumns(data) <= PRESOLVE_MAX_INTEGERS ? 'on' : 'off',
      mip_heuristic_run_feasibility_jump: false,
    });
    let incumbent: Float64Array | null = null;
    let incumbentValue = Infinity;
    // HiGHS checks its own time limit only now and then (not inside presolve or a long LP); the callbacks below
    // enforce the deadline at every checkpoint as well.
    const deadline = performance.now() + seconds * 1000;
    const late = (): boolean => performance.now() > deadline;
    let interruptedLate = false;
    const run = model.run({
      [cb.simplexInterrupt](ev) {
        if (late()) {
          interruptedLate = true;
          ev.interrupt();
        }
      },
      [cb.ipmInterrupt](ev) {
        if (late()) {
          interruptedLate = true;
          ev.interrupt();
        }
      },
      [cb.mipImprovingSolution](ev) {
        const v = ev.data.objective_function_value;
        if (v !== undefined && v < incumbentValue && ev.data.mip_solution) {
          incumbentValue = v;
          incumbent = ev.data.mip_solution;
        }
      },
      [cb.mipInterrupt](ev) {
        if (incumbentValue <= -tol || (ev.data.mip_dual_bound ?? -Infinity) > proveAbove) ev.interrupt();
        else if (late()) {
          interruptedLate = true;
          ev.interrupt();
        }
      },
    });
    const status = run.modelStatus;
    let dual = -Infinity;
    try {
      dual = Number(model.info.get('mip_dual_bound'));
    } catch {
      /* not available for this status */
    }
    if (incumbent === null && (status === ms.optimal || status === ms.interrupted || status === ms.timeLimit)) {
      try {
        if (Number(model.info.get('primal_solution_status')) === highs.constants.solutionStatus.feasible) {
          incumbent = model.getSolution().colValue;
          incumbentValue = model.getObjectiveValue();
        }
      } catch {
        /* no primal solution */
      }
    }
    const pick = (sol: Float64Array): Float64Array => Float64Array.from(inputVars, (v) => sol[v]!);
    if (incumbent !== null && incumbentValue <= tol) {
      return { status: 'candidate', candidate: pick(incumbent), objective: incumbentValue, dualBound: dual };
    }
    if (lp) {
      // An LP: `infeasible` from a bound that holds exactly; HiGHS's claim that no point is feasible at all (a
      // branch-and-bound region its splits leave empty) is still trusted.
      if (status === ms.infeasible) return { status: 'infeasible', dualBound: dual };
      if (status === ms.optimal) {
        let safe = -Infinity;
        try {
          safe = safeLpLowerBound(data, model.getSolution().rowDual);
        } catch {
          /* no dual solution */
        }
        if (safe > 0) return { status: 'infeasible', dualBound: safe };
        return { status: 'unknown', dualBound: safe, reason: `the LP optimum ${incumbentValue.toExponential(3)} has the rigorous lower bound ${safe.toExponential(3)}, not above 0` };
      }
    } else if (status === ms.infeasible || status === ms.objectiveBound || dual > proveAbove || (status === ms.optimal && incumbentValue > proveAbove)) {
      return { status: 'infeasible', dualBound: dual };
    }
    if (status === ms.timeLimit || (status === ms.interrupted && interruptedLate)) return { status: 'timeout', dualBound: dual };
    return { status: 'unknown', dualBound: dual, reason: `HiGHS stopped with model status ${status}` };
  });
}

/**
 * Decides one case: `sat` with a re-checked counterexample, `unsat` when every disjunct is infeasible, else
 * `timeout` or `unknown` with the reason.
 * @param bounds sound bounds for `ir` over `vcase.input` (the tighter, the fewer binaries and the smaller M).
 */
export async function verifyCaseMilp(ir: NetworkIR, vcase: VerificationCase, bounds: NetworkBounds, o: MilpOptions = {}): Promise<MilpResult> {
  const t0 = performance.now();
  const deadline = t0 + (o.timeLimit ?? 60) * 1000;
  const tol = o.tolerance ?? 1e-6;
  const runtime = o.runtime ?? highsRuntime;
  const disjuncts = vcase.unsafe.disjuncts;
  const outcomes: DisjunctOutcome[] = disjuncts.map(() => 'unknown');
  const out = bounds.steps[bounds.steps.length - 1] ?? bounds.input;
  if (ir.steps.length === 0 || out.lower.length !== ir.outputSize) {
    throw new QrobustError('invalid_argument', `${ir.source}: the bounds do not describe this network's outputs`);
  }
  const seconds = (): number => (performance.now() - t0) / 1000;
  const enc = encodeNetwork(ir, vcase.input, bounds);
  const highs = await runtime.get();
  const base = enc.builder.toModelData(highs.infinity);
  // Every disjunct is visited: those `order` names first, then any it leaves out, in index order.
  const order = [...new Set([...(o.order ?? []), ...disjuncts.map((_, i) => i)])];
  let timedOut = false;
  let reason: string | undefined;
  for (const d of order) {
    const conj = disjuncts[d]!;
    if (o.provedInfeasible?.[d]) {
      outcomes[d] = 'skipped';
      continue;
    }
    if (conj.some((c) => intervalLower(c, out.lower, out.upper) > 0)) {
      outcomes[d] = 'bounds';
      continue;
    }
    const remaining = (deadline - performance.now()) / 1000;
    if (remaining <= 0) {
      timedOut = true;
      outcomes[d] = 'timeout';
      continue;
    }
    const data = withObjective(base, enc.outputs, conj, highs.infinity);
    const r = await solveDisjunct(runtime, data, enc.inputVars, remaining, tol);
    if (r.status === 'infeasible') {
      outcomes[d] = 'infeasible';
      continue;
    }
    if (r.status === 'candidate') {
      const ce: CheckedCounterexample | null = await confirmCounterexample(ir, vcase, r.candidate!, o.modelCheck ? { modelCheck: o.modelCheck } : {});
      if (ce) {
        outcomes[d] = 'feasible';
        return { verdict: 'sat', counterexample: { input: ce.input, output: ce.output }, method: 'milp', seconds: seconds(), stats: enc.stats, disjuncts: outcomes };
      }
      outcomes[d] = 'unknown';
      reason = `the MILP optimum of disjunct ${d} (${r.objective!.toExponential(3)}) lies within solver tolerance of the boundary and its point fails the float64 re-check`;
      continue;
    }
    if (r.status === 'timeout') {
      timedOut = true;
      outcomes[d] = 'timeout';
      continue;
    }
    outcomes[d] = 'unknown';
    reason = r.reason;
  }
  const settled = outcomes.every((x) => x === 'infeasible' || x === 'bounds' || x === 'skipped');
  if (settled) return { verdict: 'unsat', method: 'milp', seconds: seconds(), stats: enc.stats, disjuncts: outcomes };
  if (timedOut && !reason) return { verdict: 'timeout', method: 'milp', reason: 'time limit reached', seconds: seconds(), stats: enc.stats, disjuncts: outcomes };
  return { verdict: 'unknown', method: 'milp', reason: reason ?? 'undecided', seconds: seconds(), stats: enc.stats, disjuncts: outcomes };
}
