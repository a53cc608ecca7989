/**
 * Small matrix helpers for building and transforming IR weights: CSR construction, diagonal and permutation
 * matrices, row/column scaling, and products (to fold consecutive affine maps). Dense matrices are row-major.
 */
import type { DenseMatrix, Matrix, SparseMatrix } from '../ir.js';

export function denseMatrix(rows: number, cols: number, data: Float64Array): DenseMatrix {
  return { format: 'dense', rows, cols, data };
}

/** Builds a CSR matrix row by row: call `add(col, value)` for the entries of the current row, then `endRow()`. */
export class CsrBuilder {
  private readonly rowPtr: number[] = [0];
  private readonly colIdx: number[] = [];
  private readonly values: number[] = [];

  constructor(private readonly cols: number) {}

  add(col: number, value: number): void {
    if (value === 0) return;
    this.colIdx.push(col);
    this.values.push(value);
  }

  endRow(): void {
    this.rowPtr.push(this.colIdx.length);
  }

  finish(): SparseMatrix {
    return {
      format: 'csr',
      rows: this.rowPtr.length - 1,
      cols: this.cols,
      rowPtr: Int32Array.from(this.rowPtr),
      colIdx: Int32Array.from(this.colIdx),
      values: Float64Array.from(this.values),
    };
  }
}

/** The matrix in dense form when at least half of its entries are nonzero (where dense products are faster). */
export function densified(m: Matrix): Matrix {
  if (m.format === 'dense' || 2 * m.values.length < m.rows * m.cols) return m;
  const data = new Float64Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++) for (let k = m.rowPtr[i]!; k < m.rowPtr[i + 1]!; k++) data[i * m.cols + m.colIdx[k]!] = m.values[k]!;
  return denseMatrix(m.rows, m.cols, data);
}

/** diag(d) as a CSR matrix. */
export function diagonalMatrix(d: Float64Array): SparseMatrix {
  const b = new CsrBuilder(d.length);
  for (let i = 0; i < d.length; i++) {
    b.add(i, d[i]!);
    b.endRow();
  }
  return b.finish();
}

/** The matrix P with (P x)[i] = x[perm[i]] (built straight into typed arrays: an input order can be large). */
export function permutationMatrix(perm: Int32Array | readonly number[]): SparseMatrix {
  const n = perm.length;
  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) rowPtr[i] = i;
  return { format: 'csr', rows: n, cols: n, rowPtr, colIdx: Int32Array.from(perm), values: new Float64Array(n).fill(1) };
}

/** diag(r) · M · diag(c) (either may be null for the identity). */
export function scaleMatrix(m: Matrix, r: Float64Array | null, c: Float64Array | null): Matrix {
  if (m.format === 'dense') {
    const data = new Float64Array(m.data.length);
    for (let i = 0; i < m.rows; i++) {
      const ri = r ? r[i]! : 1;
      for (let j = 0; j < m.cols; j++) data[i * m.cols + j] = m.data[i * m.cols + j]! * ri * (c ? c[j]! : 1);
    }
    return denseMatrix(m.rows, m.cols, data);
  }
  const values = new Float64Array(m.values.length);
  for (let i = 0; i < m.rows; i++) {
    const ri = r ? r[i]! : 1;
    for (let k = m.rowPtr[i]!; k < m.rowPtr[i + 1]!; k++) values[k] = m.values[k]! * ri * (c ? c[m.colIdx[k]!]! : 1);
  }
  return { ...m, values };
}

/**
 * The product A · B: dense when both are dense, else CSR. Used to fold two consecutive affine maps into one.
 */
export function matMul(a: Matrix, b: Matrix): Matrix {
  const bRows: { cols: Int32Array | null; vals: Float64Array; start: number; end: number }[] = [];
  for (let k = 0; k < b.rows; k++) {
    bRows.push(
      b.format === 'dense'
        ? { cols: null, vals: b.data, start: k * b.cols, end: (k + 1) * b.cols }
        : { cols: b.colIdx, vals: b.values, start: b.rowPtr[k]!, end: b.rowPtr[k + 1]! },
    );
  }
  const acc = new Float64Array(b.cols);
  const builder = new CsrBuilder(b.cols);
  const dense = a.format === 'dense' && b.format === 'dense';
  const out = dense ? new Float64Array(a.rows * b.cols) : null;
  for (let i = 0; i < a.rows; i++) {
    acc.fill(0);
    const visit = (k: number, v: number): void => {
      const r = bRows[k]!;
      if (r.cols === null) for (let t = r.start; t < r.end; t++) acc[t - r.start] += v * r.vals[t]!;
      else for (let t = r.start; t < r.end; t++) acc[r.cols[t]!] += v * r.vals[t]!;
    };
    if (a.format === 'dense') for (let k = 0; k < a.cols; k++) visit(k, a.data[i * a.cols + k]!);
    else for (let t = a.rowPtr[i]!; t < a.rowPtr[i + 1]!; t++) visit(a.colIdx[t]!, a.values[t]!);
    if (out) out.set(acc, i * b.cols);
    else {
      for (let j = 0; j < b.cols; j++) builder.add(j, acc[j]!);
      builder.endRow();
    }
  }
  return out ? denseMatrix(a.rows, b.cols, out) : builder.finish();
}
