/**
 * Conv2DBackpropInput for the wasm backend (the stock kernel is a scalar loop, about 10x slower than the
 * forward convolution). It is also the forward pass of `conv2dTranspose`.
 *
 * Stride 1: the input gradient of a stride-1 convolution is itself a convolution, of the output gradient
 * padded by `fH-1-padTop` / `fH-1-padBottom` rows and `fW-1-padLeft` / `fW-1-padRight` columns with the
 * filter flipped in both spatial axes and with its in/out channel axes swapped:
 * `dx = conv2d(pad(dy), W'), W'[kh, kw, co, ci] = W[fH-1-kh, fW-1-kw, ci, co]`. It runs on the stock wasm
 * Conv2D (XNNPACK) with explicit padding, when there are at least 4 input channels (see `canUseConvolution`).
 *
 * Otherwise (other strides, few channels, paddings wider than the filter): `dcols = dy · Wᵀ`
 * (`[P, outC] · [outC, K]`) on the stock wasm BatchMatMul, then col2im adds each entry back to the input
 * element it was read from (see `im2col.ts`), in batch chunks of bounded size.
 */
import { tf } from '../tf.js';
import { convGeometry, type ConvGeometry, type PadAttr } from './conv-geometry.js';
import { col2imAdd, imagesPerChunk } from './im2col.js';
import {
  allocF32,
  callWasmKernel,
  f32,
  free,
  heapF32,
  inputOf,
  offsetF32,
  wasmBackendOf,
  withShape,
  type KernelArgs,
  type TensorInfo,
  type WasmBackend,
} from './wasm-heap.js';

interface Conv2DBackpropInputAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/** Kernel function for `Conv2DBackpropInput` (inputs `dy`, `filter`) on the wasm backend. */
export function conv2dBackpropInput(args: KernelArgs): TensorInfo {
  const backend = wasmBackendOf(args);
  const dy = inputOf(args, 'dy');
  const filter = inputOf(args, 'filter');
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const g = convGeometry('Conv2DBackpropInput', inputShape, filter.shape, strides, pad, dimRoundingMode, dataFormat);
  if (dy.shape.join() !== [g.batch, g.outH, g.outW, g.outC].join()) {
    throw new Error(`qrobust's wasm Conv2DBackpropInput: dy has shape [${dy.shape}], expected [${[g.batch, g.outH, g.outW, g.outC]}]`);
  }
  if (tf.util.sizeFromShape(inputShape) === 0 || g.outH * g.outW * g.outC === 0) {
    const out = allocF32(backend, [...inputShape]);
    f32(backend, out).fill(0);
    return out;
  }
  return canUseConvolution(g) ? viaConvolution(backend, dy, filter, g) : viaCol2im(backend, dy, filter, g);
}

/**
 * Stride 1 and padding no wider than the filter: the transposed convolution is a plain convolution. It is
 * only worth it with several input channels (the convolution's outputs): XNNPACK computes output channels in
 * groups of 4 or 8, so a 1-3 channel result wastes most of the work and matmul + col2im is faster.
 */
export function canUseConvolution(g: ConvGeometry): boolean {
  return (
    g.inC >= 4 &&
    g.sH === 1 &&
    g.sW === 1 &&
    g.padTop <= g.fH - 1 &&
    g.padBottom <= g.fH - 1 &&
    g.padLeft <= g.fW - 1 &&
    g.padRight <= g.fW - 1
  );
}

function viaConvolution(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const { fH, fW, inC, outC } = g;
  const flipped = allocF32(backend, [fH, fW, outC, inC]);
  const w = f32(backend, filter);
  const wt = f32(backend, flipped);
  for (let kh = 0; kh < fH; kh++) {
    for (let kw = 0; kw < fW; kw++) {
      const src = ((fH - 1 - kh) * fW + (fW - 1 - kw)) * inC * outC;
      const dst = (kh * fW + kw) * outC * inC;
      for (let ci = 0; ci < inC; ci++) {
        for (let co = 0; co < outC; co++) wt[dst + co * inC + ci] = w[src + ci * outC + co];
      }
    }
  }
  const padding = [
    [0, 0],
    [fH - 1 - g.padTop, fH - 1 - g.padBottom],
    [fW - 1 - g.padLeft, fW - 1 - g.padRight],
    [0, 0],
  ];
  const dx = callWasmKernel(
    'Conv2D',
    backend,
    { x: dy, filter: flipped },
    { strides: [1, 1], pad: padding, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined },
  );
  free(backend, flipped);
  if (dx.shape.join() !== [g.batch, g.inH, g.inW, inC].join()) {
    free(backend, dx);
    throw new Error(`qrobust's wasm Conv2DBackpropInput: internal shape mismatch [${dx.shape}]`);
  }
  return dx;
}

function viaCol2im(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const K = g.fH * g.fW * g.inC;
  const perImage = g.outH * g.outW;
  // Wᵀ as [outC, K]: the filter seen as [K, outC], transposed.
  const filterT = callWasmKernel('Transpose', backend, { x: withShape(filter, [K, g.outC]) }, { perm: [1, 0] });
  const dx = allocF32(backend, [g.batch, g.inH, g.inW, g.inC]);
  f32(backend, dx).fill(0);
  const chunk = imagesPerChunk(g.batch, perImage * K);
  for (let n0 = 0; n0 < g.batch; n0 += chunk) {
    const count = Math.min(chunk, g.batch - n0);
    const P = count * perImage;
    let dyPart = withShape(dy, [1, P, g.outC]);
    if (count !== g.batch) {
      dyPart = allocF32(backend, [1, P, g.outC]);
      const heap = heapF32(backend);
      const src = offsetF32(backend, dy) + n0 * perImage * g.outC;
      heap.copyWithin(offsetF32(backend, dyPart), src, src + P * g.outC);
    }
    const dcols = callWasmKernel('BatchMatMul', backend, { a: dyPart, b: withShape(filterT, [1, g.outC, K]) }, { transposeA: false, transposeB: false });
    if (dyPart.dataId !== dy.dataId) free(backend, dyPart);
    col2imAdd(f32(backend, dcols), g, n0, count, f32(backend, dx));
    free(backend, dcols);
  }
  free(backend, filterT);
  return dx;
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
};
