/**
 * The geometry of the Square attack (Andriushchenko, Croce, Flammarion & Hein 2020, "Square Attack: a
 * query-efficient black-box adversarial attack via random search", arXiv 1912.00049): the schedule of the
 * square size, and the L2 attack's "meta pseudo-Gaussian" square pattern.
 */
import type { Rng } from '../core/rng.js';

/** Iterations (of a 10,000-query run) after which p halves; the schedule is rescaled to the actual budget. */
const HALVING_POINTS = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];

/**
 * The fraction p of the image a square covers at `iteration`: `pInit` halved at 10, 50, 200, 500, 1000, 2000,
 * 4000, 6000 and 8000 iterations of a 10,000-query budget, those points scaled to `maxQueries`.
 */
export function squareFraction(iteration: number, maxQueries: number, pInit: number): number {
  const scaled = Math.floor((iteration / maxQueries) * 10000);
  const halvings = HALVING_POINTS.filter((point) => scaled > point).length;
  return pInit / 2 ** halvings;
}

/**
 * Side of the square for fraction p of an h × w image: round(√(p·h·w)), at least `minimum` and at most the
 * shorter side; for the L2 attack (`odd`) made odd so that the pattern has a centre pixel.
 */
export function squareSide(p: number, h: number, w: number, minimum: number, odd: boolean): number {
  const limit = Math.min(h, w);
  let s = Math.min(Math.max(Math.round(Math.sqrt(p * h * w)), minimum), limit);
  if (odd && s % 2 === 0) s = s + 1 <= limit ? s + 1 : s - 1;
  return Math.max(s, 1);
}

/** Unit-L2 a × b block of nested rectangles around the centre, ring k weighted by 1/(k+1)², summed. */
function nestedRectangles(a: number, b: number): Float32Array {
  const out = new Float32Array(a * b);
  let top = Math.floor(a / 2);
  let left = Math.floor(b / 2);
  const rings = Math.max(Math.floor(a / 2), Math.floor(b / 2)) + 1;
  for (let k = 0; k < rings; k++) {
    const weight = 1 / (k + 1) ** 2;
    for (let r = Math.max(top, 0); r < Math.min(top + 2 * k + 1, a); r++) {
      for (let c = Math.max(left, 0); c < Math.min(left + 2 * k + 1, b); c++) out[r * b + c]! += weight;
    }
    top--;
    left--;
  }
  return normalizeL2(out);
}

function normalizeL2(v: Float32Array): Float32Array {
  let sq = 0;
  for (const x of v) sq += x * x;
  const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

/**
 * The s × s pattern of the L2 Square attack, unit L2 norm: nested rectangles of one sign in the top half and
 * of the other sign in the bottom half, transposed with probability 1/2 (one draw from `rng`).
 */
export function squarePattern(s: number, rng: Rng): Float32Array {
  const half = Math.floor(s / 2);
  const out = new Float32Array(s * s);
  const upper = nestedRectangles(half, s);
  const lower = nestedRectangles(s - half, s);
  out.set(upper, 0);
  for (let i = 0; i < lower.length; i++) out[half * s + i] = -lower[i]!;
  normalizeL2(out);
  if (rng.next() < 0.5) return out;
  const transposed = new Float32Array(s * s);
  for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) transposed[c * s + r] = out[r * s + c]!;
  return transposed;
}
