/**
 * NetworkIR: the verifiers' view of a feed-forward network. Every tensor is a flat float64 vector; layouts
 * (NHWC from TF.js, NCHW from ONNX) are resolved when the IR is built, so a verifier sees only affine maps,
 * element-wise monotone steps and max-pooling groups over vector indices.
 *
 * - `affine`: y = W x + b. Dense layers, convolutions (as sparse matrices), average pooling, normalization,
 *   Sub/Div by constants and layout permutations all become affine steps.
 * - `relu`: y = max(x, 0), element-wise.
 * - `maxpool`: y_j = max over x[i] for i in group j.
 * - `quantize`: the fake-quant step of a simulated quantized model,
 *   y = (clamp(roundHalfAway(x / s) + z, qmin, qmax) − z) · s, per element (s, z broadcast from one value when
 *   their length is 1). It is monotone and piecewise constant.
 *
 * The input is a vector of `inputSize` values (pixels in [0, 1] for qrobust models, the ONNX input otherwise);
 * the output is the logit vector.
 */
import { QrobustError } from '../core/errors.js';
import { roundHalfAway } from '../quant/rounding.js';
import { dynamicallyQuantized } from '../quant/hybrid/input-quantizer.js';

export interface DenseMatrix {
  readonly format: 'dense';
  readonly rows: number;
  readonly cols: number;
  /** Row-major, rows × cols (row i holds the weights of output i). */
  readonly data: Float64Array;
}

/** Compressed sparse rows: row i holds values[rowPtr[i] .. rowPtr[i+1]) at columns colIdx[...]. */
export interface SparseMatrix {
  readonly format: 'csr';
  readonly rows: number;
  readonly cols: number;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly values: Float64Array;
}

export type Matrix = DenseMatrix | SparseMatrix;

export interface AffineStep {
  readonly kind: 'affine';
  readonly name: string;
  readonly inSize: number;
  readonly outSize: number;
  readonly weights: Matrix;
  readonly bias: Float64Array;
  /**
   * How the source network evaluates this step in float32, for the evaluation margin (`bounds/evaluation.ts`):
   * `extraDepth` roundings per term beyond one dot product plus bias (the element-wise ops and the constant
   * folding the importer merged into the step), and `absBias`, the bias as a sum of absolute values of the
   * folded terms (≥ |bias|). Absent: one dot product plus bias, extra depth 0, |bias|. null: the step is part
   * of a mathematical relaxation that nothing evaluates (`integer/relaxation.ts`), so it has no evaluation margin.
   */
  readonly float32?: { readonly extraDepth: number; readonly absBias: Float64Array } | null;
}

export interface ReluStep {
  readonly kind: 'relu';
  readonly name: string;
  readonly size: number;
}

export interface MaxPoolStep {
  readonly kind: 'maxpool';
  readonly name: string;
  readonly inSize: number;
  readonly outSize: number;
  /** Output j is the maximum of x[indices[offsets[j] .. offsets[j+1])]. */
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
}

export interface QuantizeStep {
  readonly kind: 'quantize';
  readonly name: string;
  readonly size: number;
  /** Length 1 (per tensor) or `size` (per element, e.g. per channel expanded). */
  readonly scale: Float64Array;
  readonly zeroPoint: Float64Array;
  readonly qmin: number;
  readonly qmax: number;
}

/**
 * A smooth S-shaped activation, sigmoid 1/(1 + e^−x) or tanh, on the elements [from, to) of the vector; the
 * others pass unchanged. Bounds use sound linear bands; complete methods refuse it.
 */
export interface SmoothStep {
  readonly kind: 'smooth';
  readonly name: string;
  readonly size: number;
  readonly fn: SmoothFunction;
  readonly from: number;
  readonly to: number;
}

export type SmoothFunction = 'sigmoid' | 'tanh';

/**
 * The run-time input quantizer of a dynamic-range (hybrid) layer: the whole vector is quantized to 8 bits with
 * a scale taken from its own range, then the layer multiplies the codes by the dequantized weights, which is
 * the same as multiplying the dequantized vector codes · scale (`quant/hybrid/input-quantizer.ts`):
 * - `symmetric` (TFLite's default): scale = max|x| / 127, codes in [−127, 127];
 * - `asymmetric` (TFLite's `asymmetric_quantize_inputs`): [min(0, min x), max(0, max x)] onto [−128, 127];
 * - `dynamic-quantize-linear` (ONNX Runtime's DynamicQuantizeLinear): the same range onto [0, 255].
 * The step's output depends on every element at once (the scale), so bounds treat it as the identity plus a
 * bounded error (`bounds/dynamic-quantize.ts`); complete methods refuse it.
 */
export interface DynamicQuantizeStep {
  readonly kind: 'dynamicQuantize';
  readonly name: string;
  readonly size: number;
  readonly scheme: DynamicQuantizeScheme;
}

export type DynamicQuantizeScheme = 'symmetric' | 'asymmetric' | 'dynamic-quantize-linear';

export type IRStep = AffineStep | ReluStep | MaxPoolStep | QuantizeStep | SmoothStep | DynamicQuantizeStep;

/** Steps that only bounds and attacks handle: no complete method encodes them exactly. */
export function stepWithoutCompleteMethod(ir: NetworkIR): SmoothStep | DynamicQuantizeStep | undefined {
  return ir.steps.find((s): s is SmoothStep | DynamicQuantizeStep => s.kind === 'smooth' || s.kind === 'dynamicQuantize');
}

/** sigmoid or tanh of one value, in float64. */
export function smoothValue(fn: SmoothFunction, x: number): number {
  return fn === 'tanh' ? Math.tanh(x) : 1 / (1 + Math.exp(-x));
}

/** The derivative of sigmoid or tanh at x. */
export function smoothDerivative(fn: SmoothFunction, x: number): number {
  const y = smoothValue(fn, x);
  return fn === 'tanh' ? 1 - y * y : y * (1 - y);
}

export interface NetworkIR {
  readonly inputSize: number;
  /** The input's shape as its source describes it (e.g. [28, 28, 1] NHWC or [1, 28, 28] NCHW), for reports. */
  readonly inputShape: readonly number[];
  readonly outputSize: number;
  readonly steps: readonly IRStep[];
  /** Where the IR came from, e.g. a model directory or an ONNX file. */
  readonly source: string;
}

export function stepInSize(step: IRStep): number {
  return step.kind === 'affine' || step.kind === 'maxpool' ? step.inSize : step.size;
}

export function stepOutSize(step: IRStep): number {
  return step.kind === 'affine' || step.kind === 'maxpool' ? step.outSize : step.size;
}

/** Checks that consecutive steps agree on sizes; throws a QrobustError naming the first mismatch. */
export function validateIR(ir: NetworkIR): void {
  let size = ir.inputSize;
  for (const step of ir.steps) {
    if (stepInSize(step) !== size) {
      throw new QrobustError('invalid_argument', `${ir.source}: step '${step.name}' expects ${stepInSize(step)} inputs but receives ${size}`);
    }
    if (step.kind === 'affine' && (step.weights.rows !== step.outSize || step.weights.cols !== step.inSize || step.bias.length !== step.outSize)) {
      throw new QrobustError('invalid_argument', `${ir.source}: affine step '${step.name}' has inconsistent weight or bias sizes`);
    }
    size = stepOutSize(step);
  }
  if (size !== ir.outputSize) {
    throw new QrobustError('invalid_argument', `${ir.source}: the last step gives ${size} outputs, the IR declares ${ir.outputSize}`);
  }
}

/** y = W x (+ b when given), in float64. */
export function matVec(m: Matrix, x: Float64Array, bias?: Float64Array): Float64Array {
  const y = new Float64Array(m.rows);
  if (m.format === 'dense') {
    for (let i = 0; i < m.rows; i++) {
      let s = bias ? bias[i]! : 0;
      const row = i * m.cols;
      for (let j = 0; j < m.cols; j++) s += m.data[row + j]! * x[j]!;
      y[i] = s;
    }
  } else {
    for (let i = 0; i < m.rows; i++) {
      let s = bias ? bias[i]! : 0;
      for (let k = m.rowPtr[i]!; k < m.rowPtr[i + 1]!; k++) s += m.values[k]! * x[m.colIdx[k]!]!;
      y[i] = s;
    }
  }
  return y;
}

/** One step's concrete output, in float64. */
export function applyStep(step: IRStep, x: Float64Array): Float64Array {
  switch (step.kind) {
    case 'affine':
      return matVec(step.weights, x, step.bias);
    case 'relu':
      return x.map((v) => (v > 0 ? v : 0));
    case 'maxpool': {
      const y = new Float64Array(step.outSize);
      for (let j = 0; j < step.outSize; j++) {
        let m = -Infinity;
        for (let k = step.offsets[j]!; k < step.offsets[j + 1]!; k++) m = Math.max(m, x[step.indices[k]!]!);
        y[j] = m;
      }
      return y;
    }
    case 'quantize': {
      const y = new Float64Array(step.size);
      const perElement = step.scale.length > 1;
      for (let i = 0; i < step.size; i++) {
        const s = perElement ? step.scale[i]! : step.scale[0]!;
        const z = perElement ? step.zeroPoint[i]! : step.zeroPoint[0]!;
        const q = Math.min(step.qmax, Math.max(step.qmin, roundHalfAway(x[i]! / s) + z));
        y[i] = (q - z) * s;
      }
      return y;
    }
    case 'smooth':
      return x.map((v, i) => (i >= step.from && i < step.to ? smoothValue(step.fn, v) : v));
    case 'dynamicQuantize':
      return dynamicallyQuantized(step.scheme, x);
  }
}

/** The network's output for one input, in float64 (the reference semantics every verifier is sound for). */
export function evaluateIR(ir: NetworkIR, input: Float64Array | Float32Array | readonly number[]): Float64Array {
  if (input.length !== ir.inputSize) {
    throw new QrobustError('invalid_argument', `${ir.source}: input has ${input.length} values, the network expects ${ir.inputSize}`);
  }
  let x = Float64Array.from(input);
  for (const step of ir.steps) x = applyStep(step, x);
  return x;
}
