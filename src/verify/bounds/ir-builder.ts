/**
 * Builds a NetworkIR step by step while folding consecutive linear operations into one affine step: a chain such
 * as Sub(mean) → Div(std) → Conv → Add(bias) becomes a single `affine` step, so bound propagation never loses
 * precision between two linear maps (interval arithmetic is exact on element-wise maps but not on products of
 * matrices). Both importers (ONNX and qrobust model directories) use it.
 *
 * The pending map is y = M·(d ∘ x) + b over the output of the last non-linear step, with M, d and b each
 * possibly absent (identity, ones, zeros).
 */
import { QrobustError } from '../../core/errors.js';
import { matVec, validateIR, type IRStep, type Matrix, type NetworkIR, type SmoothFunction } from '../ir.js';
import { diagonalMatrix, matMul, scaleMatrix } from './matrix.js';

/** Two matrices are multiplied into one when the product has at most this many entries (else kept as two steps). */
const MAX_FOLDED_ENTRIES = 4_000_000;

export class IrBuilder {
  private readonly steps: IRStep[] = [];
  private size: number;
  private m: Matrix | null = null;
  private d: Float64Array | null = null;
  private b: Float64Array | null = null;
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
    for (let i = 0; i < b.length; i++) b[i] += c[i]!;
    this.b = b;
    this.names.push(name);
  }

  /** x ← e ∘ x (element-wise). */
  scale(e: Float64Array, name: string): void {
    this.expect(e.length, name);
    if (this.m) this.m = scaleMatrix(this.m, e, null);
    else this.d = this.d ? this.d.map((v, i) => v * e[i]!) : Float64Array.from(e);
    if (this.b) this.b = this.b.map((v, i) => v * e[i]!);
    this.names.push(name);
  }

  /** x ← W x + bias. */
  linear(w: Matrix, bias: Float64Array | null, name: string): void {
    this.expect(w.cols, name);
    if (bias && bias.length !== w.rows) throw new QrobustError('shape_mismatch', `${this.source}: '${name}' has ${bias.length} biases for ${w.rows} outputs`);
    if (this.m && w.rows * this.m.cols > MAX_FOLDED_ENTRIES) this.flush();
    const shift = this.b ? matVec(w, this.b) : null;
    if (this.m) this.m = matMul(w, this.m);
    else this.m = this.d ? scaleMatrix(w, null, this.d) : w;
    this.d = null;
    const b = shift ?? (bias ? new Float64Array(w.rows) : null);
    if (b && bias) for (let i = 0; i < b.length; i++) b[i] += bias[i]!;
    this.b = b;
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
    this.steps.push({ kind: 'affine', name, inSize, outSize: weights.rows, weights, bias: this.b ?? new Float64Array(weights.rows) });
    this.m = null;
    this.d = null;
    this.b = null;
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
