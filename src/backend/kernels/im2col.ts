/**
 * im2col and col2im: the rearrangements that turn a convolution's gradients into one matrix product.
 *
 * Index the filter taps by `k = (kh*fW + kw)*inC + ci` (the row-major order of an HWIO filter's first three
 * axes, so `K = fH*fW*inC` rows) and the output positions by `p = (n*outH + oh)*outW + ow` (`P` of them).
 * The convolution is then `y[p, co] = sum_k cols[p, k] * W[k, co]` with
 * `cols[p, k] = x[n, oh*sH + kh - padTop, ow*sW + kw - padLeft, ci]` (zero outside the input). Hence
 * - filter gradient: `dW = colsᵀ · dy` (`[K, P] · [P, outC]`), built from `im2colTransposed`;
 * - input gradient: `dcols = dy · Wᵀ` (`[P, outC] · [outC, K]`), then every `dcols[p, k]` is added back to the
 *   input position it was read from (`col2imAdd`).
 * Both work for any stride, padding and filter size.
 */
import type { ConvGeometry } from './conv-geometry.js';

/**
 * Bound on a column buffer, in float32 elements (default 16 Mi = 64 MiB). Kernels split the batch into chunks
 * that stay under it. Mutable so tests can force the chunked code paths.
 */
export const columnBuffers = { maxElements: 16 * 1024 * 1024 };

/** How many images per chunk keep `elementsPerImage * count` under the column budget (at least 1). */
export function imagesPerChunk(batch: number, elementsPerImage: number): number {
  return Math.max(1, Math.min(batch, Math.floor(columnBuffers.maxElements / Math.max(1, elementsPerImage))));
}

/**
 * Writes `colsᵀ` (`[K, P]`, row-major) for the images `n0 .. n0+count-1` of `x` (NHWC) into `out`, where
 * `P = count*outH*outW`. Rows are contiguous in `out`, so each row is written sequentially.
 */
export function im2colTransposed(x: Float32Array, g: ConvGeometry, n0: number, count: number, out: Float32Array): void {
  const { inH, inW, inC, outH, outW, fH, fW, sH, sW, padTop, padLeft } = g;
  const P = count * outH * outW;
  const xRow = inW * inC;
  const xImage = inH * xRow;
  const xStep = sW * inC;
  for (let kh = 0; kh < fH; kh++) {
    for (let kw = 0; kw < fW; kw++) {
      // Output columns whose input column ow*sW + kw - padLeft lies inside [0, inW).
      const owLo = Math.min(outW, Math.max(0, Math.ceil((padLeft - kw) / sW)));
      const owHi = Math.max(owLo, Math.min(outW, Math.floor((inW - 1 + padLeft - kw) / sW) + 1));
      const iwLo = owLo * sW + kw - padLeft;
      for (let ci = 0; ci < inC; ci++) {
        let o = ((kh * fW + kw) * inC + ci) * P;
        for (let n = n0; n < n0 + count; n++) {
          const xImg = n * xImage + ci;
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * sH + kh - padTop;
            if (ih < 0 || ih >= inH) {
              out.fill(0, o, o + outW);
              o += outW;
              continue;
            }
            for (let ow = 0; ow < owLo; ow++) out[o + ow] = 0;
            let xi = xImg + ih * xRow + iwLo * inC;
            for (let ow = owLo; ow < owHi; ow++) {
              out[o + ow] = x[xi];
              xi += xStep;
            }
            for (let ow = owHi; ow < outW; ow++) out[o + ow] = 0;
            o += outW;
          }
        }
      }
    }
  }
}

/**
 * Adds `dcols` (`[P, K]`, row-major, for the images `n0 .. n0+count-1`) into `dx` (NHWC, all images):
 * `dx[n, ih, iw, ci] += dcols[p, k]` for every output position `p` and tap `k` that read that input element.
 * `dx` must be zeroed first.
 */
export function col2imAdd(dcols: Float32Array, g: ConvGeometry, n0: number, count: number, dx: Float32Array): void {
  const { inH, inW, inC, outH, outW, fH, fW, sH, sW, padTop, padLeft } = g;
  const K = fH * fW * inC;
  const xRow = inW * inC;
  // Per output column: the taps kw whose input column ow*sW + kw - padLeft is inside the image.
  const kwLo = new Int32Array(outW);
  const kwHi = new Int32Array(outW);
  for (let ow = 0; ow < outW; ow++) {
    const iw0 = ow * sW - padLeft;
    kwLo[ow] = Math.max(0, -iw0);
    kwHi[ow] = Math.min(fW, inW - iw0);
  }
  let p = 0;
  for (let n = n0; n < n0 + count; n++) {
    const xImg = n * inH * xRow;
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = oh * sH - padTop;
      const khLo = Math.max(0, -ih0);
      const khHi = Math.min(fH, inH - ih0);
      for (let ow = 0; ow < outW; ow++, p++) {
        const iw0 = ow * sW - padLeft;
        const lo = kwLo[ow];
        const hi = kwHi[ow];
        const colBase = p * K;
        for (let kh = khLo; kh < khHi; kh++) {
          const d0 = xImg + (ih0 + kh) * xRow + iw0 * inC;
          const c0 = colBase + kh * fW * inC;
          if (inC === 1) {
            for (let kw = lo; kw < hi; kw++) dx[d0 + kw] += dcols[c0 + kw];
          } else {
            for (let i = lo * inC; i < hi * inC; i++) dx[d0 + i] += dcols[c0 + i];
          }
        }
      }
    }
  }
}
