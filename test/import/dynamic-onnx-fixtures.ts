/**
 * ONNX files written the way ONNX Runtime's dynamic quantizer (`quantize_dynamic`) writes them, for the import
 * tests: each MatMul or Conv becomes DynamicQuantizeLinear → MatMulInteger/ConvInteger → Cast → Mul by
 * Mul(s_x, s_w), the bias a float Add after it; weights int8 symmetric (s = max|w| / 127, zp 0, as the quantizer's
 * default QInt8) or uint8 asymmetric (QUInt8: the range [min(w, 0), max(w, 0)] on [0, 255]), per tensor or per
 * output channel. The float form of the same network (weights dequantized) is written too.
 */
import { DataType } from '../../src/onnx/schema.js';
import { writeOnnxModel } from '../../src/onnx/index.js';
import type { OnnxAttribute } from '../../src/onnx/model.js';
import { Writer } from './quantized-onnx-fixtures.js';

export type DynamicLayer =
  | { readonly kind: 'conv'; readonly weight: Float32Array; readonly dims: readonly [number, number, number, number]; readonly bias: Float32Array; readonly pads: number; readonly relu: boolean }
  | { readonly kind: 'matmul'; readonly weight: Float32Array; readonly dims: readonly [number, number]; readonly bias: Float32Array; readonly relu: boolean }
  | { readonly kind: 'maxpool' }
  | { readonly kind: 'flatten' };

export interface WeightQuantization {
  readonly type: 'int8' | 'uint8';
  readonly perChannel: boolean;
}

const ints = (name: string, value: number[]): OnnxAttribute => ({ name, type: 'ints', value });
const int = (name: string, value: number): OnnxAttribute => ({ name, type: 'int', value });

interface QuantizedWeight {
  readonly codes: Int8Array | Uint8Array;
  readonly scale: Float32Array;
  readonly zeroPoint: Int8Array | Uint8Array;
  /** (q − zp) · s in float32, in the weight's own layout. */
  readonly dequantized: Float32Array;
}

/** Quantizes a weight whose output channels lie along `axis` 0 (conv `[M, ...]`) or 1 (matmul `[K, N]`). */
function quantizeWeight(weight: Float32Array, dims: readonly number[], axis: 0 | 1, q: WeightQuantization): QuantizedWeight {
  const channels = q.perChannel ? dims[axis]! : 1;
  const stride = axis === 0 ? weight.length / dims[0]! : 1;
  const count = axis === 0 ? dims[0]! : dims[1]!;
  const channelOf = (i: number): number => (channels === 1 ? 0 : axis === 0 ? Math.floor(i / stride) : i % count);
  const lo = new Float64Array(channels).fill(0);
  const hi = new Float64Array(channels).fill(0);
  weight.forEach((w, i) => {
    const c = channelOf(i);
    lo[c] = Math.min(lo[c]!, w);
    hi[c] = Math.max(hi[c]!, w);
  });
  const scale = new Float32Array(channels);
  const zp = new Array<number>(channels);
  for (let c = 0; c < channels; c++) {
    if (q.type === 'int8') {
      scale[c] = Math.fround(Math.max(Math.abs(lo[c]!), Math.abs(hi[c]!)) / 127 || 1);
      zp[c] = 0;
    } else {
      scale[c] = Math.fround((hi[c]! - lo[c]!) / 255 || 1);
      zp[c] = Math.min(255, Math.max(0, Math.round(-lo[c]! / scale[c]!)));
    }
  }
  const [qmin, qmax] = q.type === 'int8' ? [-127, 127] : [0, 255];
  const codes = q.type === 'int8' ? new Int8Array(weight.length) : new Uint8Array(weight.length);
  const dequantized = new Float32Array(weight.length);
  weight.forEach((w, i) => {
    const c = channelOf(i);
    const code = Math.min(qmax, Math.max(qmin, Math.round(w / scale[c]!) + zp[c]!));
    codes[i] = code;
    dequantized[i] = Math.fround((code - zp[c]!) * scale[c]!);
  });
  return { codes, scale, zeroPoint: q.type === 'int8' ? Int8Array.from(zp) : Uint8Array.from(zp), dequantized };
}

export interface DynamicOnnxFixture {
  /** The dynamically quantized file. */
  readonly bytes: Uint8Array;
  /** The same network in float with the dequantized weights. */
  readonly floatBytes: Uint8Array;
  readonly output: string;
}

/** Writes the network in ONNX Runtime's dynamic-quantization form and in float (see the module comment). */
export function dynamicOnnx(layers: readonly DynamicLayer[], inputShape: readonly number[], q: WeightQuantization): DynamicOnnxFixture {
  const w = new Writer();
  const f = new Writer();
  let x = 'input';
  let xf = 'input';
  for (const l of layers) {
    if (l.kind === 'maxpool' || l.kind === 'flatten') {
      const attrs = l.kind === 'maxpool' ? [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])] : [int('axis', 1)];
      const op = l.kind === 'maxpool' ? 'MaxPool' : 'Flatten';
      x = w.node(op, [x], attrs);
      xf = f.node(op, [xf], attrs);
      continue;
    }
    const axis = l.kind === 'conv' ? 0 : 1;
    const qw = quantizeWeight(l.weight, l.dims, axis, q);
    const wType = q.type === 'int8' ? DataType.INT8 : DataType.UINT8;
    const channels = qw.scale.length;
    const paramDims = q.perChannel ? [channels] : [];
    const [xq, xs, xz] = w.nodeWithOutputs('DynamicQuantizeLinear', [x], [], [w.fresh('xq'), w.fresh('xs'), w.fresh('xz')]) as [string, string, string];
    const wq = w.init('Wq', wType, [...l.dims], qw.codes);
    // ONNX Runtime's ConvInteger takes one weight zero point (per-channel scales are fine: they are a Mul).
    const oneZeroPoint = l.kind === 'conv' && qw.zeroPoint.every((z) => z === qw.zeroPoint[0]);
    const wz = oneZeroPoint ? w.init('wz', wType, [], qw.zeroPoint.slice(0, 1)) : w.init('wz', wType, paramDims, qw.zeroPoint);
    const convAttrs = l.kind === 'conv' ? [ints('pads', [l.pads, l.pads, l.pads, l.pads])] : [];
    const acc = w.node(l.kind === 'conv' ? 'ConvInteger' : 'MatMulInteger', [xq, wq, xz, wz], convAttrs);
    const cast = w.node('Cast', [acc], [int('to', DataType.FLOAT)]);
    // Per-channel conv scales broadcast over [N, M, H, W] as [M, 1, 1].
    const scaleDims = q.perChannel && l.kind === 'conv' ? [channels, 1, 1] : paramDims;
    const scales = w.node('Mul', [xs, w.init('ws', DataType.FLOAT, scaleDims, qw.scale)]);
    const scaled = w.node('Mul', [cast, scales]);
    const biasDims = l.kind === 'conv' ? [l.dims[0], 1, 1] : [l.dims[1]];
    const y = w.node('Add', [scaled, w.init('B', DataType.FLOAT, biasDims, l.bias)]);
    x = l.relu ? w.node('Relu', [y]) : y;
    const yf = l.kind === 'conv'
      ? f.node('Conv', [xf, f.init('W', DataType.FLOAT, [...l.dims], qw.dequantized), f.init('B', DataType.FLOAT, [l.dims[0]], l.bias)], convAttrs)
      : f.node('Add', [f.node('MatMul', [xf, f.init('W', DataType.FLOAT, [...l.dims], qw.dequantized)]), f.init('B', DataType.FLOAT, biasDims, l.bias)]);
    xf = l.relu ? f.node('Relu', [yf]) : yf;
  }
  const output = w.node('Identity', [x], [], 'logits');
  f.node('Identity', [xf], [], 'logits');
  return { bytes: writeOnnxModel(w.model(inputShape, output)), floatBytes: writeOnnxModel(f.model(inputShape, 'logits')), output };
}
