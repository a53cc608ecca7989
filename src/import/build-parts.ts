/**
 * The TF.js layers that express one graph node, shared by the Sequential and the functional builder: stock
 * tfjs-layers classes wherever one fits (a grouped convolution becomes a Conv2D with a block-diagonal kernel,
 * explicit conv padding a ZeroPadding2D before a 'valid' conv), the `Qrobust*` layers of `layers/` otherwise.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import type { Activation, Conv2DOp, DenseOp, GraphNode, Padding2D, Pool2DOp } from '../graph/model-graph.js';
import { Clip } from './layers/clip.js';
import { PaddedPool2D } from './layers/padded-pool.js';

/** One layer with the weights to set once it is built. */
export interface PlannedLayer {
  readonly layer: tfl.layers.Layer;
  readonly weights: readonly tf.Tensor[];
}

export function unsupported(node: GraphNode, why: string): QrobustError {
  return new QrobustError('unsupported_layer', `node '${node.name}' (${node.op.kind}): ${why}`);
}

/** Layer names: the node's name with characters TF.js rejects replaced, made unique. */
export function namer(): (raw: string) => string {
  const used = new Set<string>();
  return (raw) => {
    const base = raw.replace(/[^A-Za-z0-9_.\-/]/g, '_').replace(/^[^A-Za-z0-9]/, 'n') || 'layer';
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
}

/** The TF.js activation string of a fused activation, or null when it needs its own layer. */
export function fusedName(a: Activation): 'relu' | 'linear' | null {
  return a.kind === 'relu' || a.kind === 'linear' ? a.kind : null;
}

export function activationLayer(a: Activation, name: string, node: GraphNode): tfl.layers.Layer {
  switch (a.kind) {
    case 'linear':
    case 'relu':
    case 'sigmoid':
    case 'tanh':
      return tfl.layers.activation({ activation: a.kind, name });
    case 'leakyRelu':
      return tfl.layers.leakyReLU({ alpha: a.alpha, name });
    case 'clip':
      if (a.min === 0 && Number.isFinite(a.max)) return tfl.layers.reLU({ maxValue: a.max, name });
      return new Clip({ min: Number.isFinite(a.min) ? a.min : null, max: Number.isFinite(a.max) ? a.max : null, name });
    case 'sign':
      throw unsupported(node, 'sign activations are not executable as a float TF.js model');
  }
}

/**
 * The kernel rows of a dense layer that follows a `chw` flatten of `[H, W, C]`, reordered for TF.js's `hwc`
 * flatten: row `(h·W + w)·C + c` of the result is row `c·H·W + h·W + w` of the source.
 */
export function chwToHwcRows(kernel: Float32Array, shape: readonly [number, number, number], units: number): Float32Array {
  const [h, w, c] = shape;
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const src = (k * h * w + y * w + x) * units;
        const dst = ((y * w + x) * c + k) * units;
        out.set(kernel.subarray(src, src + units), dst);
      }
    }
  }
  return out;
}

/** Whether a `chw` flatten of this shape orders elements differently from TF.js's `hwc` one. */
export function chwDiffers(shape: readonly number[]): boolean {
  return shape.length === 3 && shape[2]! > 1 && shape[0]! * shape[1]! > 1;
}

function withActivation(main: PlannedLayer, a: Activation, name: string, node: GraphNode): PlannedLayer[] {
  return fusedName(a) === null ? [main, { layer: activationLayer(a, `${name}_act`, node), weights: [] }] : [main];
}

export function denseParts(node: GraphNode, op: DenseOp, kernel: Float32Array, name: string): PlannedLayer[] {
  const [inSize, units] = op.kernelShape;
  if (op.bias.length !== units || kernel.length !== inSize * units) throw unsupported(node, 'kernel or bias size does not match its shape');
  const main = {
    layer: tfl.layers.dense({ units, activation: fusedName(op.activation) ?? 'linear', useBias: true, name }),
    weights: [tf.tensor2d(kernel, [inSize, units]), tf.tensor1d(op.bias)],
  };
  return withActivation(main, op.activation, name, node);
}

/** A ZeroPadding2D for explicit pads (none when they are all 0), and the padding left for the layer after it. */
function explicitPadding(padding: Padding2D, name: string): { readonly pre: PlannedLayer[]; readonly padding: 'same' | 'valid' } {
  if (typeof padding === 'string') return { pre: [], padding };
  const [t, b, l, r] = padding;
  if (t === 0 && b === 0 && l === 0 && r === 0) return { pre: [], padding: 'valid' };
  return { pre: [{ layer: tfl.layers.zeroPadding2d({ padding: [[t, b], [l, r]], name: `${name}_pad` }), weights: [] }], padding: 'valid' };
}

/** `[kh, kw, C/groups, O]` → the block-diagonal `[kh, kw, C, O]` of an ungrouped conv computing the same. */
export function expandGroups(kernel: Float32Array, shape: readonly [number, number, number, number], groups: number): Float32Array {
  const [kh, kw, ig, co] = shape;
  const c = ig * groups;
  const perGroup = co / groups;
  const out = new Float32Array(kh * kw * c * co);
  for (let p = 0; p < kh * kw; p++) {
    for (let o = 0; o < co; o++) {
      const g = Math.floor(o / perGroup);
      for (let i = 0; i < ig; i++) out[(p * c + g * ig + i) * co + o] = kernel[(p * ig + i) * co + o]!;
    }
  }
  return out;
}

/** The layers of a conv node on `inChannels` channels: [ZeroPadding2D], Conv2D or DepthwiseConv2D, [activation]. */
export function convParts(node: GraphNode, op: Conv2DOp, inChannels: number, name: string): PlannedLayer[] {
  const [kh, kw, ig, co] = op.kernelShape;
  if (ig * op.groups !== inChannels || co % op.groups !== 0) throw unsupported(node, `kernel [${op.kernelShape.join(',')}] with ${op.groups} groups does not fit ${inChannels} input channels`);
  if (op.strides.some((s) => s > 1) && op.dilations.some((d) => d > 1)) throw unsupported(node, 'TF.js convolutions take strides or dilations above 1, not both');
  const { pre, padding } = explicitPadding(op.padding, name);
  const common = {
    kernelSize: [kh, kw] as [number, number],
    strides: [...op.strides] as [number, number],
    dilationRate: [...op.dilations] as [number, number],
    padding,
    activation: fusedName(op.activation) ?? 'linear',
    useBias: true,
    name,
  };
  let main: PlannedLayer;
  if (op.groups > 1 && op.groups === inChannels) {
    main = {
      layer: tfl.layers.depthwiseConv2d({ ...common, depthMultiplier: co / inChannels }),
      weights: [tf.tensor4d(op.kernel, [kh, kw, inChannels, co / inChannels]), tf.tensor1d(op.bias)],
    };
  } else {
    const kernel = op.groups === 1 ? op.kernel : expandGroups(op.kernel, op.kernelShape, op.groups);
    main = { layer: tfl.layers.conv2d({ ...common, filters: co }), weights: [tf.tensor4d(kernel, [kh, kw, inChannels, co]), tf.tensor1d(op.bias)] };
  }
  return [...pre, ...withActivation(main, op.activation, name, node)];
}

export function poolParts(op: Pool2DOp, name: string): PlannedLayer[] {
  const args = { poolSize: [...op.poolSize] as [number, number], strides: [...op.strides] as [number, number], name };
  const stock = (padding: 'same' | 'valid'): tfl.layers.Layer =>
    op.kind === 'maxPool' ? tfl.layers.maxPooling2d({ ...args, padding }) : tfl.layers.averagePooling2d({ ...args, padding });
  if (typeof op.padding === 'string') return [{ layer: stock(op.padding), weights: [] }];
  if (op.padding.every((p) => p === 0)) return [{ layer: stock('valid'), weights: [] }];
  if (op.kind === 'avgPool' && op.countIncludePad) {
    const { pre } = explicitPadding(op.padding, name);
    return [...pre, { layer: stock('valid'), weights: [] }];
  }
  const pads = [...op.padding] as [number, number, number, number];
  return [{ layer: new PaddedPool2D({ pool: op.kind === 'maxPool' ? 'max' : 'avg', poolSize: args.poolSize, strides: args.strides, pads, name }), weights: [] }];
}
