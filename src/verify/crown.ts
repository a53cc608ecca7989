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
import { optimizeAlpha, type AlphaOptions } from './bounds/alpha.js';
import { concretizeLower, makeRows, type LinearRows } from './bounds/backward.js';
import { BoundContext } from './bounds/context.js';
import { relaxStep } from './bounds/relaxation.js';
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
  ir.steps.forEach((step, i) => {
    const x = ctx.inputBounds(i);
    ctx.relax[i] = relaxStep(step, x);
    let b = intervalStep(step, x);
    const reused = options.reuse?.steps[i];
    if (reused) {
      if (reused.lower.length !== b.lower.length) throw new QrobustError('invalid_argument', `${ir.source}: the reused bounds do not fit step ${i}`);
      ctx.bounds[i] = intersect(b, reused);
      if (step.kind !== 'affine') seenNonlinear = true;
      return;
    }
    const last = i === ir.steps.length - 1;
    const feedsNonlinear = !last && ir.steps[i + 1]!.kind !== 'affine';
    if (step.kind === 'affine' && seenNonlinear && crown && step.outSize <= maxWidth && (feedsNonlinear || (last && tightenLast))) {
      b = intersect(b, neuronBounds(ctx, i));
      const alphaIterations = options.alphaIntermediateIterations ?? 0;
      if (alphaIterations > 0 && ir.steps[i + 1]?.kind === 'relu') {
        b = optimizeUnstable(ctx, i, b, { iterations: alphaIterations, learningRate: options.alphaLearningRate ?? 0.5, stopWhenPositive: false });
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

/** CROWN bounds of every neuron of affine step i (its lower and upper bound, by back-substitution). */
function neuronBounds(ctx: BoundContext, i: number): Interval {
  const n = stepOutSize(ctx.ir.steps[i]!);
  const lower = new Float64Array(n);
  const upper = new Float64Array(n);
  const perChunk = neuronsPerChunk(ctx, i);
  for (let start = 0; start < n; start += perChunk) {
    const count = Math.min(perChunk, n - start);
    const rows = unitRows(Array.from({ length: count }, (_, t) => start + t), n);
    const l = concretizeLower(ctx.backward(rows, i), ctx.box);
    for (let t = 0; t < count; t++) {
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

function intersect(a: Interval, b: Interval): Interval {
  return { lower: a.lower.map((v, j) => Math.max(v, b.lower[j]!)), upper: a.upper.map((v, j) => Math.min(v, b.upper[j]!)) };
}

/**
 * CROWN bounds of every step's output over the box: interval bounds everywhere, tightened by back-substitution
 * on the inputs of non-linear steps and on the network's output.
 * @throws QrobustError('invalid_argument') when the IR is inconsistent or the box does not fit it.
 */
export function crownBounds(ir: NetworkIR, input: Box, options: CrownOptions = {}): NetworkBounds {
  const ctx = propagate(ir, input, options, true);
  return { input: ctx.box, steps: ctx.bounds };
}

/**
 * A sound lower bound of `coeffs·y + offset` over the box for each constraint (y the network's output). A
 * constraint whose bound is > 0 can never hold, so a case is verified when every disjunct of its unsafe
 * condition has such a constraint.
 * @throws QrobustError('invalid_argument') when a constraint's length differs from the output size.
 */
export function crownSpecLowerBounds(ir: NetworkIR, input: Box, constraints: readonly LinearConstraint[], options: CrownOptions = {}): Float64Array {
  for (const c of constraints) {
    if (c.coeffs.length !== ir.outputSize) {
      throw new QrobustError('invalid_argument', `${ir.source}: a constraint has ${c.coeffs.length} coefficients, the network has ${ir.outputSize} outputs`);
    }
  }
  if (constraints.length === 0) return new Float64Array(0);
  const ctx = propagate(ir, input, options, false);
  const last = ir.steps.length - 1;
  const m = ir.outputSize;
  const rows = makeRows(constraints.length, m);
  constraints.forEach((c, r) => rows.lambda.set(c.coeffs, rows.offset[r]!));
  let lower = last >= 0 ? concretizeLower(ctx.backward(rows, last), ctx.box) : concretizeLower(rows, ctx.box);
  const iterations = options.alphaIterations ?? 20;
  if (iterations > 0 && ir.steps.some((s) => s.kind === 'relu')) {
    lower = optimizeAlpha(ctx, rows, last, lower, { iterations, learningRate: options.alphaLearningRate ?? 0.5 });
  }
  return lower.map((l, r) => roundDown(l + constraints[r]!.offset));
}
