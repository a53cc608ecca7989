/**
 * Builds a NetworkIR step by step while folding consecutive linear operations into one affine step: a chain such
 * as Sub(mean) → Div(std) → Conv → Add(bias) becomes a single `affine` step, so bound propagation never loses
 * precision between two linear maps (interval arithmetic is exact on element-wise maps but not on products of
 * matrices). Both importers (ONNX and qrobust model directories) use it.
 *
 * The pending map is y = M·(d ∘ x) + b over the output of the last non-linear step, with M, d and b each
 * possibly absent (identity, ones, zeros).
 *
 * Each emitted step records how the source network evaluates the chain in float32 (`AffineStep.float32`, for
 * the evaluation margin of `evaluation.ts`): the roundings the folded ops add on each term's path (two per
 * element-wise op: its own and a possible constant folding by the runtime; one per matrix for its folded
 * weights; none for a pure permutation such as Transpose), and the bias as a sum of absolute values. The margin
 * needs |folded W| = |A_k|···|A_1|, true when at most one of the folded matrices has several entries in a row
 * and in a column; a second such matrix is therefore not folded in but starts a new step.
 */
import { QrobustError } from '../../core/errors.js';
import { matVec, validateIR, type DynamicQuantizeScheme, type IRStep, type Matrix, type NetworkIR, type SmoothFunction } from '../ir.js';
import { densified, diagonalMatrix, matMul, scaleMatrix } from './matrix.js';

/** Two matrices are multiplied into one when the product has at most this many entries (else kept as two steps). */
const MAX_FOLDED_ENTRIES = 4_000_000;

export class IrBuilder {
  private readonly steps: IRStep[] = [];
  private size: number;
  private m: Matrix | null = null;
  private d: Float64Array | null = null;
  private b: Float64Array | null = null;
  /** Σ of absolute values of the terms of b (the float32 evaluation's bias magnitude). */
  private absB: Float64Array | null = null;
  /** Roundings the folded ops add on each term's path in a float32 evaluation (beyond one dot product). */
  private depth = 0;
  private names: string[] = [];

  constructor(
    private readonly inputSize: number,
    private readonly source: string,
  ) {
    this.size = inputSize;
  }

  /** The length of the current vector. */
  get currentSize(): number {
    return this.size;
  }

  private expect(n: number, name: string): void {
    if (n !== this.size) throw new QrobustError('shape_mismatch', `${this.source}: '${name}' expects ${n} values but receives ${this.size}`);
  }

  /** x ← x + c. */
  add(c: Float64Array, name: string): void {
    this.expect(c.length, name);
    const b = this.b ?? new Float64Array(this.size);
    const ab = this.absB ?? new Float64Array(this.size);
    for (let i = 0; i < b.length; i++) {
      b[i] += c[i]!;
      ab[i] += Math.abs(c[i]!);
    }
    this.b = b;
    this.absB = ab;
    this.depth += 2;
    this.names.push(name);
  }

  /** x ← e ∘ x (element-wise). */
  scale(e: Float64Array, name: string): void {
    this.expect(e.length, name);
    if (this.m) this.m = scaleMatrix(this.m, e, null);
    else this.d = this.d ? this.d.map((v, i) => v * e[i]!) : Float64Array.from(e);
    if (this.b) this.b = this.b.map((v, i) => v * e[i]!);
    if (this.absB) this.absB = this.absB.map((v, i) => v * Math.abs(e[i]!));
    this.depth += 2;
    this.names.push(name);
  }

  /** x ← W x + bias. */
  linear(w: Matrix, bias: Float64Array | null, name: string): void {
    this.expect(w.cols, name);
    if (bias && bias.length !== w.rows) throw new QrobustError('shape_mismatch', `${this.source}: '${name}' has ${bias.length} biases for ${w.rows} outputs`);
    if (this.m && w.rows * this.m.cols > MAX_FOLDED_ENTRIES) this.flush();
    // |W·M| = |W|·|M| (which the float32 margin needs) when W has at most one entry per row or M at most one per column.
    if (this.m && maxPerRow(w) > 1 && maxPerRow(transposeShape(this.m)) > 1) this.flush();
    const shift = this.b ? matVec(w, this.b) : null;
    const absShift = this.absB ? matVec(absMatrix(w), this.absB) : null;
    if (this.m) this.m = densified(matMul(w, this.m));
    else this.m = this.d ? scaleMatrix(w, null, this.d) : w;
    this.d = null;
    const b = shift ?? (bias ? new Float64Array(w.rows) : null);
    if (b && bias) for (let i = 0; i < b.length; i++) b[i] += bias[i]!;
    this.b = b;
    const ab = absShift ?? (bias ? new Float64Array(w.rows) : null);
    if (ab && bias) for (let i = 0; i < ab.length; i++) ab[i] += Math.abs(bias[i]!);
    this.absB = ab;
    // A permutation (one ±1 per row) is exact; any other matrix's weights may be folded in float32 by the runtime.
    if (!isSignedPermutation(w)) this.depth += 1;
    this.size = w.rows;
    this.names.push(name);
  }

  /** Emits the pending affine map as one step (nothing when it is the identity). */
  private flush(): void {
    const name = this.names.join('+') || 'identity';
    this.names = [];
    if (!this.m && !this.d && !this.b) return;
    const inSize = this.m ? this.m.cols : this.size;
    const weights = this.m ?? diagonalMatrix(this.d ?? new Float64Array(this.size).fill(1));
    const bias = this.b ?? new Float64Array(weights.rows);
    const absBias = this.absB ?? new Float64Array(weights.rows);
    this.steps.push({ kind: 'affine', name, inSize, outSize: weights.rows, weights, bias, float32: { extraDepth: this.depth, absBias } });
    this.m = null;
    this.d = null;
    this.b = null;
    this.absB = null;
    this.depth = 0;
  }

  relu(name: string): void {
    this.flush();
    this.steps.push({ kind: 'relu', name, size: this.size });
  }

  maxpool(offsets: Int32Array, indices: Int32Array, name: string): void {
    this.flush();
    for (let j = 0; j + 1 < offsets.length; j++) {
      if (offsets[j + 1]! <= offsets[j]!) throw new QrobustError('unsupported_layer', `${this.source}: max-pooling '${name}' has an output whose window lies entirely in the padding`);
    }
    for (const i of indices) if (i < 0 || i >= this.size) throw new QrobustError('shape_mismatch', `${this.source}: max-pooling '${name}' reads index ${i} of ${this.size}`);
    this.steps.push({ kind: 'maxpool', name, inSize: this.size, outSize: offsets.length - 1, offsets, indices });
    this.size = offsets.length - 1;
  }

  quantize(scale: Float64Array, zeroPoint: Float64Array, qmin: number, qmax: number, name: string): void {
    this.flush();
    if (scale.length !== 1 && scale.length !== this.size) throw new QrobustError('shape_mismatch', `${this.source}: quantizer '${name}' has ${scale.length} scales for ${this.size} values`);
    this.steps.push({ kind: 'quantize', name, size: this.size, scale, zeroPoint, qmin, qmax });
  }

  /** The run-time input quantizer of a hybrid layer, on the whole current vector. */
  dynamicQuantize(scheme: DynamicQuantizeScheme, name: string): void {
    this.flush();
    this.steps.push({ kind: 'dynamicQuantize', name, size: this.size, scheme });
  }

  /** sigmoid or tanh on the elements [from, to) of the current vector. */
  smooth(fn: SmoothFunction, from: number, to: number, name: string): void {
    this.flush();
    if (!(from >= 0 && from <= to && to <= this.size)) throw new QrobustError('shape_mismatch', `${this.source}: '${name}' acts on [${from}, ${to}) of ${this.size} values`);
    this.steps.push({ kind: 'smooth', name, size: this.size, fn, from, to });
  }

  /** The finished, validated IR. */
  finish(inputShape: readonly number[]): NetworkIR {
    this.flush();
    const ir: NetworkIR = { inputSize: this.inputSize, inputShape: [...inputShape], outputSize: this.size, steps: [...this.steps], source: this.source };
    validateIR(ir);
    return ir;
  }
}

/** The most nonzero entries in one row. */
function maxPerRow(m: Matrix): number {
  if (m.format === 'dense') {
    let best = 0;
    for (let i = 0; i < m.rows; i++) {
      let n = 0;
      for (let j = 0; j < m.cols; j++) if (m.data[i * m.cols + j] !== 0) n++;
      best = Math.max(best, n);
    }
    return best;
  }
  let best = 0;
  for (let i = 0; i < m.rows; i++) best = Math.max(best, m.rowPtr[i + 1]! - m.rowPtr[i]!);
  return best;
}

/** The transpose's sparsity pattern (values kept), enough for `maxPerRow` of the columns. */
function transposeShape(m: Matrix): Matrix {
  const counts = new Int32Array(m.cols + 1);
  if (m.format === 'dense') {
    for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) if (m.data[i * m.cols + j] !== 0) counts[j + 1]!++;
  } else {
    for (let k = 0; k < m.colIdx.length; k++) if (m.values[k] !== 0) counts[m.colIdx[k]! + 1]!++;
  }
  for (let j = 0; j < m.cols; j++) counts[j + 1]! += counts[j]!;
  return { format: 'csr', rows: m.cols, cols: m.rows, rowPtr: counts, colIdx: new Int32Array(counts[m.cols]!), values: new Float64Array(counts[m.cols]!) };
}

function absMatrix(m: Matrix): Matrix {
  return m.format === 'dense' ? { ...m, data: m.data.map(Math.abs) } : { ...m, values: m.values.map(Math.abs) };
}

/** One entry of ±1 per row (a permutation or selection, with signs): applying it rounds nothing. */
function isSignedPermutation(m: Matrix): boolean {
  if (m.format === 'dense') {
    for (let i = 0; i < m.rows; i++) {
      let n = 0;
      for (let j = 0; j < m.cols; j++) {
        const v = m.data[i * m.cols + j]!;
        if (v === 0) continue;
        if (Math.abs(v) !== 1 || ++n > 1) return false;
      }
    }
    return true;
  }
  for (let i = 0; i < m.rows; i++) {
    if (m.rowPtr[i + 1]! - m.rowPtr[i]! > 1) return false;
    for (let k = m.rowPtr[i]!; k < m.rowPtr[i + 1]!; k++) if (Math.abs(m.values[k]!) !== 1) return false;
  }
  return true;
}
