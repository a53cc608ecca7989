/**
 * A plain float64 evaluator of a `ModelGraph` on one NHWC image, written from the graph's definitions
 * (model-graph.ts), for the tests of graphs the TF.js layers builder does not express yet (branches, batch norm,
 * pads, average pooling). It is the executor only: the expected values come from the Python reference.
 */
import { MODEL_INPUT, type Activation, type GraphNode, type ModelGraph, type Padding2D } from '../../src/graph/model-graph.js';

interface Value {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

function act(a: Activation, v: number): number {
  switch (a.kind) {
    case 'linear':
      return v;
    case 'relu':
      return Math.max(0, v);
    case 'clip':
      return Math.min(a.max, Math.max(a.min, v));
    case 'leakyRelu':
      return v >= 0 ? v : a.alpha * v;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'tanh':
      return Math.tanh(v);
    case 'sign':
      return v > 0 ? 1 : v < 0 ? -1 : a.zeroTo;
  }
}

/** Pads `[top, bottom, left, right]` of TF's rule for one window op. */
function pads(padding: Padding2D, [h, w]: readonly number[], [kh, kw]: readonly number[], [sh, sw]: readonly number[], [dh, dw]: readonly number[]): [number, number, number, number] {
  if (typeof padding !== 'string') return [...padding];
  if (padding === 'valid') return [0, 0, 0, 0];
  const one = (size: number, k: number, s: number, d: number): [number, number] => {
    const total = Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return [...one(h!, kh!, sh!, dh!), ...one(w!, kw!, sw!, dw!)];
}

function outSize(size: number, before: number, after: number, k: number, s: number, d: number): number {
  return Math.floor((size + before + after - (k - 1) * d - 1) / s) + 1;
}

function evalNode(node: GraphNode, xs: readonly Value[]): Value {
  const op = node.op;
  const x = xs[0]!;
  const [h, w, c] = x.shape as [number, number, number];
  switch (op.kind) {
    case 'dense': {
      const [n, u] = op.kernelShape;
      const out = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        let s = op.bias[j]!;
        for (let i = 0; i < n; i++) s += x.data[i]! * op.kernel[i * u + j]!;
        out[j] = act(op.activation, s);
      }
      return { shape: [u], data: out };
    }
    case 'conv2d': {
      const [kh, kw, cg, co] = op.kernelShape;
      const p = pads(op.padding, x.shape, [kh, kw], op.strides, op.dilations);
      const [t, , l] = p;
      const oh = outSize(h, p[0], p[1], kh, op.strides[0], op.dilations[0]);
      const ow = outSize(w, p[2], p[3], kw, op.strides[1], op.dilations[1]);
      const perGroup = co / op.groups;
      const out = new Float64Array(oh * ow * co);
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          for (let o = 0; o < co; o++) {
            const g = Math.floor(o / perGroup);
            let s = op.bias[o]!;
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * op.strides[0] + ky * op.dilations[0] - t;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = xx * op.strides[1] + kx * op.dilations[1] - l;
                if (ix < 0 || ix >= w) continue;
                for (let i = 0; i < cg; i++) s += x.data[(iy * w + ix) * c + g * cg + i]! * op.kernel[((ky * kw + kx) * cg + i) * co + o]!;
              }
            }
            out[(y * ow + xx) * co + o] = act(op.activation, s);
          }
        }
      }
      return { shape: [oh, ow, co], data: out };
    }
    case 'maxPool':
    case 'avgPool': {
      const [kh, kw] = op.poolSize;
      const p = pads(op.padding, x.shape, op.poolSize, op.strides, [1, 1]);
      const oh = outSize(h, p[0], p[1], kh, op.strides[0], 1);
      const ow = outSize(w, p[2], p[3], kw, op.strides[1], 1);
      const out = new Float64Array(oh * ow * c);
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          for (let k = 0; k < c; k++) {
            let m = -Infinity;
            let sum = 0;
            let count = 0;
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const iy = y * op.strides[0] + ky - p[0];
                const ix = xx * op.strides[1] + kx - p[2];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const v = x.data[(iy * w + ix) * c + k]!;
                m = Math.max(m, v);
                sum += v;
                count++;
              }
            }
            out[(y * ow + xx) * c + k] = op.kind === 'maxPool' ? m : sum / (op.countIncludePad ? kh * kw : count);
          }
        }
      }
      return { shape: [oh, ow, c], data: out };
    }
    case 'globalAvgPool': {
      const out = new Float64Array(c);
      for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) out[k]! += x.data[i * c + k]! / (h * w);
      return { shape: [c], data: out };
    }
    case 'channelAffine': {
      const n = op.scale.length;
      return { shape: x.shape, data: x.data.map((v, i) => v * op.scale[i % n]! + op.offset[i % n]!) };
    }
    case 'flatten': {
      if (x.shape.length !== 3 || op.order === 'hwc') return { shape: [x.data.length], data: x.data };
      const out = new Float64Array(x.data.length);
      for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) out[(k * h + y) * w + xx] = x.data[(y * w + xx) * c + k]!;
      return { shape: [out.length], data: out };
    }
    case 'activation':
      return { shape: x.shape, data: x.data.map((v) => act(op.activation, v)) };
    case 'add':
      return { shape: x.shape, data: x.data.map((_, i) => xs.reduce((s, v) => s + v.data[i]!, 0)) };
    case 'concat': {
      const rank = x.shape.length;
      const axis = op.axis < 0 ? rank + op.axis : op.axis;
      const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const parts: number[] = [];
      for (let o = 0; o < outer; o++) for (const v of xs) parts.push(...v.data.subarray(o * v.shape[axis]! * inner, (o + 1) * v.shape[axis]! * inner));
      return { shape: x.shape.map((d, i) => (i === axis ? xs.reduce((s, v) => s + v.shape[i]!, 0) : d)), data: Float64Array.from(parts) };
    }
    case 'pad': {
      const [t, b, l, r] = op.pads;
      const oh = h + t + b;
      const ow = w + l + r;
      const out = new Float64Array(oh * ow * c).fill(op.value);
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < c; k++) out[((y + t) * ow + xx + l) * c + k] = x.data[(y * w + xx) * c + k]!;
      return { shape: [oh, ow, c], data: out };
    }
  }
}

/** The graph's output for one image `[H, W, C]` (row-major NHWC values). */
export function hostGraphOutput(graph: ModelGraph, image: ArrayLike<number>): Float64Array {
  const values = new Map<string, Value>([[MODEL_INPUT, { shape: graph.inputShape, data: Float64Array.from(image) }]]);
  for (const node of graph.nodes) values.set(node.name, evalNode(node, node.inputs.map((n) => values.get(n)!)));
  return values.get(graph.output)!.data;
}
