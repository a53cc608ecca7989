/**
 * Activation range calibration: an observer that sees every value of a tensor over the calibration set (exact
 * minimum and maximum, plus a seeded uniform reservoir sample of bounded size), and the three range rules:
 * - `minmax`: the observed extremes (TFLite's post-training default);
 * - `percentile(p)`: the p-th and (100−p)-th percentiles of the sample (linear interpolation), clipping outliers;
 * - `mse`: the range, shrunk from min-max by a factor searched on a grid, whose fake-quantization of the sample
 *   has the least mean squared error.
 * Ranges always contain 0 once turned into parameters (see `channelParams`).
 */
import { Rng } from '../core/rng.js';
import { channelParams, integerRange } from './quantizer.js';
import { roundHalfAway } from './rounding.js';
import type { CalibrationSpec, QuantScheme } from './spec.js';

/** Streams the values of one tensor. */
export class ActivationObserver {
  min = Infinity;
  max = -Infinity;
  /** Values seen so far. */
  count = 0;
  private readonly reservoir: Float32Array;
  private readonly rng: Rng;

  /** @param maxSamples reservoir size (default 2^20 values; 0 keeps only min and max); @param seed reservoir seed (default 0). */
  constructor(readonly maxSamples = 1 << 20, seed = 0) {
    this.reservoir = new Float32Array(maxSamples);
    this.rng = new Rng(seed);
  }

  observe(values: ArrayLike<number>): void {
    const k = this.maxSamples;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      const n = this.count++;
      if (k === 0) continue;
      if (n < k) this.reservoir[n] = v;
      else {
        const j = Math.floor(this.rng.next() * (n + 1));
        if (j < k) this.reservoir[j] = v;
      }
    }
  }

  /** The reservoir: every value when fewer than `maxSamples` were seen, else a uniform sample of them. */
  sample(): Float32Array {
    return this.reservoir.subarray(0, Math.min(this.count, this.maxSamples));
  }
}

/** The p-th percentile (0..100) of sorted values, interpolating linearly between ranks (NumPy's default). */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const rank = ((n - 1) * p) / 100;
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (rank - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Number of histogram bins used by the MSE search. */
export const MSE_BINS = 2048;
/** Candidate shrink factors 1, 0.99, ..., 0.01 of the min-max range tried by the MSE search. */
export const MSE_STEPS = 100;

/**
 * The range `[s·lo, s·hi]` (s in (0, 1]) whose quantization error on `values` is least, estimated on a
 * histogram of the values with `MSE_BINS` bins over [lo, hi].
 */
export function mseRange(values: Float32Array, lo: number, hi: number, bits: number, scheme: QuantScheme): { min: number; max: number; mse: number } {
  if (!(hi > lo)) return { min: lo, max: hi, mse: 0 };
  const counts = new Float64Array(MSE_BINS);
  const width = (hi - lo) / MSE_BINS;
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(MSE_BINS - 1, Math.max(0, Math.floor((values[i]! - lo) / width)));
    counts[b]!++;
  }
  const { qmin, qmax } = integerRange(bits, scheme);
  let best = { min: lo, max: hi, mse: Infinity };
  for (let step = 0; step < MSE_STEPS; step++) {
    const s = 1 - step / MSE_STEPS;
    const mse = histogramMse(counts, lo, width, s * lo, s * hi, qmin, qmax, scheme);
    if (mse < best.mse) best = { min: s * lo, max: s * hi, mse };
  }
  return best;
}

/** Mean squared quantization error of a histogram (bin centres) for the grid of range [min, max]. */
export function histogramMse(
  counts: Float64Array,
  lo: number,
  width: number,
  min: number,
  max: number,
  qmin: number,
  qmax: number,
  scheme: QuantScheme,
): number {
  const { scale, zeroPoint } = channelParams(min, max, qmin, qmax, scheme);
  let err = 0;
  let total = 0;
  for (let b = 0; b < counts.length; b++) {
    const n = counts[b]!;
    if (n === 0) continue;
    const x = lo + (b + 0.5) * width;
    const q = Math.min(qmax, Math.max(qmin, roundHalfAway(x / scale) + zeroPoint));
    const d = x - scale * (q - zeroPoint);
    err += n * d * d;
    total += n;
  }
  return total === 0 ? 0 : err / total;
}

/** The calibrated real range of an observed tensor. */
export function calibratedRange(obs: ActivationObserver, calibration: CalibrationSpec, bits: number, scheme: QuantScheme): { min: number; max: number } {
  if (obs.count === 0) return { min: 0, max: 0 };
  switch (calibration.method) {
    case 'minmax':
      return { min: obs.min, max: obs.max };
    case 'percentile': {
      const sample = Float32Array.from(obs.sample()).sort();
      const p = calibration.percentile;
      if (scheme === 'symmetric') {
        const abs = sample.map(Math.abs).sort();
        const a = percentileSorted(abs, p);
        return { min: -a, max: a };
      }
      return { min: percentileSorted(sample, 100 - p), max: percentileSorted(sample, p) };
    }
    case 'mse': {
      const r = mseRange(obs.sample(), Math.min(obs.min, 0), Math.max(obs.max, 0), bits, scheme);
      return { min: r.min, max: r.max };
    }
  }
}
