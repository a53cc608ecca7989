/**
 * Confidence intervals for the reproduction tables: Wilson's score interval for a proportion, and the
 * percentile bootstrap for any statistic of resampled test images (seeded, so a table is reproducible).
 */
import { Rng } from '../core/rng.js';

/** The 95% Wilson score interval of `k` successes in `n` trials (Wilson 1927), as fractions. */
export function wilsonInterval(k: number, n: number, z = 1.96): readonly [number, number] {
  if (n <= 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface BootstrapOptions {
  readonly resamples?: number;
  readonly seed?: number;
  /** Two-sided level (default 0.95). */
  readonly level?: number;
  /** Also resample this many groups (training seeds, say) with replacement; default 1 (no group resampling). */
  readonly groups?: number;
}

/** A statistic of one resample: image indices, and group indices (of length `groups`). */
export type ResampledStatistic = (images: Int32Array, groups: Int32Array) => number;

/**
 * Percentile bootstrap: the statistics on `resamples` resamples (with replacement) of the images 0..n−1 and of
 * the groups, every resample shared by all the statistics asked for at once, so paired differences stay paired.
 * Returns, per statistic, the interval of its finite values and how many resamples gave one (a crossing point
 * may not exist in every resample).
 */
export function bootstrapIntervals(n: number, statistics: readonly ResampledStatistic[], options: BootstrapOptions = {}): { readonly lo: number; readonly hi: number; readonly defined: number }[] {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const groupCount = options.groups ?? 1;
  const rng = new Rng(options.seed ?? 0);
  const values = statistics.map(() => [] as number[]);
  const images = new Int32Array(n);
  const groups = new Int32Array(groupCount);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) images[i] = rng.int(n);
    for (let g = 0; g < groupCount; g++) groups[g] = groupCount === 1 ? 0 : rng.int(groupCount);
    statistics.forEach((s, k) => {
      const v = s(images, groups);
      if (Number.isFinite(v)) values[k]!.push(v);
    });
  }
  return values.map((v) => {
    if (v.length === 0) return { lo: NaN, hi: NaN, defined: 0 };
    v.sort((a, b) => a - b);
    const at = (q: number): number => v[Math.min(v.length - 1, Math.max(0, Math.floor(q * (v.length - 1) + 0.5)))]!;
    return { lo: at((1 - level) / 2), hi: at(1 - (1 - level) / 2), defined: v.length };
  });
}
