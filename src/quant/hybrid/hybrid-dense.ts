/**
 * One dynamic-range FULLY_CONNECTED layer as TFLite's reference kernels compute it (fully_connected.cc
 * EvalHybridDense; portable_tensor_utils.cc MatrixBatchVectorMultiplyAccumulate): the output starts as the
 * float bias; each batch row is quantized on the fly (`input-quantizer.ts`); the int8 × int8 products are summed
 * in int32; the row's scale times the weight scale (one float32 product, per tensor or per output channel) turns
 * the sum into float, added to the bias in float32; then the fused activation. With asymmetric inputs, the
 * zero point's contribution `rowSum(weights) · zp` is subtracted from the int32 sum first (in float32, as the
 * C++ does, then truncated back to int32).
 *
 * ONNX Runtime's dynamic quantization (`DynamicQuantizeLinear` → `MatMulInteger` → `Cast` → `Mul` by
 * s_x·s_w → bias `Add`) is the same shape with ONNX's input quantizer (uint8, the example's whole tensor) and
 * an exact int32 sum of (q_x − zp_x)·(q_w − zp_w): `inputQuantization: 'dynamic-quantize-linear'`.
 */
import { QrobustError } from '../../core/errors.js';
import type { DynamicInputQuantization } from '../../import/types.js';
import { quantizeDynamicLinear, quantizeRowAsymmetric, quantizeRowSymmetric } from './input-quantizer.js';

const f32 = Math.fround;

export type HybridActivation = { readonly kind: 'linear' } | { readonly kind: 'relu' } | { readonly kind: 'clip'; readonly min: number; readonly max: number };

export interface HybridDenseLayer {
  readonly inSize: number;
  readonly units: number;
  /** Integer weights minus their zero point (0 for TFLite), row `o` (output unit) holding its `inSize` codes: `[out, in]`. */
  readonly weights: Int16Array;
  /** float32 weight scales: one, or one per output unit. */
  readonly weightScale: Float32Array;
  readonly bias: Float32Array;
  readonly activation: HybridActivation;
  readonly inputQuantization: DynamicInputQuantization;
}

/** Sum of each output unit's weight codes (for the asymmetric zero-point correction). */
function rowSums(layer: HybridDenseLayer): Int32Array {
  const sums = new Int32Array(layer.units);
  for (let o = 0; o < layer.units; o++) {
    let s = 0;
    const base = o * layer.inSize;
    for (let i = 0; i < layer.inSize; i++) s += layer.weights[base + i]!;
    sums[o] = s;
  }
  return sums;
}

/** The fused activation of a hybrid layer's float32 output. */
export function activate(a: HybridActivation, v: number): number {
  if (a.kind === 'relu') return v < 0 ? 0 : v;
  if (a.kind === 'clip') return v < a.min ? a.min : v > a.max ? a.max : v;
  return v;
}

/** Checks a layer's arrays against its sizes. */
export function checkHybridLayer(layer: HybridDenseLayer, name: string): void {
  const ok =
    layer.weights.length === layer.inSize * layer.units &&
    layer.bias.length === layer.units &&
    (layer.weightScale.length === 1 || layer.weightScale.length === layer.units);
  if (!ok) throw new QrobustError('weights_mismatch', `hybrid layer '${name}': weights, bias or scales do not match [${layer.units}, ${layer.inSize}]`);
}

/** An example's input quantized by the layer's rule: codes, the scale, and the zero point. */
export interface QuantizedInput {
  readonly codes: Int16Array;
  readonly scale: number;
  readonly zeroPoint: number;
}

/** Quantizes one example's input (`codes` is reused, of the input's length). */
export function quantizeHybridInput(mode: DynamicInputQuantization, x: Float32Array, codes: Int16Array): QuantizedInput {
  if (mode === 'symmetric') return { codes, scale: quantizeRowSymmetric(x, codes), zeroPoint: 0 };
  const r = mode === 'asymmetric' ? quantizeRowAsymmetric(x, codes) : quantizeDynamicLinear(x, codes);
  return { codes, scale: r.scale, zeroPoint: r.zeroPoint };
}

/** The float32 output of an int32 sum `acc` for output channel `o`: bias + acc · (s_x · s_w), then the activation. */
export function rescaleHybrid(acc: number, o: number, inputScale: number, weightScale: Float32Array, bias: Float32Array, activation: HybridActivation): number {
  const scale = f32(inputScale * weightScale[weightScale.length > 1 ? o : 0]!);
  return activate(activation, f32(bias[o]! + f32(f32(acc) * scale)));
}

/** The layer's outputs `[batch, units]` (float32) for inputs `[batch, inSize]`. */
export function hybridDenseForward(layer: HybridDenseLayer, x: Float32Array, batch: number): Float32Array {
  const { inSize, units, weights, weightScale, bias, activation } = layer;
  const out = new Float32Array(batch * units);
  const codes = new Int16Array(inSize);
  const tflite = layer.inputQuantization !== 'dynamic-quantize-linear';
  const sums = layer.inputQuantization === 'asymmetric' ? rowSums(layer) : null;
  for (let b = 0; b < batch; b++) {
    const { scale, zeroPoint } = quantizeHybridInput(layer.inputQuantization, x.subarray(b * inSize, (b + 1) * inSize), codes);
    for (let o = 0; o < units; o++) {
      const base = o * inSize;
      let acc = 0;
      if (tflite) {
        for (let i = 0; i < inSize; i++) acc += weights[base + i]! * codes[i]!;
        if (sums) acc = Math.trunc(f32(f32(acc) - f32(sums[o]! * zeroPoint)));
      } else {
        for (let i = 0; i < inSize; i++) acc += weights[base + i]! * (codes[i]! - zeroPoint);
        acc |= 0;
      }
      out[b * units + o] = rescaleHybrid(acc, o, scale, weightScale, bias, activation);
    }
  }
  return out;
}
