/**
 * Convolutions and pooling windows as index structures over flat vectors: a 2-D convolution becomes a CSR matrix
 * (one row per output element, one entry per kernel tap that lands inside the input), a max-pooling layer
 * becomes groups of input indices. The flat layout is either NCHW (ONNX, C order over [C, H, W]) or NHWC
 * (TF.js, row-major over [H, W, C]); rows follow the output's layout and columns the input's.
 */
import type { SparseMatrix } from '../ir.js';
import { CsrBuilder } from './matrix.js';

export type Layout = 'NCHW' | 'NHWC';

/** A sliding-window geometry over one image (no batch axis). */
export interface WindowGeometry {
  readonly channels: number;
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  /** Zero (or, for pooling, ignored) rows above and columns left of the input. */
  readonly padTop: number;
  readonly padLeft: number;
  readonly dilationH: number;
  readonly dilationW: number;
}

/** Flat index of (c, h, w) in an image of the given size and layout. */
export function flatIndex(layout: Layout, channels: number, height: number, width: number, c: number, h: number, w: number): number {
  return layout === 'NCHW' ? (c * height + h) * width + w : (h * width + w) * channels + c;
}

/**
 * The convolution as a CSR matrix of (outChannels·outH·outW) × (channels·inH·inW).
 * `weight(oc, ic, kh, kw)` gives one kernel tap.
 */
export function convMatrix(g: WindowGeometry, outChannels: number, layout: Layout, weight: (oc: number, ic: number, kh: number, kw: number) => number): SparseMatrix {
  const b = new CsrBuilder(g.channels * g.inH * g.inW);
  const rows = outChannels * g.outH * g.outW;
  // Visit rows in output-layout order.
  for (let r = 0; r < rows; r++) {
    let oc: number, oh: number, ow: number;
    if (layout === 'NCHW') {
      oc = Math.floor(r / (g.outH * g.outW));
      oh = Math.floor(r / g.outW) % g.outH;
      ow = r % g.outW;
    } else {
      oc = r % outChannels;
      ow = Math.floor(r / outChannels) % g.outW;
      oh = Math.floor(r / (outChannels * g.outW));
    }
    // Collect (col, value) and sort by column so every CSR row is ordered.
    const entries: [number, number][] = [];
    for (let kh = 0; kh < g.kernelH; kh++) {
      const ih = oh * g.strideH - g.padTop + kh * g.dilationH;
      if (ih < 0 || ih >= g.inH) continue;
      for (let kw = 0; kw < g.kernelW; kw++) {
        const iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
        if (iw < 0 || iw >= g.inW) continue;
        for (let ic = 0; ic < g.channels; ic++) {
          const v = weight(oc, ic, kh, kw);
          if (v !== 0) entries.push([flatIndex(layout, g.channels, g.inH, g.inW, ic, ih, iw), v]);
        }
      }
    }
    entries.sort((a, c) => a[0] - c[0]);
    for (const [col, v] of entries) b.add(col, v);
    b.endRow();
  }
  return b.finish();
}

/**
 * Max-pooling windows as groups of input indices, one group per output element in output-layout order; padded
 * positions are left out (ONNX and TF both pad max-pooling with −∞).
 */
export function poolGroups(g: WindowGeometry, layout: Layout): { offsets: Int32Array; indices: Int32Array } {
  const outSize = g.channels * g.outH * g.outW;
  const offsets = new Int32Array(outSize + 1);
  const indices: number[] = [];
  for (let r = 0; r < outSize; r++) {
    let c: number, oh: number, ow: number;
    if (layout === 'NCHW') {
      c = Math.floor(r / (g.outH * g.outW));
      oh = Math.floor(r / g.outW) % g.outH;
      ow = r % g.outW;
    } else {
      c = r % g.channels;
      ow = Math.floor(r / g.channels) % g.outW;
      oh = Math.floor(r / (g.channels * g.outW));
    }
    for (let kh = 0; kh < g.kernelH; kh++) {
      const ih = oh * g.strideH - g.padTop + kh * g.dilationH;
      if (ih < 0 || ih >= g.inH) continue;
      for (let kw = 0; kw < g.kernelW; kw++) {
        const iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
        if (iw < 0 || iw >= g.inW) continue;
        indices.push(flatIndex(layout, g.channels, g.inH, g.inW, c, ih, iw));
      }
    }
    offsets[r + 1] = indices.length;
  }
  return { offsets, indices: Int32Array.from(indices) };
}
