/**
 * Interval arithmetic for an affine map y = W x + b over a box, dense or CSR, with the outward rounding margin of
 * `rounding.ts` (float64 bound and evaluation, and the float32 evaluation term of `evaluation.ts`): lowerᵢ = bᵢ + Σ_{w>0} w·lⱼ + Σ_{w<0} w·uⱼ (and symmetrically for the upper bound), computed
 * directly rather than through centre and radius so that only one rounded sum per bound needs a margin.
 */
import type { AffineStep, Matrix } from '../ir.js';
import type { Interval } from '../property.js';
import { dotMargin, float32Margin, roundDown, roundUp } from './rounding.js';

/** The interval image of [x.lower, x.upper] under W x + b; `float32` as `AffineStep.float32`. */
export function affineInterval(w: Matrix, bias: Float64Array, x: Interval, float32?: AffineStep['float32']): Interval {
  const lower = new Float64Array(w.rows);
  const upper = new Float64Array(w.rows);
  const absMax = new Float64Array(w.cols);
  for (let j = 0; j < w.cols; j++) absMax[j] = Math.max(Math.abs(x.lower[j]!), Math.abs(x.upper[j]!));
  for (let i = 0; i < w.rows; i++) {
    let lo = bias[i]!;
    let hi = bias[i]!;
    let mag = Math.abs(bias[i]!);
    let terms: number;
    if (w.format === 'dense') {
      const row = i * w.cols;
      for (let j = 0; j < w.cols; j++) {
        const v = w.data[row + j]!;
        if (v > 0) {
          lo += v * x.lower[j]!;
          hi += v * x.upper[j]!;
          mag += v * absMax[j]!;
        } else if (v < 0) {
          lo += v * x.upper[j]!;
          hi += v * x.lower[j]!;
          mag -= v * absMax[j]!;
        }
      }
      terms = w.cols;
    } else {
      const start = w.rowPtr[i]!;
      const end = w.rowPtr[i + 1]!;
      for (let k = start; k < end; k++) {
        const v = w.values[k]!;
        const j = w.colIdx[k]!;
        if (v > 0) {
          lo += v * x.lower[j]!;
          hi += v * x.upper[j]!;
          mag += v * absMax[j]!;
        } else if (v < 0) {
          lo += v * x.upper[j]!;
          hi += v * x.lower[j]!;
          mag -= v * absMax[j]!;
        }
      }
      terms = end - start;
    }
    // The float32 evaluation's magnitude: the same terms with the folded bias's absolute value.
    const mag32 = float32 ? mag - Math.abs(bias[i]!) + float32.absBias[i]! : mag;
    const depth = terms + 1 + (float32?.extraDepth ?? 0);
    const margin = dotMargin(terms, mag) + (float32 === null ? 0 : float32Margin(depth, mag32 * (1 + (terms + 2) * 2 ** -52)));
    lower[i] = roundDown(lo, margin);
    upper[i] = roundUp(hi, margin);
  }
  return { lower, upper };
}
