/**
 * TF.js layers model (Sequential or functional) → `ModelGraph`: the inverse of the import builder, for the
 * layer classes the zoo and the builder use, so that every consumer can read a saved model directory as one
 * format-neutral graph. A leading `QrobustNormalize` becomes the front end; identity layers (dropout, input,
 * linear activations) are left out; a `Permute([3, 1, 2])` feeding a `Flatten` is a `chw` flatten.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { QrobustError } from '../core/errors.js';
import { MODEL_INPUT, type Activation, type GraphNode, type GraphOp, type ModelGraph, type Padding2D } from './model-graph.js';

type Config = Record<string, unknown>;

export interface GraphWithFront {
  readonly graph: ModelGraph;
  readonly front: { readonly mean: number[]; readonly std: number[] } | undefined;
}

const IDENTITY = new Set(['InputLayer', 'Dropout', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'SpatialDropout2D']);

function unsupported(layer: tfl.layers.Layer, why: string): QrobustError {
  return new QrobustError('unsupported_layer', `layer '${layer.name}' (${layer.getClassName()}): ${why}`);
}

function pair(v: unknown): [number, number] {
  const a = Array.isArray(v) ? v : [v, v];
  return [Number(a[0]), Number(a[1])];
}

function weightsOf(layer: tfl.layers.Layer): Float32Array[] {
  return layer.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
}

function namedActivation(name: unknown, layer: tfl.layers.Layer): Activation {
  switch (name ?? 'linear') {
    case 'linear':
      return { kind: 'linear' };
    case 'relu':
      return { kind: 'relu' };
    case 'sigmoid':
      return { kind: 'sigmoid' };
    case 'tanh':
      return { kind: 'tanh' };
    default:
      throw unsupported(layer, `activation '${String(name)}' is not supported`);
  }
}

function padding(config: Config, layer: tfl.layers.Layer): Padding2D {
  const p = config['padding'] ?? 'valid';
  if (p === 'same' || p === 'valid') return p;
  throw unsupported(layer, `padding ${JSON.stringify(p)}`);
}

function channelsLast(config: Config, layer: tfl.layers.Layer): void {
  const f = config['dataFormat'];
  if (f !== undefined && f !== 'channelsLast') throw unsupported(layer, `dataFormat '${String(f)}' is not supported (channelsLast)`);
}

/** The graph op of one layer, or null for an identity layer. */
function opOf(layer: tfl.layers.Layer, inShape: readonly number[]): GraphOp | null {
  const cls = layer.getClassName();
  const config = layer.getConfig() as Config;
  switch (cls) {
    case 'Dense': {
      const units = Number(config['units']);
      const [kernel, bias] = weightsOf(layer);
      return { kind: 'dense', kernel: kernel!, kernelShape: [kernel!.length / units, units], bias: config['useBias'] === false ? new Float32Array(units) : bias!, activation: namedActivation(config['activation'], layer) };
    }
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      channelsLast(config, layer);
      const [kh, kw] = pair(config['kernelSize']);
      const ci = inShape[2]!;
      const [kernel, bias] = weightsOf(layer);
      const depthwise = cls === 'DepthwiseConv2D';
      const co = depthwise ? ci * Number(config['depthMultiplier'] ?? 1) : Number(config['filters']);
      // A depthwise kernel [kh, kw, C, m] lists its values in the order of a grouped kernel [kh, kw, 1, C·m].
      return {
        kind: 'conv2d',
        kernel: kernel!,
        kernelShape: depthwise ? [kh, kw, 1, co] : [kh, kw, ci, co],
        bias: config['useBias'] === false ? new Float32Array(co) : bias!,
        strides: pair(config['strides'] ?? 1),
        dilations: pair(config['dilationRate'] ?? 1),
        padding: padding(config, layer),
        groups: depthwise ? ci : 1,
        activation: namedActivation(config['activation'], layer),
      };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      channelsLast(config, layer);
      const poolSize = pair(config['poolSize']);
      return { kind: cls === 'MaxPooling2D' ? 'maxPool' : 'avgPool', poolSize, strides: pair(config['strides'] ?? poolSize), padding: padding(config, layer) };
    }
    case 'QrobustPaddedPool2D':
      return { kind: config['pool'] === 'max' ? 'maxPool' : 'avgPool', poolSize: pair(config['poolSize']), strides: pair(config['strides']), padding: config['pads'] as [number, number, number, number], countIncludePad: false };
    case 'GlobalAveragePooling2D':
      channelsLast(config, layer);
      return { kind: 'globalAvgPool' };
    case 'Flatten':
      return { kind: 'flatten', order: 'hwc' };
    case 'ZeroPadding2D': {
      const p = config['padding'] as [[number, number], [number, number]] | number;
      const [[t, b], [l, r]] = typeof p === 'number' ? [[p, p], [p, p]] : p;
      return { kind: 'pad', pads: [t, b, l, r], value: 0 };
    }
    case 'QrobustConstantPad2D':
      return { kind: 'pad', pads: config['pads'] as [number, number, number, number], value: Number(config['value']) };
    case 'QrobustChannelAffine':
      return { kind: 'channelAffine', scale: Float32Array.from(config['scale'] as number[]), offset: Float32Array.from(config['offset'] as number[]) };
    case 'Add':
      return { kind: 'add' };
    case 'Concatenate': {
      const axis = Number(config['axis'] ?? -1);
      return { kind: 'concat', axis: axis < 0 ? axis : axis - 1 };
    }
    case 'Activation': {
      const a = namedActivation(config['activation'], layer);
      return a.kind === 'linear' ? null : { kind: 'activation', activation: a };
    }
    case 'ReLU': {
      const max = config['maxValue'];
      return { kind: 'activation', activation: max === null || max === undefined ? { kind: 'relu' } : { kind: 'clip', min: 0, max: Number(max) } };
    }
    case 'LeakyReLU':
      return { kind: 'activation', activation: { kind: 'leakyRelu', alpha: Number(config['alpha'] ?? 0.3) } };
    case 'QrobustClip':
      return { kind: 'activation', activation: { kind: 'clip', min: config['min'] === null ? -Infinity : Number(config['min']), max: config['max'] === null ? Infinity : Number(config['max']) } };
    default:
      if (IDENTITY.has(cls)) return null;
      throw unsupported(layer, 'this layer class has no model-graph form');
  }
}

/** The layers a layer reads (its first inbound node). */
function inboundOf(layer: tfl.layers.Layer): tfl.layers.Layer[] {
  const nodes = (layer as unknown as { inboundNodes: { inboundLayers: tfl.layers.Layer[] }[] }).inboundNodes;
  return nodes[0]?.inboundLayers ?? [];
}

/**
 * The model graph of a TF.js model (see the module comment).
 * @throws QrobustError('unsupported_layer') naming the first layer with no graph form.
 */
export function modelGraphFromLayers(model: tfl.LayersModel): GraphWithFront {
  const batchShape = model.inputs[0]!.shape;
  if (model.inputs.length !== 1 || batchShape.length !== 4 || batchShape.slice(1).some((d) => d === null)) {
    throw new QrobustError('unsupported_layer', `model '${model.name}' must have one input [null, H, W, C], got [${batchShape.join(',')}]`);
  }
  const inputShape = batchShape.slice(1) as [number, number, number];
  /** What each layer's output is called in the graph (identity layers pass their input's name on). */
  const alias = new Map<string, string>();
  const nodes: GraphNode[] = [];
  let front: GraphWithFront['front'];
  const permuted = new Set<string>();
  for (const layer of model.layers) {
    const inbound = inboundOf(layer);
    const inputs = inbound.map((l) => (l.getClassName() === 'InputLayer' ? MODEL_INPUT : alias.get(l.name)!));
    if (layer.getClassName() === 'InputLayer') continue;
    if (inputs.some((i) => i === undefined)) throw unsupported(layer, 'reads a layer that comes later');
    const cls = layer.getClassName();
    if (cls === 'QrobustNormalize') {
      if (nodes.length > 0 || front || inputs[0] !== MODEL_INPUT) throw unsupported(layer, 'normalization is supported only right after the input');
      const c = layer.getConfig() as Config;
      front = { mean: [...(c['mean'] as number[])], std: [...(c['std'] as number[])] };
      alias.set(layer.name, MODEL_INPUT);
      continue;
    }
    if (cls === 'Permute') {
      const dims = (layer.getConfig() as Config)['dims'] as number[];
      if (dims.join(',') !== '3,1,2') throw unsupported(layer, `permutation [${dims.join(',')}] is supported only before a Flatten as [3,1,2]`);
      permuted.add(layer.name);
      alias.set(layer.name, inputs[0]!);
      continue;
    }
    const inShape = (inbound[0]?.outputShape as (number | null)[] | undefined)?.slice(1) as number[] | undefined;
    const source = inbound[0] ? permuted.has(inbound[0].name) : false;
    let op = opOf(layer, inShape ?? inputShape);
    if (source) {
      if (op?.kind !== 'flatten') throw unsupported(layer, 'a Permute([3,1,2]) must feed a Flatten');
      op = { kind: 'flatten', order: 'chw' };
      // The Flatten reads the Permute's input in channels-first order: its shape is the unpermuted one.
    }
    if (op === null) {
      alias.set(layer.name, inputs[0]!);
      continue;
    }
    nodes.push({ name: layer.name, op, inputs });
    alias.set(layer.name, layer.name);
  }
  const outLayer = model.outputLayers[0]!;
  const output = alias.get(outLayer.name) ?? outLayer.name;
  return { graph: { inputShape, nodes, output }, front };
}
