/**
 * Complete verification of a float IR by branch and bound on ReLU splits with CROWN bounds (the scheme of Bunel
 * et al. 2020, JMLR 21, with the linear bounds of Xu et al. 2021, "Fast and Complete", arXiv 2011.13824):
 *
 * - a region is the input box restricted by sign splits on some ReLU inputs; its bounds close every disjunct
 *   one of whose constraints has a lower bound > 0, and a region whose splits cross some neuron's bounds is
 *   empty. Intermediate bounds are CROWN's, refined from the parent's (`CrownOptions.refineFrom`); the
 *   specification's bound is alpha-beta-CROWN's (Wang et al. 2021, "Beta-CROWN", arXiv 2103.06624): slopes and
 *   one Lagrange multiplier per split, optimized together (`bounds/alpha.ts`);
 * - an open region is split on the ReLU `chooseBranch` scores highest, into `≥ 0` and `≤ 0` children, depth
 *   first, the child nearer to a counterexample first;
 * - every region's bound-minimizing box corners are tried as counterexamples (re-checked like every other);
 * - a region with no unstable ReLU left is a linear program: it goes to the MILP encoder (`verifyCaseMilp`)
 *   with the region's bounds, which encode the splits exactly (the variables' bounds), so no region is ever
 *   left open for lack of a branching choice.
 *
 * Soundness: each child's region is a subset of its parent's, and every bound over a region is sound (CROWN
 * with rounding margins over clamped intervals, and any β ≥ 0 gives a sound bound), so `unsat` means every
 * region was closed. `sat` only with a counterexample confirmed by `confirmCounterexample`. Intermediate bounds
 * see the splits only through the clamped intervals (beta-CROWN optimizes multipliers for them too).
 */
import { QrobustError } from '../../core/errors.js';
import type { SlopeState } from '../bounds/alpha.js';
import { crownSpecAnalysis, type CrownOptions, type SpecAnalysis } from '../crown.js';
import { checkCounterexample, confirmCounterexample, type ModelCheck } from '../counterexample.js';
import { stepWithoutCompleteMethod, type NetworkIR } from '../ir.js';
import { verifyCaseMilp } from '../milp/verify-milp.js';
import { boundExcludes, type LinearConstraint, type VerificationCase, type VerificationResult } from '../property.js';
import { chooseBranch } from './branch.js';

export interface BabOptions {
  /** Seconds for the case (default 60). */
  readonly timeLimit?: number;
  /** Disjuncts already proved infeasible by a sound method. */
  readonly provedInfeasible?: readonly boolean[];
  /**
   * alpha-beta-CROWN iterations on each region's specification (default 5, warm-started from the parent region's slopes and multipliers): the slopes and the split
   * multipliers are optimized together; 0 is plain CROWN over the clamped intervals, which needs far more regions.
   */
  readonly iterations?: number;
  /**
   * Recompute, in every region, the CROWN bounds of the still-unstable neurons after the split layer (default
   * true); false keeps the parent's intermediate bounds, clamped by the splits (cheaper, looser).
   */
  readonly refineIntermediate?: boolean;
  /** Options for the root region's bounds (its intermediate bounds are what every region refines). */
  readonly crown?: CrownOptions;
  readonly modelCheck?: ModelCheck;
  /** Stop after this many regions (default unlimited): a guard for tests and benchmarks. */
  readonly maxRegions?: number;
}

export interface BabStats {
  /** Regions bounded (the root included). */
  readonly regions: number;
  /** Regions found empty or closed by their bounds. */
  readonly closed: number;
  /** Regions handed to the linear program because no unstable ReLU was left. */
  readonly leaves: number;
  readonly maxDepth: number;
}

export interface BabResult extends VerificationResult {
  readonly stats: BabStats;
}

interface Region {
  readonly splits: Map<number, Int8Array>;
  readonly analysis: SpecAnalysis;
  /** Per disjunct: closed over this region. */
  readonly closed: readonly boolean[];
  /** Rows of the analysis: which disjunct each belongs to, and which constraint of the property it is. */
  readonly rowDisjunct: readonly number[];
  readonly rowKey: readonly number[];
  readonly depth: number;
  /** The smallest, over open disjuncts, of the largest lower bound of its constraints (how near to unsafe). */
  readonly value: number;
}

/** The rows `to` (keys of constraints) of a parent's slopes and multipliers, which hold the rows `from`. */
function selectRows(state: SlopeState, from: readonly number[], to: readonly number[]): SlopeState {
  const index = to.map((k) => from.indexOf(k));
  const pick = (a: Float64Array, width: number): Float64Array => {
    const out = new Float64Array(to.length * width);
    index.forEach((r, t) => {
      if (r >= 0) out.set(a.subarray(r * width, (r + 1) * width), t * width);
    });
    return out;
  };
  return {
    alpha: new Map([...state.alpha].map(([i, a]) => [i, pick(a, a.length / from.length)])),
    beta: new Map([...state.beta].map(([i, b]) => [i, { neurons: b.neurons, beta: pick(b.beta, b.neurons.length) }])),
  };
}

/** Decides one case of a float IR by branch and bound (see the module comment). */
export async function verifyCaseBab(ir: NetworkIR, vcase: VerificationCase, o: BabOptions = {}): Promise<BabResult> {
  const open = stepWithoutCompleteMethod(ir);
  if (open) {
    const what = open.kind === 'smooth' ? 'a sigmoid/tanh' : 'a run-time input quantizer';
    throw new QrobustError('unsupported_layer', `${ir.source}: step '${open.name}' is ${what}; branch and bound splits ReLUs of piecewise-linear networks only`);
  }
  const t0 = performance.now();
  const deadline = t0 + (o.timeLimit ?? 60) * 1000;
  const disjuncts = vcase.unsafe.disjuncts;
  let regions = 0;
  let closedRegions = 0;
  let leaves = 0;
  let maxDepth = 0;
  const result = (r: Omit<VerificationResult, 'seconds'>): BabResult => ({
    ...r,
    seconds: (performance.now() - t0) / 1000,
    stats: { regions, closed: closedRegions, leaves, maxDepth },
  });

  /** Bounds a region; null when it is empty or every disjunct is closed over it. */
  const bound = (splits: Map<number, Int8Array>, closedBefore: readonly boolean[], depth: number, parent: Region | null, refineFrom: number): Region | null => {
    regions++;
    maxDepth = Math.max(maxDepth, depth);
    const rowDisjunct: number[] = [];
    const rowKey: number[] = [];
    const constraints: LinearConstraint[] = [];
    let key = 0;
    disjuncts.forEach((conj, d) => {
      for (const c of conj) {
        if (!closedBefore[d]) {
          rowDisjunct.push(d);
          rowKey.push(key);
          constraints.push(c);
        }
        key++;
      }
    });
    const warm = parent?.analysis.slopes ? selectRows(parent.analysis.slopes, parent.rowKey, rowKey) : undefined;
    const crown: CrownOptions = parent
      ? {
          ...o.crown,
          reuse: parent.analysis.bounds,
          refineFrom: (o.refineIntermediate ?? true) ? refineFrom : Infinity,
          splits,
          alphaIterations: o.iterations ?? 5,
          ...(warm ? { warm } : {}),
        }
      : { ...o.crown, splits, alphaIterations: o.iterations ?? 5 };
    const analysis = crownSpecAnalysis(ir, vcase.input, constraints, crown);
    if (!analysis) {
      closedRegions++;
      return null;
    }
    const closed = [...closedBefore];
    const best = new Map<number, number>();
    rowDisjunct.forEach((d, r) => {
      const l = analysis.lower[r]!;
      if (boundExcludes(constraints[r]!, l)) closed[d] = true;
      best.set(d, Math.max(best.get(d) ?? -Infinity, l));
    });
    if (closed.every(Boolean)) {
      closedRegions++;
      return null;
    }
    let value = Infinity;
    for (const [d, v] of best) if (!closed[d]) value = Math.min(value, v);
    return { splits, analysis, closed, rowDisjunct, rowKey, depth, value };
  };

  /** The region's bound-minimizing corners, checked in float64 first, then confirmed. */
  const tryCorners = async (region: Region): Promise<BabResult | null> => {
    for (const [r, corner] of region.analysis.corners.entries()) {
      if (region.closed[region.rowDisjunct[r]!]) continue;
      if (!checkCounterexample(ir, vcase, corner)) continue;
      const ce = await confirmCounterexample(ir, vcase, corner, o.modelCheck ? { modelCheck: o.modelCheck } : {});
      if (ce) return result({ verdict: 'sat', method: 'bab', counterexample: { input: ce.input, output: ce.output } });
    }
    return null;
  };

  const root = bound(new Map(), disjuncts.map((_, d) => o.provedInfeasible?.[d] ?? false), 0, null, 0);
  if (!root) return result({ verdict: 'unsat', method: 'bab' });
  const rootCe = await tryCorners(root);
  if (rootCe) return rootCe;
  const stack: Region[] = [root];
  while (stack.length) {
    if (performance.now() > deadline) return result({ verdict: 'timeout', method: 'bab', reason: `time limit reached with ${stack.length} regions open` });
    if (o.maxRegions !== undefined && regions >= o.maxRegions) {
      return result({ verdict: 'unknown', method: 'bab', reason: `region limit (${o.maxRegions}) reached with ${stack.length} regions open` });
    }
    const region = stack.pop()!;
    const openRows = region.rowDisjunct.map((_, r) => r).filter((r) => !region.closed[region.rowDisjunct[r]!] && region.analysis.lower[r]! <= 0);
    const choice = chooseBranch(ir, region.analysis.relax, region.analysis.entering, openRows);
    if (!choice) {
      // Every ReLU is stable over the region: a linear program decides it exactly.
      leaves++;
      const left = (deadline - performance.now()) / 1000;
      if (left <= 0) return result({ verdict: 'timeout', method: 'bab', reason: 'time limit reached in a leaf region' });
      const lp = await verifyCaseMilp(ir, vcase, region.analysis.bounds, {
        timeLimit: left,
        provedInfeasible: region.closed,
        ...(o.modelCheck ? { modelCheck: o.modelCheck } : {}),
      });
      if (lp.verdict === 'sat') return result({ verdict: 'sat', method: 'bab', ...(lp.counterexample ? { counterexample: lp.counterexample } : {}) });
      if (lp.verdict !== 'unsat') return result({ verdict: lp.verdict, method: 'bab', reason: `leaf region: ${lp.reason ?? lp.verdict}` });
      closedRegions++;
      continue;
    }
    const key = choice.relu - 1;
    const children: Region[] = [];
    for (const sign of [1, -1] as const) {
      const splits = new Map(region.splits);
      const signs = Int8Array.from(splits.get(key) ?? new Int8Array(region.analysis.bounds.steps[key]!.lower.length));
      signs[choice.neuron] = sign;
      splits.set(key, signs);
      const child = bound(splits, region.closed, region.depth + 1, region, key + 1);
      if (!child) continue;
      const ce = await tryCorners(child);
      if (ce) return ce;
      children.push(child);
    }
    // Depth first; the child nearer to a counterexample (smaller value) is explored first.
    children.sort((a, b) => b.value - a.value);
    stack.push(...children);
  }
  return result({ verdict: 'unsat', method: 'bab' });
}
