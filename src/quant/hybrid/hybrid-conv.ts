/**
 * One dynamically quantized convolution: the example's whole input is quantized on the fly
 * (`input-quantizer.ts`), the products (q_x − zp_x)·(q_w − zp_w) are summed exactly in int32 (padding adds
 * nothing: it holds the zero point, or is skipped), and the sum is rescaled to float32 and added to the bias.
 * NHWC, one example at a time; strides and TF-style padding as the layer graph holds them.
 *
 * - ONNX Runtime (`DynamicQuantizeLinear → ConvInteger → Cast → Mul(s_x·s_w) → bias Add`) and TFLite's hybrid
 *   CONV_2D with per-tensor weights (conv.cc EvalHybrid: symmetric inputs) rescale as a hybrid dense layer
 *   does: bias + acc · f32(s_x · s_w) (`rescaleHybrid`).
 * - TFLite's hybrid CONV_2D with per-channel weights (EvalHybridPerChannel: asymmetric inputs) follows the
 *   reference kernel (reference/conv.h HybridConvPerChannel): (acc · s_w[c]) · s_x, then + bias, each step in
 *   float32. TFLite's interpreter (its default XNNPACK delegate) rounds this path in another order: measured,
 *   45 of 64 outputs bit-equal and at most 1.2 float32 ulps apart on the test fixture, at most 10 ulps on
 *   random 6×6 convolutions; the per-tensor path is bit-equal to it.
 */
import type { DynamicInputQuantization } from '../../import/types.js';
import type { WindowGeometry } from '../../models/window.js';
import { activate, quantizeHybridInput, rescaleHybrid, type HybridActivation } from './hybrid-dense.js';

const f32 = Math.fround;

export interface HybridConvLayer extends WindowGeometry {
  /** Weight codes minus their zero point, `[co][kh·kw·ci]`. */
  readonly weights: Int16Array;
  /** float32 weight scales: one, or one per output channel. */
  readonly weightScale: Float32Array;
  readonly bias: Float32Array;
  readonly activation: HybridActivation;
  readonly inputQuantization: DynamicInputQuantization;
}

/**
 * `emit(Σ_i weights[c·k + i] · patch[i], c, outIndex)` for every output position and channel `c` of one example:
 * the patch (`[ky][kx][ci]`, k = kh·kw·ci) is read from `values` with 0 outside the image. Sums of small
 * integers are exact in float64.
 */
export function convolve(g: WindowGeometry, values: Float64Array, weights: ArrayLike<number>, channels: number, emit: (acc: number, c: number, outIndex: number) => void): void {
  const [h, w, ci] = g.inShape;
  const [oh, ow] = g.outShape;
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.strides;
  const k = kh * kw * ci;
  const patch = new Float64Array(k);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - g.padTop + ky;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - g.padLeft + kx;
          const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
          const base = (ky * kw + kx) * ci;
          const src = (iy * w + ix) * ci;
          for (let c = 0; c < ci; c++) patch[base + c] = inside ? values[src + c]! : 0;
        }
      }
      const o = (oy * ow + ox) * channels;
      for (let c = 0; c < channels; c++) {
        const wb = c * k;
        let acc = 0;
        for (let i = 0; i < k; i++) acc += weights[wb + i]! * patch[i]!;
        emit(acc, c, o + c);
      }
    }
  }
}

/** The layer's outputs `[batch, oh·ow·co]` (float32, NHWC) for inputs `[batch, h·w·ci]`. */
export function hybridConvForward(layer: HybridConvLayer, x: Float32Array, batch: number): Float32Array {
  const [h, w, ci] = layer.inShape;
  const [oh, ow, co] = layer.outShape;
  const inSize = h * w * ci;
  const outSize = oh * ow * co;
  const out = new Float32Array(batch * outSize);
  const codes = new Int16Array(inSize);
  const offsets = new Float64Array(inSize);
  for (let b = 0; b < batch; b++) {
    const q = quantizeHybridInput(layer.inputQuantization, x.subarray(b * inSize, (b + 1) * inSize), codes);
    for (let i = 0; i < inSize; i++) offsets[i] = codes[i]! - q.zeroPoint;
    const base = b * outSize;
    const perChannelReference = layer.inputQuantization === 'asymmetric';
    convolve(layer, offsets, layer.weights, co, (acc, c, o) => {
      out[base + o] = perChannelReference
        ? activate(layer.activation, f32(f32(f32(f32(acc | 0) * layer.weightScale[layer.weightScale.length > 1 ? c : 0]!) * q.scale) + layer.bias[c]!))
        : rescaleHybrid(acc | 0, c, q.scale, layer.weightScale, layer.bias, layer.activation);
    });
  }
  return out;
}
