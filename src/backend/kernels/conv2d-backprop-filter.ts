/**
 * Conv2DBackpropFilter for the wasm backend, which has none: without it no convolutional network can be
 * trained on wasm.
 *
 * For `y = conv2d(x, W)` (NHWC input, HWIO filter) the filter gradient is
 * `dW[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*sH + kh - padTop, ow*sW + kw - padLeft, ci] * dy[n, oh, ow, co]`,
 * i.e. the product `colsᵀ · dy` of the transposed im2col matrix (`[K, P]`, see `im2col.ts`) with the output
 * gradient seen as a `[P, outC]` matrix. `colsᵀ` is written straight into wasm memory and the stock wasm
 * BatchMatMul (XNNPACK, untransposed operands) does the arithmetic; its `[K, outC]` result already has the HWIO
 * filter layout. Large batches are processed in chunks so the column buffer stays bounded (`columnBuffers`).
 *
 * Two ways to build `colsᵀ`:
 * - any stride (`im2colTransposed`): element by element;
 * - stride 1 with more than one input channel (`shiftedRowsColumns`): on the zero-padded input laid out
 *   channel-major (`xp[ci, n, hp, wp]`), the window tap `(kh, kw)` of output position `(n, oh, ow)` is
 *   `xp[ci, n, oh + kh, ow + kw]`, so if output positions are numbered over the whole padded grid
 *   (`q = (n*Hp + oh)*Wp + ow`) every row of `colsᵀ` is one contiguous run of `xp`, shifted by `kh*Wp + kw`,
 *   and is copied with one native memmove. The grid positions that are not real outputs (`oh >= outH` or
 *   `ow >= outW`) get a zero output gradient, so whatever their columns hold adds nothing.
 */
import { tf } from '../tf.js';
import { convGeometry, type ConvGeometry, type PadAttr } from './conv-geometry.js';
import { im2colTransposed, imagesPerChunk } from './im2col.js';
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

interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Kernel function for `Conv2DBackpropFilter` (inputs `x`, `dy`) on the wasm backend. */
export function conv2dBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = wasmBackendOf(args);
  const x = inputOf(args, 'x');
  const dy = inputOf(args, 'dy');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const g = convGeometry('Conv2DBackpropFilter', x.shape, filterShape, strides, pad, dimRoundingMode, dataFormat);
  if (dy.shape.join() !== [g.batch, g.outH, g.outW, g.outC].join()) {
    throw new Error(`qrobust's wasm Conv2DBackpropFilter: dy has shape [${dy.shape}], expected [${[g.batch, g.outH, g.outW, g.outC]}]`);
  }
  const K = g.fH * g.fW * g.inC;
  if (g.batch * g.outH * g.outW === 0 || K * g.outC === 0) {
    const out = allocF32(backend, [...filterShape]);
    f32(backend, out).fill(0);
    return out;
  }
  if (useShiftedRows(g)) {
    const dw = filterGradient(backend, x, dy, g, shiftedRowsColumns);
    // Grid positions that are not real outputs multiply their columns by a zero gradient; that is only exact
    // for finite inputs (Infinity * 0 is NaN), so a non-finite result is recomputed the element-wise way.
    if (f32(backend, dw).every(Number.isFinite)) return withShape(dw, [...filterShape]);
    free(backend, dw);
  }
  return withShape(filterGradient(backend, x, dy, g, im2colColumns), [...filterShape]);
}

/** Sums `cols · dyRows` over batch chunks; returns a `[1, K, outC]` tensor. */
function filterGradient(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: ConvGeometry, build: ColumnBuilder): TensorInfo {
  const K = g.fH * g.fW * g.inC;
  const { perImage } = build(backend, x, dy, g, 0, 0, true);
  const chunk = imagesPerChunk(g.batch, K * perImage);
  let acc: TensorInfo | undefined;
  for (let n0 = 0; n0 < g.batch; n0 += chunk) {
    const count = Math.min(chunk, g.batch - n0);
    const { cols, dyRows } = build(backend, x, dy, g, n0, count, false);
    const part = callWasmKernel('BatchMatMul', backend, { a: cols, b: dyRows }, { transposeA: false, transposeB: false });
    free(backend, cols);
    free(backend, dyRows);
    if (acc === undefined) {
      acc = part;
    } else {
      const total = f32(backend, acc);
      const add = f32(backend, part);
      for (let i = 0; i < total.length; i++) total[i] += add[i];
      free(backend, part);
    }
  }
  return acc as TensorInfo;
}

/** The shifted-row construction pays off for stride 1 once there are several input channels. */
export function useShiftedRows(g: ConvGeometry): boolean {
  return g.sH === 1 && g.sW === 1 && g.inC > 1;
}

/**
 * Builds, for images `n0 .. n0+count-1`, the matrices whose product is that chunk's filter gradient:
 * `cols` (`[1, K, Q]`) and `dyRows` (`[1, Q, outC]`), both new tensors. With `sizeOnly`, allocates
 * nothing and only reports `perImage`, the number of columns `Q` per image.
 */
type ColumnBuilder = (
  backend: WasmBackend,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  n0: number,
  count: number,
  sizeOnly: boolean,
) => { perImage: number; cols: TensorInfo; dyRows: TensorInfo };

const NONE: TensorInfo = { dataId: {}, shape: [], dtype: 'float32' };

/** Columns by element-wise im2col, one per real output position (any stride and padding). */
const im2colColumns: ColumnBuilder = (backend, x, dy, g, n0, count, sizeOnly) => {
  const perImage = g.outH * g.outW;
  if (sizeOnly) return { perImage, cols: NONE, dyRows: NONE };
  const K = g.fH * g.fW * g.inC;
  const Q = count * perImage;
  const cols = allocF32(backend, [1, K, Q]);
  // A copy even when the chunk is all of dy: the wasm matmul caches its packed right operand per tensor id,
  // without the shape, so dy must not appear there under its own id in a shape it may also have elsewhere.
  const dyRows = allocF32(backend, [1, Q, g.outC]);
  // Views only after the allocations above (an allocation may move the heap).
  im2colTransposed(f32(backend, x), g, n0, count, f32(backend, cols));
  const heap = heapF32(backend);
  const src = offsetF32(backend, dy) + n0 * perImage * g.outC;
  heap.copyWithin(offsetF32(backend, dyRows), src, src + Q * g.outC);
  return { perImage, cols, dyRows };
};

/** Columns by shifted contiguous copies over the padded grid (stride 1 only; see the file comment). */
const shiftedRowsColumns: ColumnBuilder = (backend, x, dy, g, n0, count, sizeOnly) => {
  const { inH, inW, inC, outH, outW, outC, fH, fW, padTop, padLeft } = g;
  const hp = outH + fH - 1; // = inH + padTop + padBottom for stride 1
  const wp = outW + fW - 1;
  const perImage = hp * wp;
  if (sizeOnly) return { perImage, cols: NONE, dyRows: NONE };
  const K = fH * fW * inC;
  const Q = count * perImage;
  const rowLength = Q + (fH - 1) * wp + (fW - 1); // room for the largest shift
  const xp = allocF32(backend, [inC, rowLength]);
  const cols = allocF32(backend, [1, K, Q]);
  const dyRows = allocF32(backend, [1, Q, outC]);
  const heap = heapF32(backend);
  const xv = f32(backend, x);
  const xpOff = offsetF32(backend, xp);
  const xpv = heap.subarray(xpOff, xpOff + inC * rowLength);
  xpv.fill(0);
  // xp[ci, (n*hp + ih + padTop)*wp + iw + padLeft] = x[n0 + n, ih, iw, ci]
  let i = n0 * inH * inW * inC;
  for (let n = 0; n < count; n++) {
    for (let ih = 0; ih < inH; ih++) {
      let q = (n * hp + ih + padTop) * wp + padLeft;
      for (let iw = 0; iw < inW; iw++, q++) {
        for (let ci = 0, o = q; ci < inC; ci++, o += rowLength) xpv[o] = xv[i++];
      }
    }
  }
  const colsOff = offsetF32(backend, cols);
  for (let kh = 0; kh < fH; kh++) {
    for (let kw = 0; kw < fW; kw++) {
      for (let ci = 0; ci < inC; ci++) {
        const src = xpOff + ci * rowLength + kh * wp + kw;
        heap.copyWithin(colsOff + ((kh * fW + kw) * inC + ci) * Q, src, src + Q);
      }
    }
  }
  free(backend, xp);
  // dyRows[(n*hp + oh)*wp + ow, :] = dy[n0 + n, oh, ow, :]; zero on the rest of the grid.
  const dyOff = offsetF32(backend, dy);
  const rowsOff = offsetF32(backend, dyRows);
  heap.fill(0, rowsOff, rowsOff + Q * outC);
  const run = outW * outC;
  for (let n = 0; n < count; n++) {
    for (let oh = 0; oh < outH; oh++) {
      const src = dyOff + (((n0 + n) * outH + oh) * outW) * outC;
      heap.copyWithin(rowsOff + (n * hp + oh) * wp * outC, src, src + run);
    }
  }
  return { perImage, cols, dyRows };
};

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
