/**
 * Keras layers without weights → graph nodes: pooling, Flatten, activations, ZeroPadding2D, Add, Concatenate
 * (and Keras 1's Merge in sum/concat mode), and the layers that pass their input through at inference.
 */
import type { Activation } from '../../graph/model-graph.js';
import { graphAxis, one, passThrough, type ConvertContext, type Converted, type KerasTensor } from './convert-context.js';
import { activationOf, dataFormatOf, pair, param, paddingOf, unsupported } from './layer-params.js';
import type { KerasLayerSpec } from './model-config.js';
import { elementCount, shapeEquals, spatialOutput } from './shapes.js';

function image(ctx: ConvertContext, layer: KerasLayerSpec, x: KerasTensor): void {
  if (x.shape.length !== 3) throw unsupported(ctx.file, layer, `input [${x.shape.join(',')}] is not an image`);
}

export function convertPool(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[], kind: 'maxPool' | 'avgPool'): Converted {
  image(ctx, layer, x!);
  const poolSize = pair(ctx.file, layer, param(layer, 'pool_size') ?? 2, 'pool_size');
  const strides = pair(ctx.file, layer, param(layer, 'strides') ?? poolSize, 'strides');
  const padding = paddingOf(ctx.file, layer);
  return one({ name: layer.name, op: { kind, poolSize, strides, padding }, inputs: [x!.node] }, spatialOutput(x!.shape, poolSize, strides, [1, 1], padding, x!.shape[2]!));
}

export function convertGlobalAvgPool(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[]): Converted {
  image(ctx, layer, x!);
  if (param(layer, 'keepdims') === true) throw unsupported(ctx.file, layer, 'keepdims=true is not supported');
  return one({ name: layer.name, op: { kind: 'globalAvgPool' }, inputs: [x!.node] }, [x!.shape[2]!]);
}

/**
 * Keras flattens the tensor as it lies in memory (C-H-W in a channels-first model), except that a Keras 2
 * Flatten configured `channels_first` first moves channels last (H-W-C).
 */
export function convertFlatten(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[]): Converted {
  if (x!.shape.length === 1) return passThrough(x!);
  const own = ctx.provenance.major === 2 ? dataFormatOf(layer) : null;
  if (own === 'channels_first' && ctx.format === 'channels_last') throw unsupported(ctx.file, layer, 'data_format channels_first in a channels-last model is not supported');
  const order = ctx.format === 'channels_first' && own !== 'channels_first' ? 'chw' : 'hwc';
  return one({ name: layer.name, op: { kind: 'flatten', order }, inputs: [x!.node] }, [elementCount(x!.shape)]);
}

function activationNode(layer: KerasLayerSpec, x: KerasTensor, activation: Activation): Converted {
  if (activation.kind === 'linear') return passThrough(x);
  return one({ name: layer.name, op: { kind: 'activation', activation }, inputs: [x.node] }, x.shape);
}

export function convertActivation(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[], isOutput: boolean): Converted {
  const name = layer.className === 'Softmax' ? 'softmax' : param(layer, 'activation');
  const { activation, strippedSoftmax } = activationOf(ctx.file, layer, name, isOutput);
  return strippedSoftmax ? { ...passThrough(x!), strippedSoftmax } : activationNode(layer, x!, activation);
}

/** Keras 2's ReLU layer: `max_value` → clip, `negative_slope` → leaky ReLU; `threshold` must be 0. */
export function convertReLU(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[]): Converted {
  const max = param(layer, 'max_value');
  const slope = param(layer, 'negative_slope') ?? 0;
  const threshold = param(layer, 'threshold') ?? 0;
  if (threshold !== 0) throw unsupported(ctx.file, layer, `threshold ${JSON.stringify(threshold)} is not supported (only 0)`);
  if (typeof slope !== 'number' || (max !== undefined && typeof max !== 'number')) throw unsupported(ctx.file, layer, 'max_value and negative_slope must be numbers');
  if (max !== undefined && slope !== 0) throw unsupported(ctx.file, layer, 'max_value with a negative_slope is not supported');
  const activation: Activation = max !== undefined ? { kind: 'clip', min: 0, max: max as number } : slope !== 0 ? { kind: 'leakyRelu', alpha: slope } : { kind: 'relu' };
  return activationNode(layer, x!, activation);
}

export function convertLeakyReLU(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[]): Converted {
  const alpha = param(layer, 'alpha', 'negative_slope') ?? 0.3;
  if (typeof alpha !== 'number') throw unsupported(ctx.file, layer, `alpha ${JSON.stringify(alpha)} is not a number`);
  return activationNode(layer, x!, { kind: 'leakyRelu', alpha });
}

/** `[top, bottom, left, right]` from Keras 2's int / (h, w) / ((t, b), (l, r)) or Keras 1's (h, w) / 4-tuple / dict. */
function zeroPads(ctx: ConvertContext, layer: KerasLayerSpec): [number, number, number, number] {
  const p = param(layer, 'padding') ?? 1;
  const nonNeg = (v: unknown): number => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    throw unsupported(ctx.file, layer, `padding ${JSON.stringify(p)} is not a non-negative integer padding`);
  };
  if (typeof p === 'number') return [nonNeg(p), p, p, p];
  if (Array.isArray(p) && p.length === 2 && Array.isArray(p[0]) && Array.isArray(p[1])) return [nonNeg(p[0][0]), nonNeg(p[0][1]), nonNeg(p[1][0]), nonNeg(p[1][1])];
  if (Array.isArray(p) && p.length === 2) return [nonNeg(p[0]), nonNeg(p[0]), nonNeg(p[1]), nonNeg(p[1])];
  if (Array.isArray(p) && p.length === 4) return [nonNeg(p[0]), nonNeg(p[1]), nonNeg(p[2]), nonNeg(p[3])];
  if (typeof p === 'object' && p !== null) {
    const d = p as Record<string, unknown>;
    return [nonNeg(d['top_pad'] ?? 0), nonNeg(d['bottom_pad'] ?? 0), nonNeg(d['left_pad'] ?? 0), nonNeg(d['right_pad'] ?? 0)];
  }
  throw unsupported(ctx.file, layer, `padding ${JSON.stringify(p)} is not supported`);
}

export function convertZeroPadding(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[]): Converted {
  image(ctx, layer, x!);
  const pads = zeroPads(ctx, layer);
  const [h, w, c] = x!.shape as [number, number, number];
  return one({ name: layer.name, op: { kind: 'pad', pads, value: 0 }, inputs: [x!.node] }, [h + pads[0] + pads[1], w + pads[2] + pads[3], c]);
}

export function convertAdd(ctx: ConvertContext, layer: KerasLayerSpec, xs: readonly KerasTensor[]): Converted {
  if (xs.length < 2) throw unsupported(ctx.file, layer, `adds ${xs.length} input(s); expected two or more`);
  if (!xs.every((t) => shapeEquals(t.shape, xs[0]!.shape))) throw unsupported(ctx.file, layer, `inputs of different shapes (${xs.map((t) => `[${t.shape.join(',')}]`).join(', ')})`);
  return one({ name: layer.name, op: { kind: 'add' }, inputs: xs.map((t) => t.node) }, xs[0]!.shape);
}

export function convertConcatenate(ctx: ConvertContext, layer: KerasLayerSpec, xs: readonly KerasTensor[]): Converted {
  const rawAxis = param(layer, 'axis', 'concat_axis') ?? -1;
  const first = xs[0]!;
  const axis = typeof rawAxis === 'number' ? graphAxis(rawAxis, first.shape, ctx.format) : null;
  if (axis === null || xs.length < 2) throw unsupported(ctx.file, layer, `concatenation of ${xs.length} input(s) along axis ${JSON.stringify(rawAxis)} is not supported`);
  const at = axis < 0 ? first.shape.length + axis : axis;
  const fits = xs.every((t) => t.shape.length === first.shape.length && t.shape.every((d, i) => i === at || d === first.shape[i]));
  if (!fits) throw unsupported(ctx.file, layer, `inputs [${xs.map((t) => t.shape.join(',')).join('] [')}] do not fit together along axis ${rawAxis}`);
  const shape = first.shape.map((d, i) => (i === at ? xs.reduce((s, t) => s + t.shape[i]!, 0) : d));
  return one({ name: layer.name, op: { kind: 'concat', axis }, inputs: xs.map((t) => t.node) }, shape);
}

/** Keras 1's Merge layer in `sum` or `concat` mode. */
export function convertMerge(ctx: ConvertContext, layer: KerasLayerSpec, xs: readonly KerasTensor[]): Converted {
  const mode = param(layer, 'mode') ?? 'sum';
  if (mode === 'sum') return convertAdd(ctx, layer, xs);
  if (mode === 'concat') return convertConcatenate(ctx, layer, xs);
  throw unsupported(ctx.file, layer, `merge mode '${String(mode)}' is not supported (sum, concat)`);
}
