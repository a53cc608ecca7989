/**
 * Backward linear bound propagation (CROWN, Zhang et al. 2018, arXiv 1811.00866; DeepPoly, Singh et al. 2019):
 * a set of linear objectives Λ·z_k + c over the output z_k of some step is carried back through the network, one
 * rule per step kind, until it is a linear function of the input, whose minimum over the box is explicit:
 *
 * - affine  z = W x + b:   Λ·z = (ΛW)·x + Λb;
 * - relu / maxpool / quantize: each coefficient picks the lower relaxation when it is ≥ 0 and the upper one
 *   when it is < 0 (`relaxation.ts`), so Λ·z ≥ Λ'·x + c' holds on the bounded region;
 * - input box [l, u]:  min Λ·x = Σ_{λ≥0} λ·l + Σ_{λ<0} λ·u.
 *
 * The result is a sound *lower* bound of each objective (an upper bound is the negated lower bound of −Λ).
 *
 * Rounding. Each row carries `err`, a bound on everything float64 arithmetic can have moved: the rounding of
 * ΛW, Λb and of the relaxation products, and the rounding of the float64 forward pass itself (an affine
 * output computed as fl(Wx + b) differs from Wx + b by at most γ·(|W||x| + |b|), see `rounding.ts`). With
 * v = |W|·max|x| + |b| computed once per step, all of these are at most 3·γₙ·|Λ|·v per affine step and
 * 2·γₙ·Σ|λ'|·max|x| + |λ·intercept| per relaxation; the concretized bound is lowered by `err`. The bound then
 * holds for the exact network and for `evaluateIR`; the float32 evaluation margin of each affine row
 * (`evaluation.ts`) is carried the same way, so it holds for a float32 evaluation of the source network too.
 *
 * Sparsity. Each row stores only the span [start, end) outside which its coefficients are zero (rows are
 * ragged slices of one buffer): objectives that start at one neuron stay local through convolutions (a receptive
 * field is a band of the NHWC or NCHW vector), so memory and work follow the receptive fields, not the layer
 * width.
 */
import type { AffineStep, SparseMatrix } from '../ir.js';
import type { Interval } from '../property.js';
import type { Relaxation } from './relaxation.js';
import { gamma, roundDown } from './rounding.js';

/**
 * `rows` linear objectives over a vector of length `n`: constants, error bounds, and per row the span
 * [start, end) holding all its nonzero coefficients; coefficient j of row r is
 * `lambda[offset[r] + j − start[r]]` (use `coefficient`).
 */
export interface LinearRows {
  readonly rows: number;
  readonly n: number;
  readonly lambda: Float64Array;
  readonly offset: Int32Array;
  readonly constant: Float64Array;
  readonly err: Float64Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
}

/** Zero objectives with the given spans (default: every row spans the whole vector). */
export function makeRows(rows: number, n: number, start?: Int32Array, end?: Int32Array): LinearRows {
  const s = start ?? new Int32Array(rows);
  const e = end ?? new Int32Array(rows).fill(n);
  const offset = new Int32Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    offset[r] = total;
    total += Math.max(0, e[r]! - s[r]!);
  }
  return { rows, n, lambda: new Float64Array(total), offset, constant: new Float64Array(rows), err: new Float64Array(rows), start: s, end: e };
}

/** Coefficient j of row r (0 outside the row's span). */
export function coefficient(r: LinearRows, row: number, j: number): number {
  return j >= r.start[row]! && j < r.end[row]! ? r.lambda[r.offset[row]! + j - r.start[row]!]! : 0;
}

/**
 * A copy of `r` with `delta[row·js.length + t]` added to coefficient `js[t]` of each row, the spans widened
 * where a coefficient falls outside them.
 */
export function withAddedCoefficients(r: LinearRows, js: ArrayLike<number>, delta: Float64Array): LinearRows {
  const start = Int32Array.from(r.start);
  const end = Int32Array.from(r.end);
  for (let row = 0; row < r.rows; row++) {
    for (let t = 0; t < js.length; t++) {
      if (delta[row * js.length + t] === 0) continue;
      const j = js[t]!;
      if (start[row]! >= end[row]!) {
        start[row] = j;
        end[row] = j + 1;
      } else {
        if (j < start[row]!) start[row] = j;
        if (j + 1 > end[row]!) end[row] = j + 1;
      }
    }
  }
  const out = makeRows(r.rows, r.n, start, end);
  for (let row = 0; row < r.rows; row++) {
    const from = r.offset[row]!;
    const len = r.end[row]! - r.start[row]!;
    if (len > 0) out.lambda.set(r.lambda.subarray(from, from + len), out.offset[row]! + r.start[row]! - start[row]!);
    for (let t = 0; t < js.length; t++) {
      const d = delta[row * js.length + t]!;
      if (d !== 0) out.lambda[out.offset[row]! + js[t]! - start[row]!] += d;
    }
  }
  out.constant.set(r.constant);
  out.err.set(r.err);
  return out;
}

/** |W|·absMax + |b| per output of an affine step: the magnitude its rounding errors scale with. */
export function affineMagnitude(step: AffineStep, inAbsMax: Float64Array): Float64Array {
  const w = step.weights;
  const v = new Float64Array(w.rows);
  for (let i = 0; i < w.rows; i++) {
    let s = Math.abs(step.bias[i]!);
    if (w.format === 'dense') for (let j = 0; j < w.cols; j++) s += Math.abs(w.data[i * w.cols + j]!) * inAbsMax[j]!;
    else for (let k = w.rowPtr[i]!; k < w.rowPtr[i + 1]!; k++) s += Math.abs(w.values[k]!) * inAbsMax[w.colIdx[k]!]!;
    v[i] = s;
  }
  return v;
}

/** Per row of a CSR matrix, the smallest and one past the largest column it uses (cached per matrix). */
const columnSpans = new WeakMap<object, { first: Int32Array; last: Int32Array }>();

function spansOf(w: SparseMatrix): { first: Int32Array; last: Int32Array } {
  let s = columnSpans.get(w);
  if (!s) {
    const first = new Int32Array(w.rows).fill(w.cols);
    const last = new Int32Array(w.rows);
    for (let i = 0; i < w.rows; i++) {
      for (let k = w.rowPtr[i]!; k < w.rowPtr[i + 1]!; k++) {
        const j = w.colIdx[k]!;
        if (j < first[i]!) first[i] = j;
        if (j + 1 > last[i]!) last[i] = j + 1;
      }
    }
    s = { first, last };
    columnSpans.set(w, s);
  }
  return s;
}

/**
 * Λ ← ΛW, c ← c + Λb, through an affine step; `magnitude` from `affineMagnitude`, `evalMargins` (optional)
 * the float32 evaluation margin of each row (`evaluation.ts`), added as Σ|λ_i|·evalMargins_i.
 */
export function backAffine(r: LinearRows, step: AffineStep, magnitude: Float64Array, evalMargins?: Float64Array): LinearRows {
  const w = step.weights;
  // The output spans: all columns for a dense W, else the union of the used rows' column spans.
  const start = new Int32Array(r.rows);
  const end = new Int32Array(r.rows);
  const spans = w.format === 'csr' ? spansOf(w) : null;
  for (let row = 0; row < r.rows; row++) {
    let first = w.cols;
    let last = 0;
    const off = r.offset[row]! - r.start[row]!;
    for (let i = r.start[row]!; i < r.end[row]!; i++) {
      if (r.lambda[off + i] === 0) continue;
      if (!spans) {
        first = 0;
        last = w.cols;
        break;
      }
      if (spans.first[i]! < first) first = spans.first[i]!;
      if (spans.last[i]! > last) last = spans.last[i]!;
    }
    start[row] = Math.min(first, last);
    end[row] = last;
  }
  const out = makeRows(r.rows, w.cols, start, end);
  const g = 3 * gamma(Math.max(w.rows, w.cols) + 2);
  for (let row = 0; row < r.rows; row++) {
    const off = r.offset[row]! - r.start[row]!;
    const outOff = out.offset[row]! - out.start[row]!;
    let c = r.constant[row]!;
    let e = 0;
    let e32 = 0;
    for (let i = r.start[row]!; i < r.end[row]!; i++) {
      const lam = r.lambda[off + i]!;
      if (lam === 0) continue;
      c += lam * step.bias[i]!;
      e += Math.abs(lam) * magnitude[i]!;
      if (evalMargins) e32 += Math.abs(lam) * evalMargins[i]!;
      if (w.format === 'dense') {
        const wr = i * w.cols;
        for (let j = 0; j < w.cols; j++) out.lambda[outOff + j] += lam * w.data[wr + j]!;
      } else {
        for (let k = w.rowPtr[i]!; k < w.rowPtr[i + 1]!; k++) out.lambda[outOff + w.colIdx[k]!] += lam * w.values[k]!;
      }
    }
    out.constant[row] = c;
    out.err[row] = r.err[row]! + g * e + e32 * (1 + g);
  }
  return out;
}

/**
 * Λ through a relaxed non-linear step. `alpha` (rows × n, dense, optional) overrides the ReLU lower slopes per
 * row, as alpha-CROWN does.
 */
export function backRelaxed(r: LinearRows, relax: Relaxation, inSize: number, alpha?: Float64Array): LinearRows {
  let start = r.start;
  let end = r.end;
  if (relax.kind === 'maxpool') {
    // Max-pooling maps each row's span through the inputs its coefficients pick.
    start = new Int32Array(r.rows);
    end = new Int32Array(r.rows);
    for (let row = 0; row < r.rows; row++) {
      let first = inSize;
      let last = 0;
      const off = r.offset[row]! - r.start[row]!;
      for (let j = r.start[row]!; j < r.end[row]!; j++) {
        const lam = r.lambda[off + j]!;
        if (lam === 0 || (lam < 0 && !relax.decided[j])) continue;
        const i = relax.argmax[j]!;
        if (i < first) first = i;
        if (i + 1 > last) last = i + 1;
      }
      start[row] = Math.min(first, last);
      end[row] = last;
    }
  }
  const out = makeRows(r.rows, inSize, start, end);
  const g = 2 * gamma(inSize + 2);
  for (let row = 0; row < r.rows; row++) {
    const off = r.offset[row]! - r.start[row]!;
    const outOff = out.offset[row]! - out.start[row]!;
    let c = r.constant[row]!;
    let e = 0;
    if (relax.kind === 'relu') {
      for (let j = r.start[row]!; j < r.end[row]!; j++) {
        const lam = r.lambda[off + j]!;
        if (lam === 0) continue;
        const l = relax.lower[j]!;
        const u = relax.upper[j]!;
        let v: number;
        if (l >= 0) v = lam;
        else if (u <= 0) continue;
        else if (lam >= 0) v = lam * (alpha ? alpha[row * inSize + j]! : relax.alpha[j]!);
        else {
          v = lam * relax.upperSlope[j]!;
          const t = lam * relax.upperIntercept[j]!;
          c += t;
          e += Math.abs(t);
        }
        out.lambda[outOff + j] = v;
        e += Math.abs(v) * relax.absMax[j]!;
      }
    } else if (relax.kind === 'maxpool') {
      for (let j = r.start[row]!; j < r.end[row]!; j++) {
        const lam = r.lambda[off + j]!;
        if (lam === 0) continue;
        const i = relax.argmax[j]!;
        if (lam >= 0 || relax.decided[j]) {
          out.lambda[outOff + i] += lam;
          e += Math.abs(lam) * relax.absMax[i]!;
        } else {
          const t = lam * relax.upperConst[j]!;
          c += t;
          e += Math.abs(t);
        }
      }
    } else {
      for (let j = r.start[row]!; j < r.end[row]!; j++) {
        const lam = r.lambda[off + j]!;
        if (lam === 0) continue;
        const v = lam * relax.slope[j]!;
        const t = lam * (lam >= 0 ? relax.lowerIntercept[j]! : relax.upperIntercept[j]!);
        out.lambda[outOff + j] = v;
        c += t;
        e += Math.abs(v) * relax.absMax[j]! + Math.abs(t);
      }
    }
    out.constant[row] = c;
    out.err[row] = r.err[row]! + g * e;
  }
  return out;
}

/** The sound lower bound of each row over the input box (rounded down by the row's error bound). */
export function concretizeLower(r: LinearRows, box: Interval): Float64Array {
  const out = new Float64Array(r.rows);
  const g = 2 * gamma(r.n + 2);
  for (let row = 0; row < r.rows; row++) {
    const off = r.offset[row]! - r.start[row]!;
    let s = r.constant[row]!;
    let mag = Math.abs(s);
    for (let j = r.start[row]!; j < r.end[row]!; j++) {
      const lam = r.lambda[off + j]!;
      if (lam === 0) continue;
      const l = box.lower[j]!;
      const u = box.upper[j]!;
      s += lam >= 0 ? lam * l : lam * u;
      mag += Math.abs(lam) * Math.max(Math.abs(l), Math.abs(u));
    }
    out[row] = roundDown(s, r.err[row]! + g * mag);
  }
  return out;
}
