/**
 * CROWN-style bounds (Zhang et al. 2018, "Efficient Neural Network Robustness Certification with General
 * Activation Functions", arXiv 1811.00866; the same back-substitution as DeepPoly, Singh et al. 2019, "An
 * Abstract Domain for Certifying Neural Networks", POPL), with optional alpha-CROWN slope optimization for the
 * final specification (Xu et al. 2021, "Fast and Complete", arXiv 2011.13824).
 *
 * Steps are visited in order. Every step's output gets interval bounds from its (already tightened) input;
 * each affine step that feeds a non-linear step, and the last one, is then tightened by back-substituting
 * ±e_j for each of its neurons to the input (`bounds/backward.ts`) and intersecting with the interval bounds.
 * Once a non-linear step's input bounds are final its relaxation is fixed (`bounds/relaxation.ts`).
 *
 * `crownSpecLowerBounds` bounds the specification C·y + d directly by back-substituting the rows of C, which is
 * much tighter than combining bounds of y. All bounds include the float64 rounding margins of `bounds/`.
 */
import { QrobustError } from '../core/errors.js';
import { stepInSize, stepOutSize, validateIR, type NetworkIR } from './ir.js';
import { checkBox, intervalStep } from './ibp.js';
import type { Box, Interval, LinearConstraint, NetworkBounds } from './property.js';
import { optimizeAlpha, type AlphaOptions, type SlopeState } from './bounds/alpha.js';
import { coefficient, concretizeLower, makeRows, type LinearRows } from './bounds/backward.js';
import { BoundContext } from './bounds/context.js';
import { relaxStep, type Relaxation } from './bounds/relaxation.js';
import { roundDown } from './bounds/rounding.js';

export interface CrownOptions {
  /**
   * How the bounds of affine steps that feed a non-linear step are computed: 'crown' (back-substitution,
   * intersected with interval bounds; the default) or 'ibp' (interval bounds only, much faster on wide layers).
   */
  readonly intermediate?: 'crown' | 'ibp';
  /** Affine steps wider than this keep interval bounds even with 'crown' intermediate bounds (default 20,000). */
  readonly maxCrownWidth?: number;
  /**
   * alpha-CROWN for the specification: projected-gradient (Adam) iterations on the ReLU lower slopes, one set of
   * slopes per specification row (default 20; 0 is plain CROWN). Intermediate bounds keep the adaptive slopes.
   */
  readonly alphaIterations?: number;
  /** Adam step size on the slopes (default 0.5). */
  readonly alphaLearningRate?: number;
  /**
   * alpha-CROWN for intermediate bounds too: iterations spent, per layer, on the slopes of the earlier ReLUs to
   * tighten the bounds of each still-unstable neuron that feeds a ReLU (its own slopes per neuron and side;
   * default 0). Tighter intermediate bounds tighten every later relaxation; the cost is about this many extra
   * back-substitutions per layer.
   */
  readonly alphaIntermediateIterations?: number;
  /**
   * Bounds from an earlier `crownBounds` (or `intervalBounds`) call on the same network and box: they are
   * intersected with the interval bounds and no intermediate back-substitution is done, so a specification can
   * be bounded without recomputing what a previous call found.
   */
  readonly reuse?: NetworkBounds;
  /**
   * With `reuse`: steps from this index on are tightened again by back-substitution, but only their neurons that
   * feed a ReLU and are still unstable (the rest keep the reused bounds). Branch and bound uses it after a split:
   * a sub-domain's bounds can only be tighter than its parent's.
   */
  readonly refineFrom?: number;
  /**
   * ReLU splits (branch and bound): per step index i, a sign per output neuron of step i: +1 restricts the
   * region to inputs where that neuron is ≥ 0, −1 to where it is ≤ 0, 0 leaves it free. The bounds then hold over
   * the restricted region (each split clamps the neuron's bounds; the relaxations are taken over those).
   */
  readonly splits?: ReadonlyMap<number, Int8Array>;
  /** Adam step size on the beta multipliers of the splits (default 0.05). */
  readonly betaLearningRate?: number;
  /** Warm start of the specification's slopes and multipliers (`crownSpecAnalysis` returns them as `slopes`). */
  readonly warm?: SlopeState;
}

/** Thrown inside `propagate` when the splits leave no input (some neuron's clamped bounds cross). */
class EmptyRegion extends Error {}

/** Clamps bounds to the split signs; throws EmptyRegion when a neuron's interval becomes empty. */
function applySplits(b: Interval, signs: Int8Array | undefined): Interval {
  if (!signs) return b;
  const lower = Float64Array.from(b.lower);
  const upper = Float64Array.from(b.upper);
  for (let j = 0; j < signs.length; j++) {
    if (signs[j]! > 0) lower[j] = Math.max(lower[j]!, 0);
    else if (signs[j]! < 0) upper[j] = Math.min(upper[j]!, 0);
    if (signs[j] !== 0 && lower[j]! > upper[j]!) throw new EmptyRegion();
  }
  return { lower, upper };
}

/** Rows processed at once when tightening a layer: bounds the scratch memory to ~32 MB. */
const CHUNK_ENTRIES = 4_000_000;

/** Builds the context with every step's bounds and every non-linear step's relaxation. */
function propagate(ir: NetworkIR, input: Box, options: CrownOptions, tightenLast: boolean): BoundContext {
  validateIR(ir);
  checkBox(ir, input);
  const box: Interval = { lower: Float64Array.from(input.lower), upper: Float64Array.from(input.upper) };
  const ctx = new BoundContext(ir, box);
  const crown = (options.intermediate ?? 'crown') === 'crown';
  const maxWidth = options.maxCrownWidth ?? 20_000;
  let seenNonlinear = false;
  const refineFrom = options.reuse ? (options.refineFrom ?? Infinity) : Infinity;
  ir.steps.forEach((step, i) => {
    const x = ctx.inputBounds(i);
    ctx.relax[i] = relaxStep(step, x);
    let b = intervalStep(step, x);
    const reused = options.reuse?.steps[i];
    if (reused) {
      if (reused.lower.length !== b.lower.length) throw new QrobustError('invalid_argument', `${ir.source}: the reused bounds do not fit step ${i}`);
      b = intersect(b, reused);
    }
    const signs = options.splits?.get(i);
    b = applySplits(b, signs);
    if (reused && i < refineFrom) {
      ctx.bounds[i] = b;
      if (step.kind !== 'affine') seenNonlinear = true;
      return;
    }
    const last = i === ir.steps.length - 1;
    const feedsNonlinear = !last && ir.steps[i + 1]!.kind !== 'affine';
    if (step.kind === 'affine' && seenNonlinear && crown && step.outSize <= maxWidth && (feedsNonlinear || (last && tightenLast))) {
      if (reused) {
        // Refinement: only the neurons a ReLU still sees as unstable can change a relaxation.
        const open: number[] = [];
        if (ir.steps[i + 1]?.kind === 'relu') for (let j = 0; j < b.lower.length; j++) if (b.lower[j]! < 0 && b.upper[j]! > 0) open.push(j);
        if (open.length) b = applySplits(intersectAt(b, neuronBounds(ctx, i, open), open), signs);
      } else {
        b = applySplits(intersect(b, neuronBounds(ctx, i)), signs);
        const alphaIterations = options.alphaIntermediateIterations ?? 0;
        if (alphaIterations > 0 && ir.steps[i + 1]?.kind === 'relu') {
          b = applySplits(optimizeUnstable(ctx, i, b, { iterations: alphaIterations, learningRate: options.alphaLearningRate ?? 0.5, stopWhenPositive: false }), signs);
        }
      }
    }
    if (step.kind !== 'affine') seenNonlinear = true;
    ctx.bounds[i] = b;
  });
  return ctx;
}

/** How many neurons of step i to back-substitute at once (two rows each, as wide as the widest step below). */
function neuronsPerChunk(ctx: BoundContext, i: number): number {
  const widest = Math.max(...ctx.ir.steps.slice(0, i + 1).map((s) => Math.max(stepInSize(s), stepOutSize(s))));
  return Math.max(1, Math.floor(CHUNK_ENTRIES / (2 * widest)));
}

/** Objectives +e_j and −e_j (rows 2t and 2t + 1) for the given neurons, each a span of one coefficient. */
function unitRows(neurons: readonly number[], n: number): LinearRows {
  const start = new Int32Array(2 * neurons.length);
  neurons.forEach((j, t) => start.fill(j, 2 * t, 2 * t + 2));
  const rows = makeRows(2 * neurons.length, n, start, start.map((j) => j + 1));
  for (let t = 0; t < 2 * neurons.length; t++) rows.lambda[rows.offset[t]!] = t % 2 === 0 ? 1 : -1;
  return rows;
}

/**
 * CROWN bounds of the neurons of affine step i (all of them, or those listed), by back-substitution; entry t of
 * the result belongs to neuron `neurons[t]` (to neuron t without a list).
 */
function neuronBounds(ctx: BoundContext, i: number, neurons?: readonly number[]): Interval {
  const n = stepOutSize(ctx.ir.steps[i]!);
  const which = neurons ?? Array.from({ length: n }, (_, j) => j);
  const lower = new Float64Array(which.length);
  const upper = new Float64Array(which.length);
  const perChunk = neuronsPerChunk(ctx, i);
  for (let start = 0; start < which.length; start += perChunk) {
    const chunk = which.slice(start, start + perChunk);
    const l = concretizeLower(ctx.backward(unitRows(chunk, n), i), ctx.box);
    for (let t = 0; t < chunk.length; t++) {
      lower[start + t] = l[2 * t]!;
      upper[start + t] = -l[2 * t + 1]!;
    }
  }
  return { lower, upper };
}

/**
 * Tightens the bounds of the neurons of affine step i that are still unstable (l < 0 < u) with alpha-CROWN
 * (`bounds/alpha.ts`): rows +e_j and −e_j, each with its own slopes. The result is intersected with `b`.
 */
function optimizeUnstable(ctx: BoundContext, i: number, b: Interval, options: AlphaOptions): Interval {
  const n = b.lower.length;
  const unstable: number[] = [];
  for (let j = 0; j < n; j++) if (b.lower[j]! < 0 && b.upper[j]! > 0) unstable.push(j);
  const lower = Float64Array.from(b.lower);
  const upper = Float64Array.from(b.upper);
  const perChunk = neuronsPerChunk(ctx, i);
  for (let start = 0; start < unstable.length; start += perChunk) {
    const chunk = unstable.slice(start, start + perChunk);
    const rows = unitRows(chunk, n);
    const initial = new Float64Array(2 * chunk.length);
    chunk.forEach((j, t) => {
      initial[2 * t] = b.lower[j]!;
      initial[2 * t + 1] = -b.upper[j]!;
    });
    const best = optimizeAlpha(ctx, rows, i, initial, options);
    chunk.forEach((j, t) => {
      lower[j] = Math.max(lower[j]!, best[2 * t]!);
      upper[j] = Math.min(upper[j]!, -best[2 * t + 1]!);
    });
  }
  return { lower, upper };
}

/** `a` with the neurons listed intersected with `b` (entry t of b belongs to neuron `neurons[t]`). */
function intersectAt(a: Interval, b: Interval, neurons: readonly number[]): Interval {
  const lower = Float64Array.from(a.lower);
  const upper = Float64Array.from(a.upper);
  neurons.forEach((j, t) => {
    lower[j] = Math.max(lower[j]!, b.lower[t]!);
    upper[j] = Math.min(upper[j]!, b.upper[t]!);
  });
  return { lower, upper };
}

function intersect(a: Interval, b: Interval): Interval {
  return { lower: a.lower.map((v, j) => Math.max(v, b.lower[j]!)), upper: a.upper.map((v, j) => Math.min(v, b.upper[j]!)) };
}

/**
 * CROWN bounds of every step's output over the box: interval bounds everywhere, tightened by back-substitution
 * on the inputs of non-linear steps and on the network's output.
 * @throws QrobustError('invalid_argument') when the IR is inconsistent or the box does not fit it.
 */
export function crownBounds(ir: NetworkIR, input: Box, options: CrownOptions = {}): NetworkBounds {
  try {
    const ctx = propagate(ir, input, options, true);
    return { input: ctx.box, steps: ctx.bounds };
  } catch (e) {
    if (e instanceof EmptyRegion) throw new QrobustError('invalid_argument', `${ir.source}: the ReLU splits leave no input in the box`);
    throw e;
  }
}

/** What `crownSpecAnalysis` found over a (possibly split) region. */
export interface SpecAnalysis {
  /** Sound lower bound of each constraint (as `crownSpecLowerBounds`). */
  readonly lower: Float64Array;
  /** Every step's bounds over the region (for refining sub-regions, or as big-M constants). */
  readonly bounds: NetworkBounds;
  /** The relaxation of each non-linear step (null for affine steps). */
  readonly relax: readonly (Relaxation | null)[];
  /** Per step, the constraints' objectives over that step's output as the plain CROWN pass carried them. */
  readonly entering: readonly LinearRows[];
  /** Per constraint, the box corner that minimizes its final linear bound: a cheap candidate counterexample. */
  readonly corners: readonly Float64Array[];
  /** The optimized slopes and split multipliers (absent without alpha iterations). */
  readonly slopes?: SlopeState;
}

function checkConstraints(ir: NetworkIR, constraints: readonly LinearConstraint[]): void {
  for (const c of constraints) {
    if (c.coeffs.length !== ir.outputSize) {
      throw new QrobustError('invalid_argument', `${ir.source}: a constraint has ${c.coeffs.length} coefficients, the network has ${ir.outputSize} outputs`);
    }
  }
}

/**
 * `crownSpecLowerBounds` with what branch and bound needs besides the bounds (see `SpecAnalysis`).
 * @returns null when `options.splits` leave no input at all (the region is empty, so nothing in it is unsafe).
 */
export function crownSpecAnalysis(ir: NetworkIR, input: Box, constraints: readonly LinearConstraint[], options: CrownOptions = {}): SpecAnalysis | null {
  checkConstraints(ir, constraints);
  let ctx: BoundContext;
  try {
    ctx = propagate(ir, input, options, false);
  } catch (e) {
    if (e instanceof EmptyRegion) return null;
    throw e;
  }
  const last = ir.steps.length - 1;
  const rows = makeRows(constraints.length, ir.outputSize);
  constraints.forEach((c, r) => rows.lambda.set(c.coeffs, rows.offset[r]!));
  const entering: LinearRows[] = [];
  const atInput = last >= 0 ? ctx.backward(rows, last, undefined, (i, r) => (entering[i] = r)) : rows;
  let lower = concretizeLower(atInput, ctx.box);
  const corners = constraints.map((_, r) => ctx.box.lower.map((l, j) => (coefficient(atInput, r, j) >= 0 ? l : ctx.box.upper[j]!)));
  const iterations = options.alphaIterations ?? 20;
  let slopes: SlopeState | undefined;
  if (constraints.length && iterations > 0 && ir.steps.some((s) => s.kind === 'relu')) {
    lower = optimizeAlpha(ctx, rows, last, lower, {
      iterations,
      learningRate: options.alphaLearningRate ?? 0.5,
      keep: (state) => (slopes = state),
      ...(options.warm ? { warm: options.warm } : {}),
      ...(options.splits ? { splits: options.splits, betaLearningRate: options.betaLearningRate ?? 0.05 } : {}),
    });
  }
  return {
    lower: lower.map((l, r) => roundDown(l + constraints[r]!.offset)),
    bounds: { input: ctx.box, steps: ctx.bounds },
    relax: ctx.relax,
    entering,
    corners,
    ...(slopes ? { slopes } : {}),
  };
}

/**
 * A sound lower bound of `coeffs·y + offset` over the box for each constraint (y the network's output). A
 * constraint whose bound is > 0 can never hold, so a case is verified when every disjunct of its unsafe
 * condition has such a constraint.
 * @throws QrobustError('invalid_argument') when a constraint's length differs from the output size.
 */
export function crownSpecLowerBounds(ir: NetworkIR, input: Box, constraints: readonly LinearConstraint[], options: CrownOptions = {}): Float64Array {
  checkConstraints(ir, constraints);
  if (constraints.length === 0) return new Float64Array(0);
  return crownSpecAnalysis(ir, input, constraints, options)?.lower ?? new Float64Array(constraints.length).fill(Infinity);
}
