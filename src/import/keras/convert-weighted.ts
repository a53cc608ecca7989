/**
 * Keras layers with weights → graph nodes: Dense, Conv2D (Keras 1 Convolution2D), DepthwiseConv2D,
 * BatchNormalization (→ `channelAffine`, inference form).
 */
import type { Activation, GraphNode } from '../../graph/model-graph.js';
import { one, layerWeights, graphAxis, type ConvertContext, type Converted, type KerasTensor } from './convert-context.js';
import { flipKernelSpatially, thKernelToHwio } from './kernels.js';
import { activationOf, boolParam, pair, param, paddingOf, positiveInt, unsupported } from './layer-params.js';
import type { KerasLayerSpec } from './model-config.js';
import { spatialOutput } from './shapes.js';

export function convertDense(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[], isOutput: boolean): Converted {
  if (x!.shape.length !== 1) throw unsupported(ctx.file, layer, `dense on a [${x!.shape.join(',')}] tensor (not a vector) is not supported; put a Flatten before it`);
  const units = positiveInt(ctx.file, layer, param(layer, 'units', 'output_dim'), 'units');
  const useBias = boolParam(layer, true, 'use_bias', 'bias');
  const inSize = x!.shape[0]!;
  const [kernel, bias] = layerWeights(ctx, layer, [
    { role: 'kernel', shape: [inSize, units] },
    ...(useBias ? [{ role: 'bias' as const, shape: [units] }] : []),
  ]);
  const { activation, strippedSoftmax } = activationOf(ctx.file, layer, param(layer, 'activation'), isOutput);
  const node: GraphNode = {
    name: layer.name,
    op: { kind: 'dense', kernel: kernel!, kernelShape: [inSize, units], bias: bias ?? new Float32Array(units), activation },
    inputs: [x!.node],
  };
  return one(node, [units], strippedSoftmax);
}

interface ConvGeometry {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly padding: 'same' | 'valid';
}

function convGeometry(ctx: ConvertContext, layer: KerasLayerSpec): ConvGeometry {
  const k1 = param(layer, 'nb_row') !== undefined ? [param(layer, 'nb_row'), param(layer, 'nb_col')] : undefined;
  return {
    kernelSize: pair(ctx.file, layer, param(layer, 'kernel_size') ?? k1, 'kernel_size'),
    strides: pair(ctx.file, layer, param(layer, 'strides', 'subsample') ?? 1, 'strides'),
    dilations: pair(ctx.file, layer, param(layer, 'dilation_rate') ?? 1, 'dilation_rate'),
    padding: paddingOf(ctx.file, layer),
  };
}

function imageInput(ctx: ConvertContext, layer: KerasLayerSpec, x: KerasTensor): [number, number, number] {
  if (x.shape.length !== 3) throw unsupported(ctx.file, layer, `input [${x.shape.join(',')}] is not an image`);
  return x.shape as [number, number, number];
}

function convNode(
  layer: KerasLayerSpec,
  x: KerasTensor,
  g: ConvGeometry,
  kernel: Float32Array,
  kernelShape: readonly [number, number, number, number],
  bias: Float32Array,
  groups: number,
  activation: Activation,
  strippedSoftmax: boolean,
): Converted {
  const co = kernelShape[3];
  const op = { kind: 'conv2d', kernel, kernelShape, bias, strides: g.strides, dilations: g.dilations, padding: g.padding, groups, activation } as const;
  return one({ name: layer.name, op, inputs: [x.node] }, spatialOutput(x.shape, g.kernelSize, g.strides, g.dilations, g.padding, co), strippedSoftmax);
}

export function convertConv2D(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[], isOutput: boolean): Converted {
  const [, , ci] = imageInput(ctx, layer, x!);
  const g = convGeometry(ctx, layer);
  const filters = positiveInt(ctx.file, layer, param(layer, 'filters', 'nb_filter'), 'filters');
  const groups = positiveInt(ctx.file, layer, param(layer, 'groups') ?? 1, 'groups');
  if (ci % groups !== 0 || filters % groups !== 0) throw unsupported(ctx.file, layer, `groups ${groups} does not divide ${ci} input and ${filters} output channels`);
  const useBias = boolParam(layer, true, 'use_bias', 'bias');
  const [kh, kw] = g.kernelSize;
  const hwio = [kh, kw, ci / groups, filters] as const;
  // Keras 1 with th dim ordering stored [out, in, kh, kw]; every other Keras stores [kh, kw, in, out].
  const th = ctx.provenance.major === 1 && ctx.format === 'channels_first';
  const stored = th ? [filters, ci / groups, kh, kw] : [...hwio];
  const [raw, bias] = layerWeights(ctx, layer, [{ role: 'kernel', shape: stored }, ...(useBias ? [{ role: 'bias' as const, shape: [filters] }] : [])]);
  let kernel = th ? thKernelToHwio(raw!, [filters, ci / groups, kh, kw]) : raw!;
  if (ctx.provenance.backend === 'theano') kernel = flipKernelSpatially(kernel, hwio);
  const { activation, strippedSoftmax } = activationOf(ctx.file, layer, param(layer, 'activation'), isOutput);
  return convNode(layer, x!, g, kernel, hwio, bias ?? new Float32Array(filters), groups, activation, strippedSoftmax);
}

/**
 * Keras's depthwise kernel `[kh, kw, C, M]` has output channel `c·M + m`, the same memory order as the graph's
 * grouped kernel `[kh, kw, 1, C·M]` with `groups = C`.
 */
export function convertDepthwiseConv2D(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[], isOutput: boolean): Converted {
  const [, , ci] = imageInput(ctx, layer, x!);
  const g = convGeometry(ctx, layer);
  const multiplier = positiveInt(ctx.file, layer, param(layer, 'depth_multiplier') ?? 1, 'depth_multiplier');
  const useBias = boolParam(layer, true, 'use_bias');
  const [kh, kw] = g.kernelSize;
  const co = ci * multiplier;
  const [raw, bias] = layerWeights(ctx, layer, [
    { role: 'depthwise_kernel', shape: [kh, kw, ci, multiplier] },
    ...(useBias ? [{ role: 'bias' as const, shape: [co] }] : []),
  ]);
  const grouped = [kh, kw, 1, co] as const;
  const kernel = ctx.provenance.backend === 'theano' ? flipKernelSpatially(raw!, grouped) : raw!;
  const { activation, strippedSoftmax } = activationOf(ctx.file, layer, param(layer, 'activation'), isOutput);
  return convNode(layer, x!, g, kernel, grouped, bias ?? new Float32Array(co), ci, activation, strippedSoftmax);
}

/** Inference batch norm: `γ (x − μ) / √(σ² + ε) + β` per channel = `x · scale + offset`. */
export function convertBatchNormalization(ctx: ConvertContext, layer: KerasLayerSpec, [x]: readonly KerasTensor[]): Converted {
  const mode = param(layer, 'mode');
  if (mode !== undefined && mode !== 0) throw unsupported(ctx.file, layer, `Keras 1 mode ${String(mode)} is not supported (only mode 0, feature-wise)`);
  const rawAxis = param(layer, 'axis') ?? -1;
  const axisList = Array.isArray(rawAxis) ? rawAxis : [rawAxis];
  const axis = axisList.length === 1 && typeof axisList[0] === 'number' ? graphAxis(axisList[0], x!.shape, ctx.format) : null;
  if (axis !== -1) throw unsupported(ctx.file, layer, `normalization over axis ${JSON.stringify(rawAxis)} is not supported (only the channel axis)`);
  const channels = x!.shape[x!.shape.length - 1]!;
  const center = boolParam(layer, true, 'center');
  const scaleOn = boolParam(layer, true, 'scale');
  const epsilon = param(layer, 'epsilon') ?? 1e-3;
  if (typeof epsilon !== 'number' || !(epsilon >= 0)) throw unsupported(ctx.file, layer, `epsilon ${JSON.stringify(epsilon)} is not a number`);
  const v = [channels];
  const ws = layerWeights(ctx, layer, [
    ...(scaleOn ? [{ role: 'gamma' as const, shape: v }] : []),
    ...(center ? [{ role: 'beta' as const, shape: v }] : []),
    { role: 'moving_mean', shape: v },
    { role: 'moving_variance', shape: v },
  ]);
  const gamma = scaleOn ? ws.shift()! : null;
  const beta = center ? ws.shift()! : null;
  const [mean, variance] = ws as [Float32Array, Float32Array];
  const scale = new Float32Array(channels);
  const offset = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = (gamma ? gamma[c]! : 1) / Math.sqrt(variance[c]! + epsilon);
    scale[c] = s;
    offset[c] = (beta ? beta[c]! : 0) - mean[c]! * s;
  }
  return one({ name: layer.name, op: { kind: 'channelAffine', scale, offset }, inputs: [x!.node] }, x!.shape);
}
