/**
 * The float32 steps between the quantized layers of a dynamic-range network, on the host: dense and conv2d
 * with float weights (products summed in float64, rounded once to float32: within float32 summation-order
 * error of any runtime's float kernel), max pooling (exact), all NHWC and one example at a time.
 */
import type { Conv2DStep, DenseStep, MaxPoolStep } from '../../models/graph.js';
import { windowGeometry, type WindowGeometry } from '../../models/window.js';
import { convolve } from './hybrid-conv.js';

const f32 = Math.fround;

/** bias + Σ w·x, then the fused ReLU, for inputs `[batch, in]`. */
export function floatDense(s: DenseStep, x: Float32Array, batch: number): Float32Array {
  const [inSize, units] = s.kernelShape;
  const out = new Float32Array(batch * units);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < units; o++) {
      let acc = 0;
      for (let i = 0; i < inSize; i++) acc += s.kernel[i * units + o]! * x[b * inSize + i]!;
      const v = f32(s.bias[o]! + acc);
      out[b * units + o] = s.activation === 'relu' && v < 0 ? 0 : v;
    }
  }
  return out;
}

/** A float convolution step with its kernel reordered to `[co][kh·kw·ci]` once. */
export interface FloatConv {
  readonly step: Conv2DStep;
  readonly geometry: WindowGeometry;
  readonly weights: Float64Array;
}

export function floatConv(step: Conv2DStep): FloatConv {
  const co = step.kernelShape[3];
  const k = step.kernel.length / co;
  const weights = new Float64Array(step.kernel.length);
  for (let i = 0; i < k; i++) for (let c = 0; c < co; c++) weights[c * k + i] = step.kernel[i * co + c]!;
  return { step, geometry: windowGeometry(step), weights };
}

export function floatConvForward(conv: FloatConv, x: Float32Array, batch: number): Float32Array {
  const [h, w, ci] = conv.geometry.inShape;
  const [oh, ow, co] = conv.geometry.outShape;
  const inSize = h * w * ci;
  const outSize = oh * ow * co;
  const out = new Float32Array(batch * outSize);
  const values = new Float64Array(inSize);
  const relu = conv.step.activation === 'relu';
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < inSize; i++) values[i] = x[b * inSize + i]!;
    const base = b * outSize;
    convolve(conv.geometry, values, conv.weights, co, (acc, c, o) => {
      const v = f32(conv.step.bias[c]! + acc);
      out[base + o] = relu && v < 0 ? 0 : v;
    });
  }
  return out;
}

/** Max pooling (padding never wins: it is skipped), for inputs `[batch, h·w·c]`. */
export function maxPoolForward(s: MaxPoolStep, x: Float32Array, batch: number): Float32Array {
  const g = windowGeometry(s);
  const [h, w, c] = g.inShape;
  const [oh, ow] = g.outShape;
  const [ph, pw] = g.kernel;
  const [sh, sw] = g.strides;
  const inSize = h * w * c;
  const outSize = oh * ow * c;
  const out = new Float32Array(batch * outSize);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          for (let ky = 0; ky < ph; ky++) {
            const iy = oy * sh - g.padTop + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < pw; kx++) {
              const ix = ox * sw - g.padLeft + kx;
              if (ix < 0 || ix >= w) continue;
              const v = x[b * inSize + (iy * w + ix) * c + ch]!;
              if (v > best) best = v;
            }
          }
          out[b * outSize + (oy * ow + ox) * c + ch] = best;
        }
      }
    }
  }
  return out;
}
