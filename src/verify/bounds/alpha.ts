/**
 * alpha-CROWN (Xu et al. 2021, "Fast and Complete: Enabling Complete Neural Network Verification with Rapid and
 * Massively Parallel Incomplete Verifiers", arXiv 2011.13824): every lower ReLU slope α ∈ [0, 1] gives a sound
 * bound, so the slopes are chosen to maximize it, by projected gradient ascent (Adam) with one set of slopes
 * per specification row. Only the last back-substitution (the specification) is optimized here; intermediate
 * bounds keep the adaptive slopes.
 *
 * The gradient needs no autodiff framework. The bound is L = c(Λ) + Σ_j λ⁰_j·x*_j with x* the box corner the
 * concretization picks; each backward rule is linear in the objectives it receives, so the adjoint of the whole
 * backward pass is a *forward* pass of x* through the relaxed network (affine: W g + b; ReLU with λ ≥ 0: α·g;
 * λ < 0: s·g + t; and so on), and ∂L/∂α_j = λ_j · g_j, with λ_j the objective's coefficient on that ReLU's output
 * and g_j the forward value at its input. This is the gradient almost everywhere (where no coefficient changes
 * sign), which is what projected gradient needs.
 *
 * beta-CROWN (Wang et al. 2021, "Beta-CROWN", arXiv 2103.06624): over a region restricted by ReLU splits
 * σ_j·z_j ≥ 0 (σ = +1 for z ≥ 0, −1 for z ≤ 0), f(x) ≥ f(x) − Σ_j β_j·σ_j·z_j(x) for any β ≥ 0, so the bound of
 * the right-hand side is a sound bound of f over the region, and it sees the splits, which the clamped intervals
 * alone do not. The term is added to the objectives entering the split step; by the same linearity
 * ∂L/∂β_j = −σ_j·ẑ_j, ẑ the forward value at the split step's output, and β is optimized with α (projected on
 * β ≥ 0).
 */
import type { NetworkIR } from '../ir.js';
import { coefficient, concretizeLower, withAddedCoefficients, type LinearRows } from './backward.js';
import type { BoundContext } from './context.js';
import type { Relaxation } from './relaxation.js';

export interface AlphaOptions {
  readonly iterations: number;
  readonly learningRate: number;
  /** Stop as soon as every row's bound is positive (a verified specification); default true. */
  readonly stopWhenPositive?: boolean;
  /** ReLU splits of the region (as `CrownOptions.splits`): their beta multipliers are optimized with the slopes. */
  readonly splits?: ReadonlyMap<number, Int8Array>;
  /** Adam step size on the betas (default: `learningRate`). */
  readonly betaLearningRate?: number;
  /** Start from these slopes and multipliers (same rows; e.g. a branch-and-bound parent's) where they fit. */
  readonly warm?: SlopeState;
  /** Receives the slopes and multipliers of the last iteration (to warm-start a sub-region). */
  readonly keep?: (state: SlopeState) => void;
}

/** Optimized slopes per ReLU step (rows × size) and split multipliers per split step (rows × split neurons). */
export interface SlopeState {
  readonly alpha: ReadonlyMap<number, Float64Array>;
  readonly beta: ReadonlyMap<number, { readonly neurons: Int32Array; readonly beta: Float64Array }>;
}

/** The beta multipliers of one split step: the split neurons, their signs, and β per row (rows × neurons). */
interface BetaBlock {
  readonly neurons: Int32Array;
  readonly sigma: Int8Array;
  readonly beta: Float64Array;
  readonly m1: Float64Array;
  readonly m2: Float64Array;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPS = 1e-8;

/**
 * Optimizes per-row ReLU lower slopes for `spec` (objectives over the output of step `last`) and returns, per
 * row, the best lower bound seen (the maximum of sound bounds, `initial` included). By default it stops early
 * once every row's bound is positive.
 */
export function optimizeAlpha(ctx: BoundContext, spec: LinearRows, last: number, initial: Float64Array, options: AlphaOptions): Float64Array {
  const ir = ctx.ir;
  const best = Float64Array.from(initial);
  const stop = options.stopWhenPositive ?? true;
  if (stop && best.every((v) => v > 0)) return best;
  const rows = spec.rows;
  // Slopes, and Adam moments, per ReLU step: rows × size, initialized with the adaptive slopes.
  const alpha = new Map<number, Float64Array>();
  const m1 = new Map<number, Float64Array>();
  const m2 = new Map<number, Float64Array>();
  ir.steps.forEach((s, i) => {
    const relax = ctx.relax[i];
    if (s.kind !== 'relu' || relax?.kind !== 'relu' || relax.unstable.length === 0 || i > last) return;
    const a = new Float64Array(rows * s.size);
    const warm = options.warm?.alpha.get(i);
    if (warm && warm.length === a.length) a.set(warm);
    else for (let r = 0; r < rows; r++) a.set(relax.alpha, r * s.size);
    alpha.set(i, a);
    m1.set(i, new Float64Array(a.length));
    m2.set(i, new Float64Array(a.length));
  });
  const betas = new Map<number, BetaBlock>();
  for (const [i, signs] of options.splits ?? []) {
    if (i >= last) continue;
    const neurons = Int32Array.from([...signs.keys()].filter((j) => signs[j] !== 0));
    if (neurons.length === 0) continue;
    const sigma = Int8Array.from(neurons, (j) => signs[j]!);
    const size = rows * neurons.length;
    const beta = new Float64Array(size);
    const warm = options.warm?.beta.get(i);
    if (warm && warm.beta.length === rows * warm.neurons.length) {
      neurons.forEach((j, t) => {
        const w = warm.neurons.indexOf(j);
        if (w >= 0) for (let r = 0; r < rows; r++) beta[r * neurons.length + t] = warm.beta[r * warm.neurons.length + w]!;
      });
    }
    betas.set(i, { neurons, sigma, beta, m1: new Float64Array(size), m2: new Float64Array(size) });
  }
  if (alpha.size === 0 && betas.size === 0) return best;
  const adjust = (i: number, r: LinearRows): LinearRows => {
    const b = betas.get(i);
    if (!b) return r;
    const k = b.neurons.length;
    const delta = new Float64Array(rows * k);
    for (let q = 0; q < delta.length; q++) delta[q] = -b.sigma[q % k]! * b.beta[q]!;
    return withAddedCoefficients(r, b.neurons, delta);
  };
  for (let t = 1; t <= options.iterations; t++) {
    const entering: LinearRows[] = [];
    const atInput = ctx.backward(
      spec,
      last,
      alpha,
      (i, r) => {
        entering[i] = r;
      },
      betas.size ? adjust : undefined,
    );
    const bound = concretizeLower(atInput, ctx.box);
    for (let r = 0; r < rows; r++) if (bound[r]! > best[r]!) best[r] = bound[r]!;
    if (stop && best.every((v) => v > 0)) break;
    const outputs = new Map<number, Float64Array[]>();
    // Rows already proved (bound > 0) keep their slopes: only the others are differentiated and moved.
    const todo = stop ? [...best.keys()].filter((r) => best[r]! <= 0) : [...best.keys()];
    const grads = gradients(ir, ctx, atInput, entering, alpha, last, todo, betas.size ? (i, r, g) => {
      if (betas.has(i)) (outputs.get(i) ?? outputs.set(i, []).get(i)!)[r] = g;
    } : undefined);
    for (const [i, b] of betas) {
      const z = outputs.get(i)!;
      const k = b.neurons.length;
      for (const r of todo) for (let n = 0; n < k; n++) {
        const q = r * k + n;
        const g = -b.sigma[n]! * z[r]![b.neurons[n]!]!;
        b.m1[q] = BETA1 * b.m1[q]! + (1 - BETA1) * g;
        b.m2[q] = BETA2 * b.m2[q]! + (1 - BETA2) * g * g;
        const mHat = b.m1[q]! / (1 - BETA1 ** t);
        const vHat = b.m2[q]! / (1 - BETA2 ** t);
        b.beta[q] = Math.max(0, b.beta[q]! + ((options.betaLearningRate ?? options.learningRate) * mHat) / (Math.sqrt(vHat) + ADAM_EPS));
      }
    }
    for (const [i, a] of alpha) {
      const g = grads.get(i)!;
      const mom = m1.get(i)!;
      const vel = m2.get(i)!;
      const relax = ctx.relax[i] as Extract<Relaxation, { kind: 'relu' }>;
      const size = relax.lower.length;
      for (const r of todo) {
        for (const j of relax.unstable) {
          const k = r * size + j;
          const gk = g[k]!;
          mom[k] = BETA1 * mom[k]! + (1 - BETA1) * gk;
          vel[k] = BETA2 * vel[k]! + (1 - BETA2) * gk * gk;
          const mHat = mom[k]! / (1 - BETA1 ** t);
          const vHat = vel[k]! / (1 - BETA2 ** t);
          // Ascent: the bound is maximized; then projection onto [0, 1].
          a[k] = Math.min(1, Math.max(0, a[k]! + (options.learningRate * mHat) / (Math.sqrt(vHat) + ADAM_EPS)));
        }
      }
    }
  }
  options.keep?.({ alpha, beta: new Map([...betas].map(([i, b]) => [i, { neurons: b.neurons, beta: b.beta }])) });
  return best;
}

/** ∂L/∂α for every row and ReLU step, by the forward adjoint pass described in the module comment. */
function gradients(
  ir: NetworkIR,
  ctx: BoundContext,
  atInput: LinearRows,
  entering: LinearRows[],
  alpha: ReadonlyMap<number, Float64Array>,
  last: number,
  rowsToDo: readonly number[],
  onOutput?: (i: number, row: number, value: Float64Array) => void,
): Map<number, Float64Array> {
  const grads = new Map<number, Float64Array>();
  for (const [i, a] of alpha) grads.set(i, new Float64Array(a.length));
  const box = ctx.box;
  for (const r of rowsToDo) {
    // The corner of the box the concretization picked for this row.
    let g = new Float64Array(atInput.n);
    for (let j = 0; j < atInput.n; j++) g[j] = coefficient(atInput, r, j) >= 0 ? box.lower[j]! : box.upper[j]!;
    for (let i = 0; i <= last; i++) {
      const step = ir.steps[i]!;
      const lam = entering[i]!;
      const base = r * lam.n;
      const coeff = (j: number): number => coefficient(lam, r, j);
      if (step.kind === 'affine') {
        const w = step.weights;
        const out = new Float64Array(w.rows);
        for (let k = 0; k < w.rows; k++) {
          let s = step.bias[k]!;
          if (w.format === 'dense') for (let j = 0; j < w.cols; j++) s += w.data[k * w.cols + j]! * g[j]!;
          else for (let q = w.rowPtr[k]!; q < w.rowPtr[k + 1]!; q++) s += w.values[q]! * g[w.colIdx[q]!]!;
          out[k] = s;
        }
        g = out;
        onOutput?.(i, r, g);
        continue;
      }
      const relax = ctx.relax[i]!;
      const out = new Float64Array(lam.n);
      if (relax.kind === 'relu') {
        const a = alpha.get(i);
        const grad = grads.get(i);
        for (let j = 0; j < lam.n; j++) {
          const l = relax.lower[j]!;
          const u = relax.upper[j]!;
          const c = coeff(j);
          if (l >= 0) out[j] = g[j]!;
          else if (u <= 0) out[j] = 0;
          else if (c >= 0) {
            const slope = a ? a[base + j]! : relax.alpha[j]!;
            if (grad) grad[base + j] = c * g[j]!;
            out[j] = slope * g[j]!;
          } else out[j] = relax.upperSlope[j]! * g[j]! + relax.upperIntercept[j]!;
        }
      } else if (relax.kind === 'maxpool') {
        for (let j = 0; j < lam.n; j++) {
          out[j] = coeff(j) >= 0 || relax.decided[j] ? g[relax.argmax[j]!]! : relax.upperConst[j]!;
        }
      } else {
        for (let j = 0; j < lam.n; j++) {
          const c = coeff(j);
          out[j] = relax.slope[j]! * g[j]! + (c >= 0 ? relax.lowerIntercept[j]! : relax.upperIntercept[j]!);
        }
      }
      g = out;
      onOutput?.(i, r, g);
    }
  }
  return grads;
}
