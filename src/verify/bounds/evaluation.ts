/**
 * The float32 evaluation term of the rounding margins (`rounding.ts`, point 3). The verifiers' `unsat` names
 * the semantics "the IR in exact real arithmetic, and every float64 or float32 evaluation of it": ONNX Runtime
 * and TF.js compute each affine step in float32, in an order (blocking, pairwise, FMA) nobody promises. For
 * row i of y = W x + b, recursive summation in any order with `d` roundings on each term's path gives
 *
 *     |fl32(y_i) − y_i| ≤ γ₃₂(d)·(Σ_j |W_ij|·|x_j| + absBias_i),   d = nnz_i + 1 + extraDepth,
 *
 * (Higham 2002, §3.1; an element-wise op folded in front multiplies each term by one more (1 + δ), and
 * absBias_i bounds the folded bias terms' absolute values). The folded weights' own float64 rounding is
 * counted in extraDepth too. The bound needs |W'| = |A_k|···|A_1| for the folded chain, which holds for
 * element-wise ops around one matrix (the importer flushes rather than fold two general matrices).
 *
 * One case is exact and gets margin 0: a row with nothing folded into it whose only nonzero term is the bias
 * (a float32 value) or one weight of ±1 times the input. Products by zero are exact zeros, adding a zero is
 * exact, and so is multiplying by ±1, so every float32 or float64 evaluation returns the exact value.
 */
import type { AffineStep } from '../ir.js';
import { float32Margin } from './rounding.js';

/** Per output row of an affine step, its float32 evaluation margin over inputs with |x_j| ≤ inAbsMax[j]. */
export function affineEvalMargins(step: AffineStep, inAbsMax: ArrayLike<number>): Float64Array {
  const w = step.weights;
  if (step.float32 === null) return new Float64Array(w.rows);
  const extra = step.float32?.extraDepth ?? 0;
  const absBias = step.float32?.absBias;
  const out = new Float64Array(w.rows);
  for (let i = 0; i < w.rows; i++) {
    let mag = absBias ? absBias[i]! : Math.abs(step.bias[i]!);
    let nnz = 0;
    let lastWeight = 0;
    if (w.format === 'dense') {
      for (let j = 0; j < w.cols; j++) {
        const v = w.data[i * w.cols + j]!;
        if (v !== 0) {
          mag += Math.abs(v) * inAbsMax[j]!;
          nnz++;
          lastWeight = v;
        }
      }
    } else {
      for (let k = w.rowPtr[i]!; k < w.rowPtr[i + 1]!; k++) {
        if (w.values[k] === 0) continue;
        mag += Math.abs(w.values[k]!) * inAbsMax[w.colIdx[k]!]!;
        nnz++;
        lastWeight = w.values[k]!;
      }
    }
    if (exactRow(nnz, lastWeight, step.bias[i]!, extra, absBias)) continue;
    // mag is itself a rounded float64 sum: one relative ulp per term more than covers it.
    out[i] = float32Margin(nnz + 1 + extra, mag * (1 + (nnz + 2) * 2 ** -52));
  }
  return out;
}

/** True when every float32 or float64 evaluation of the row is exact (see the header). */
function exactRow(nnz: number, weight: number, bias: number, extraDepth: number, absBias: Float64Array | undefined): boolean {
  if (extraDepth !== 0 || absBias) return false;
  if (nnz === 0) return Math.fround(bias) === bias;
  return nnz === 1 && bias === 0 && Math.abs(weight) === 1;
}
