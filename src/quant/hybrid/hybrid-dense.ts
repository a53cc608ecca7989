/**
 * One dynamic-range FULLY_CONNECTED layer as TFLite's reference kernels compute it (fully_connected.cc
 * EvalHybridDense; portable_tensor_utils.cc MatrixBatchVectorMultiplyAccumulate): the output starts as the
 * float bias; each batch row is quantized on the fly (`input-quantizer.ts`); the int8 × int8 products are summed
 * in int32; the row's scale times the weight scale (one float32 product, per tensor or per output channel) turns
 * the sum into float, added to the bias in float32; then the fused activation. With asymmetric inputs, the
 * zero point's contribution `rowSum(weights) · zp` is subtracted from the int32 sum first (in float32, as the
 * C++ does, then truncated back to int32).
 */
import { QrobustError } from '../../core/errors.js';
import { quantizeRowAsymmetric, quantizeRowSymmetric } from './input-quantizer.js';

const f32 = Math.fround;

export type HybridActivation = { readonly kind: 'linear' } | { readonly kind: 'relu' } | { readonly kind: 'clip'; readonly min: number; readonly max: number };

export interface HybridDenseLayer {
  readonly inSize: number;
  readonly units: number;
  /** Integer weights, row `o` (output unit) holding its `inSize` codes: TFLite's `[out, in]` order. */
  readonly weights: Int8Array;
  /** float32 weight scales: one, or one per output unit. */
  readonly weightScale: Float32Array;
  readonly bias: Float32Array;
  readonly activation: HybridActivation;
  readonly inputQuantization: 'symmetric' | 'asymmetric';
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

function activate(a: HybridActivation, v: number): number {
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

/** The layer's outputs `[batch, units]` (float32) for inputs `[batch, inSize]`. */
export function hybridDenseForward(layer: HybridDenseLayer, x: Float32Array, batch: number): Float32Array {
  const { inSize, units, weights, weightScale, bias, activation } = layer;
  const out = new Float32Array(batch * units);
  const q = new Int8Array(inSize);
  const sums = layer.inputQuantization === 'asymmetric' ? rowSums(layer) : null;
  const perChannel = weightScale.length > 1;
  for (let b = 0; b < batch; b++) {
    const row = x.subarray(b * inSize, (b + 1) * inSize);
    let inputScale: number;
    let zeroPoint = 0;
    if (sums) {
      const r = quantizeRowAsymmetric(row, q);
      inputScale = r.scale;
      zeroPoint = r.zeroPoint;
    } else {
      inputScale = quantizeRowSymmetric(row, q);
    }
    const tensorScale = f32(inputScale * weightScale[0]!);
    for (let o = 0; o < units; o++) {
      const base = o * inSize;
      let acc = 0;
      for (let i = 0; i < inSize; i++) acc += weights[base + i]! * q[i]!;
      if (sums) acc = Math.trunc(f32(f32(acc) - f32(sums[o]! * zeroPoint)));
      const scale = perChannel ? f32(inputScale * weightScale[o]!) : tensorScale;
      out[b * units + o] = activate(activation, f32(bias[o]! + f32(f32(acc) * scale)));
    }
  }
  return out;
}
