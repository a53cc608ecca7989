/**
 * Linear relaxations of the IR's non-linear steps over known input bounds, the building blocks of backward
 * bound propagation (CROWN, Zhang et al. 2018, arXiv 1811.00866; DeepPoly, Singh et al. 2019, POPL):
 *
 * - ReLU on [l, u] with l < 0 < u: upper line s·(x − l) with s = u/(u − l) (the chord; the intercept is
 *   recomputed from both ends and rounded up so the line stays above the function after rounding), lower line
 *   α·x with α ∈ [0, 1]. The adaptive choice α = 1 when u ≥ −l, else 0, is CROWN's and DeepPoly's; alpha-CROWN
 *   optimizes α instead. Stable neurons are exact (identity or zero).
 * - Max-pooling: y ≥ x_{i*} for the input i* with the largest lower bound; y ≤ max_i u_i. When l_{i*} ≥ u_i for
 *   every other input the output *is* x_{i*} and both sides are exact.
 * - Fake-quant: the narrowest of three linear bands (slopes 0, 1 and the chord) of `quantize.ts`.
 *
 * `absMax` is max(|l|, |u|) of the step's input, which the rounding analysis of `backward.ts` needs.
 */
import type { DynamicQuantizeStep, IRStep, MaxPoolStep, QuantizeStep, ReluStep } from '../ir.js';
import { dynamicQuantizeBand } from './dynamic-quantize.js';
import type { Interval } from '../property.js';
import { quantizeRelaxation } from './quantize.js';
import { smoothRelaxation, type SmoothRelaxation } from './smooth.js';
import { roundUp, UNIT_ROUNDOFF } from './rounding.js';

export interface ReluRelaxation {
  readonly kind: 'relu';
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  /** Default lower slope per neuron (adaptive), used where no optimized α is given. */
  readonly alpha: Float64Array;
  /** Upper line slope and intercept (unstable neurons only; 0 elsewhere). */
  readonly upperSlope: Float64Array;
  readonly upperIntercept: Float64Array;
  /** Indices of the unstable neurons (l < 0 < u), the ones α applies to. */
  readonly unstable: Int32Array;
  readonly absMax: Float64Array;
}

export interface MaxPoolRelaxation {
  readonly kind: 'maxpool';
  /** Per output: the input index with the largest lower bound. */
  readonly argmax: Int32Array;
  /** Per output: 1 when that input dominates every other, so y = x_{argmax} exactly. */
  readonly decided: Uint8Array;
  /** Per output: max of the inputs' upper bounds. */
  readonly upperConst: Float64Array;
  readonly absMax: Float64Array;
}

export interface QuantizeRelaxation {
  readonly kind: 'quantize';
  readonly slope: Float64Array;
  readonly lowerIntercept: Float64Array;
  readonly upperIntercept: Float64Array;
  readonly absMax: Float64Array;
}

/** A band y ∈ [slope·x + lowerIntercept, slope·x + upperIntercept] (fake-quant steps and sigmoid/tanh). */
export type BandRelaxation = QuantizeRelaxation | SmoothRelaxation;

export type Relaxation = ReluRelaxation | MaxPoolRelaxation | BandRelaxation;

function absMaxOf(x: Interval): Float64Array {
  return x.lower.map((l, i) => Math.max(Math.abs(l), Math.abs(x.upper[i]!)));
}

export function reluRelaxation(_step: ReluStep, x: Interval): ReluRelaxation {
  const n = x.lower.length;
  const alpha = new Float64Array(n);
  const upperSlope = new Float64Array(n);
  const upperIntercept = new Float64Array(n);
  const unstable: number[] = [];
  for (let j = 0; j < n; j++) {
    const l = x.lower[j]!;
    const u = x.upper[j]!;
    if (l >= 0 || u <= 0) continue;
    unstable.push(j);
    const s = u / (u - l);
    upperSlope[j] = s;
    // The line s·x + b must lie above relu at both ends (then everywhere: relu is convex).
    upperIntercept[j] = roundUp(Math.max(-s * l, u - s * u), 4 * UNIT_ROUNDOFF * (Math.abs(s * l) + u));
    alpha[j] = u >= -l ? 1 : 0;
  }
  return { kind: 'relu', lower: x.lower, upper: x.upper, alpha, upperSlope, upperIntercept, unstable: Int32Array.from(unstable), absMax: absMaxOf(x) };
}

export function maxPoolRelaxation(step: MaxPoolStep, x: Interval): MaxPoolRelaxation {
  const argmax = new Int32Array(step.outSize);
  const decided = new Uint8Array(step.outSize);
  const upperConst = new Float64Array(step.outSize);
  for (let j = 0; j < step.outSize; j++) {
    let best = -1;
    let bestLower = -Infinity;
    let maxUpper = -Infinity;
    for (let k = step.offsets[j]!; k < step.offsets[j + 1]!; k++) {
      const i = step.indices[k]!;
      if (x.lower[i]! > bestLower || best < 0) {
        bestLower = x.lower[i]!;
        best = i;
      }
      maxUpper = Math.max(maxUpper, x.upper[i]!);
    }
    let dominates = true;
    for (let k = step.offsets[j]!; k < step.offsets[j + 1]!; k++) {
      const i = step.indices[k]!;
      if (i !== best && x.upper[i]! > bestLower) dominates = false;
    }
    argmax[j] = best;
    decided[j] = dominates ? 1 : 0;
    upperConst[j] = maxUpper;
  }
  return { kind: 'maxpool', argmax, decided, upperConst, absMax: absMaxOf(x) };
}

export function quantizeStepRelaxation(step: QuantizeStep, x: Interval): QuantizeRelaxation {
  const slope = new Float64Array(step.size);
  const lowerIntercept = new Float64Array(step.size);
  const upperIntercept = new Float64Array(step.size);
  for (let i = 0; i < step.size; i++) {
    const r = quantizeRelaxation(step, i, x.lower[i]!, x.upper[i]!);
    slope[i] = r.slope;
    lowerIntercept[i] = r.lowerIntercept;
    upperIntercept[i] = r.upperIntercept;
  }
  return { kind: 'quantize', slope, lowerIntercept, upperIntercept, absMax: absMaxOf(x) };
}

/** The relaxation of a non-linear step over its input bounds (null for affine steps, which need none). */
export function relaxStep(step: IRStep, x: Interval): Relaxation | null {
  switch (step.kind) {
    case 'affine':
      return null;
    case 'relu':
      return reluRelaxation(step, x);
    case 'maxpool':
      return maxPoolRelaxation(step, x);
    case 'quantize':
      return quantizeStepRelaxation(step, x);
    case 'smooth':
      return smoothRelaxation(step, x);
    case 'dynamicQuantize':
      return dynamicQuantizeStepRelaxation(step, x);
  }
}

/** The band of a dynamic input quantizer (`dynamic-quantize.ts`): y = x ± δ, or its plateau interval. */
export function dynamicQuantizeStepRelaxation(step: DynamicQuantizeStep, x: Interval): QuantizeRelaxation {
  return { kind: 'quantize', ...dynamicQuantizeBand(step, x), absMax: absMaxOf(x) };
}
