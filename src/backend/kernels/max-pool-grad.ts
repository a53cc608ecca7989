/**
 * MaxPoolGrad for the wasm backend, written against the wasm memory directly.
 *
 * The gradient of `y[n, oh, ow, c] = max over the window of x` routes each `dy[n, oh, ow, c]` to the one input
 * element that produced the maximum, and gives every other element zero. When several elements of a window tie
 * for the maximum the *first* one in row-major window order wins (the comparison is a strict `>`), exactly as
 * in TF.js's cpu and stock wasm kernels; a window whose values are all NaN or -Infinity passes no gradient.
 * Where windows overlap (stride smaller than the window), an input element collects the sum over all windows
 * it is the maximum of; the sum is formed in float64 in increasing window order and rounded once, as the cpu
 * kernel does, so results match it bit for bit.
 *
 * The 2x2, stride-2, unpadded pool (the usual CNN downsampling) has its own loop.
 */
import { tf } from '../tf.js';
import { allocF32, f32, inputOf, wasmBackendOf, type KernelArgs, type TensorInfo } from './wasm-heap.js';

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Pooling geometry in plain numbers (NHWC; the input row of window row `oh`, tap `kh` is `oh*sH + kh - padTop`). */
interface PoolGeometry {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  fH: number;
  fW: number;
  sH: number;
  sW: number;
  padTop: number;
  padLeft: number;
}

/** Kernel function for `MaxPoolGrad` (inputs `dy`, `input`, `output`) on the wasm backend. */
export function maxPoolGrad(args: KernelArgs): TensorInfo {
  const backend = wasmBackendOf(args);
  const dy = inputOf(args, 'dy');
  const input = inputOf(args, 'input');
  const output = inputOf(args, 'output');
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const g: PoolGeometry = {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    channels: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    fH: info.effectiveFilterHeight,
    fW: info.effectiveFilterWidth,
    sH: info.strideHeight,
    sW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
  if (dy.shape.join() !== [g.batch, g.outH, g.outW, g.channels].join()) {
    throw new Error(`qrobust's wasm MaxPoolGrad: dy has shape [${dy.shape}], expected [${[g.batch, g.outH, g.outW, g.channels]}]`);
  }
  const dx = allocF32(backend, [...input.shape]);
  const xv = f32(backend, input);
  const dyv = f32(backend, dy);
  const dxv = f32(backend, dx);
  dxv.fill(0);
  if (g.fH === 2 && g.fW === 2 && g.sH === 2 && g.sW === 2 && g.padTop === 0 && g.padLeft === 0 && 2 * g.outH <= g.inH && 2 * g.outW <= g.inW) {
    pool2x2Stride2(xv, f32(backend, output), dyv, dxv, g);
  } else if (g.sH >= g.fH && g.sW >= g.fW) {
    routeGradient(xv, dyv, g, (i, v) => {
      dxv[i] = v + 0;
    });
  } else {
    const sum = new Float64Array(dxv.length);
    routeGradient(xv, dyv, g, (i, v) => {
      sum[i] += v;
    });
    dxv.set(sum);
  }
  return dx;
}

/**
 * The 2x2 / stride 2 / no padding case: every input element is in at most one window, `dx` is zeroed.
 *
 * Random data makes "which of the four is largest" an unpredictable branch, so instead of comparing, this
 * loop uses the forward result `y`: it sets one bit per window element equal to `y` and keeps the lowest set
 * bit (`bits & -bits`), i.e. the first maximum, without branching. The window is trusted only if every
 * element is `<= y` and `y > -Infinity`; anything else (NaN, all -Infinity, or a `y` that does not belong to
 * `x`) goes through the plain comparison loop, so the result never depends on `y` being right.
 */
function pool2x2Stride2(x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, g: PoolGeometry): void {
  const { batch, inH, inW, channels: C, outH, outW } = g;
  const xRow = inW * C;
  // Offset of the window element selected by each one-bit mask (1: top left, 2: top right, 4, 8: bottom row).
  const offset = new Int32Array(9);
  offset[2] = C;
  offset[4] = xRow;
  offset[8] = xRow + C;
  let o = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      let top = (n * inH + 2 * oh) * xRow;
      for (let ow = 0; ow < outW; ow++, top += 2 * C) {
        for (let c = 0; c < C; c++, o++) {
          const i = top + c;
          const m = y[o];
          const a = x[i];
          const b = x[i + C];
          const d = x[i + xRow];
          const e = x[i + xRow + C];
          const bits = bit(a === m) | (bit(b === m) << 1) | (bit(d === m) << 2) | (bit(e === m) << 3);
          const valid = bit(a <= m) & bit(b <= m) & bit(d <= m) & bit(e <= m) & bit(m > -Infinity);
          const first = bits & -bits & -valid;
          if (first !== 0) {
            dx[i + offset[first]] = dy[o] + 0; // + 0 turns -0 into +0, as the cpu kernel's sum does
          } else {
            const best = firstMax4(a, b, d, e);
            if (best >= 0) dx[i + offset[1 << best]] = dy[o] + 0;
          }
        }
      }
    }
  }
}

/** 1 for true, 0 for false (V8 compiles `bool | 0` without a branch). */
function bit(condition: boolean): number {
  return (condition as unknown as number) | 0;
}

/** Index (0-3) of the first of four values that is strictly greater than all before it and than -Infinity; -1 if none. */
function firstMax4(a: number, b: number, c: number, d: number): number {
  let best = -1;
  let m = -Infinity;
  if (a > m) {
    m = a;
    best = 0;
  }
  if (b > m) {
    m = b;
    best = 1;
  }
  if (c > m) {
    m = c;
    best = 2;
  }
  if (d > m) best = 3;
  return best;
}

/**
 * Any window size, stride and padding: for each window (in output order), finds the first maximum and calls
 * `emit(inputIndex, dyValue)` for it.
 */
function routeGradient(x: Float32Array, dy: Float32Array, g: PoolGeometry, emit: (index: number, value: number) => void): void {
  const { batch, inH, inW, channels: C, outH, outW, fH, fW, sH, sW, padTop, padLeft } = g;
  const xRow = inW * C;
  let o = 0;
  for (let n = 0; n < batch; n++) {
    const xImg = n * inH * xRow;
    for (let oh = 0; oh < outH; oh++) {
      const ihLo = Math.max(0, oh * sH - padTop);
      const ihHi = Math.min(inH, oh * sH - padTop + fH);
      for (let ow = 0; ow < outW; ow++) {
        const iwLo = Math.max(0, ow * sW - padLeft);
        const iwHi = Math.min(inW, ow * sW - padLeft + fW);
        for (let c = 0; c < C; c++, o++) {
          let m = -Infinity;
          let best = -1;
          for (let ih = ihLo; ih < ihHi; ih++) {
            let i = xImg + (ih * inW + iwLo) * C + c;
            for (let iw = iwLo; iw < iwHi; iw++, i += C) {
              const v = x[i];
              if (v > m) {
                m = v;
                best = i;
              }
            }
          }
          if (best >= 0) emit(best, dy[o]);
        }
      }
    }
  }
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
