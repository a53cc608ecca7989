/**
 * The layer graph: a typed, framework-free view of a sequential model as a list of steps, each holding its
 * weights as Float32Arrays and its input and output shapes. The fake-quant and integer inference paths execute
 * it, post-training quantization attaches its parameters to it, and the verifier walks it.
 *
 * Layout conventions: activations are NHWC; conv kernels are `[kh, kw, inChannels, outChannels]` and dense
 * kernels `[in, out]` (the TF.js/Keras layouts), so the output-channel axis of every kernel is its last axis.
 * `flatten` flattens NHWC in row-major (h, w, c) order, as TF.js does.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { QrobustError } from '../core/errors.js';

/** The activation fused into a conv2d or dense step. */
export type FusedActivation = 'relu' | 'linear';
export type Padding = 'same' | 'valid';
/** A per-example shape: `[H, W, C]` for images and feature maps, `[N]` for vectors. */
export type StepShape = readonly number[];

interface StepBase {
  /** The layer name in the source model. */
  readonly name: string;
  readonly inputShape: StepShape;
  readonly outputShape: StepShape;
}

/**
 * Per-channel `(x - mean) / std` (the `Normalize` layer), one value per channel or one for all. Kept as the
 * layer's double-precision configuration; the layer computes `(x − f32(mean)) · f32(1/std)` in float32.
 */
export interface NormalizeStep extends StepBase {
  readonly kind: 'normalize';
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** 2-D convolution, NHWC, kernel `[kh, kw, ci, co]`, no dilation. */
export interface Conv2DStep extends StepBase {
  readonly kind: 'conv2d';
  readonly kernel: Float32Array;
  readonly kernelShape: readonly [number, number, number, number];
  /** Length `co`; zeros when the layer has no bias. */
  readonly bias: Float32Array;
  readonly strides: readonly [number, number];
  readonly padding: Padding;
  readonly activation: FusedActivation;
}

/** Fully connected layer on a vector, kernel `[in, out]`. */
export interface DenseStep extends StepBase {
  readonly kind: 'dense';
  readonly kernel: Float32Array;
  readonly kernelShape: readonly [number, number];
  /** Length `out`; zeros when the layer has no bias. */
  readonly bias: Float32Array;
  readonly activation: FusedActivation;
}

export interface MaxPoolStep extends StepBase {
  readonly kind: 'maxPool';
  readonly poolSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: Padding;
}

export interface FlattenStep extends StepBase {
  readonly kind: 'flatten';
}

export interface ReluStep extends StepBase {
  readonly kind: 'relu';
}

export type LayerStep = NormalizeStep | Conv2DStep | DenseStep | MaxPoolStep | FlattenStep | ReluStep;
/** Steps that carry a weight kernel (the ones quantization changes). */
export type WeightStep = Conv2DStep | DenseStep;

export interface LayerGraph {
  /** Per-example input shape `[H, W, C]`. */
  readonly inputShape: readonly [number, number, number];
  readonly steps: readonly LayerStep[];
  /** Length of the output vector (the number of classes for a classifier). */
  readonly outputSize: number;
}

export function isWeightStep(step: LayerStep): step is WeightStep {
  return step.kind === 'conv2d' || step.kind === 'dense';
}

/** Indices of the conv2d and dense steps, in order. */
export function weightStepIndices(graph: LayerGraph): number[] {
  const out: number[] = [];
  graph.steps.forEach((s, i) => {
    if (isWeightStep(s)) out.push(i);
  });
  return out;
}

/** Output size along one spatial axis, with TF's 'same' (ceil(in/stride)) and 'valid' rules. */
export function convOutputSize(inSize: number, kernel: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(inSize / stride) : Math.floor((inSize - kernel) / stride) + 1;
}

/** Padding before the first element along one axis (TF puts the odd extra pixel at the end). */
export function padBefore(inSize: number, kernel: number, stride: number, padding: Padding): number {
  if (padding === 'valid') return 0;
  const out = Math.ceil(inSize / stride);
  return Math.floor(Math.max((out - 1) * stride + kernel - inSize, 0) / 2);
}

/** Layer classes that are the identity at inference and are left out of the graph. */
const INFERENCE_IDENTITY = new Set(['InputLayer', 'Dropout', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

type Config = Record<string, unknown>;

function unsupported(layer: tfl.layers.Layer, why: string): QrobustError {
  return new QrobustError('unsupported_layer', `layer '${layer.name}' (${layer.getClassName()}): ${why}`);
}

function pair(v: unknown, layer: tfl.layers.Layer, what: string): [number, number] {
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length !== 2 || !a.every((x) => Number.isInteger(x) && (x as number) > 0)) {
    throw unsupported(layer, `${what} must be one or two positive integers, got ${JSON.stringify(v)}`);
  }
  return [a[0] as number, a[1] as number];
}

function activationOf(config: Config, layer: tfl.layers.Layer): FusedActivation {
  const a = config['activation'] ?? 'linear';
  if (a === 'relu' || a === 'linear') return a;
  throw unsupported(layer, `activation '${String(a)}' is not supported (relu or linear)`);
}

function channelsLast(config: Config, layer: tfl.layers.Layer): void {
  const f = config['dataFormat'];
  if (f !== undefined && f !== 'channelsLast') throw unsupported(layer, `dataFormat '${String(f)}' is not supported (channelsLast)`);
}

function paddingOf(config: Config, layer: tfl.layers.Layer): Padding {
  const p = config['padding'] ?? 'valid';
  if (p === 'same' || p === 'valid') return p;
  throw unsupported(layer, `padding '${String(p)}' is not supported (same or valid)`);
}

function weightsOf(layer: tfl.layers.Layer): Float32Array[] {
  return layer.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
}

function sameShape(a: StepShape, b: StepShape): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Builds the layer graph of a sequential TF.js layers model (layers in order, each feeding the next).
 * Supported layers: `QrobustNormalize`, `Conv2D` (channelsLast, no dilation, relu/linear), `Dense` (relu/linear,
 * on a vector), `MaxPooling2D`, `Flatten`, `ReLU` (no max value), `Activation` (relu/linear); `InputLayer`,
 * dropout layers and linear activations are the identity at inference and are skipped.
 * @throws QrobustError('unsupported_layer') naming the first layer that is not supported and its class.
 */
export function graphFromModel(model: tfl.LayersModel): LayerGraph {
  const className = model.getClassName();
  if (className !== 'Sequential') {
    throw new QrobustError('unsupported_layer', `model '${model.name}' is a ${className}; the layer graph needs a Sequential model`);
  }
  const batchShape = model.inputs[0]!.shape;
  if (batchShape.length !== 4 || batchShape.slice(1).some((d) => d === null)) {
    throw new QrobustError('unsupported_layer', `model '${model.name}' has input shape [${batchShape.join(',')}]; expected [null, H, W, C]`);
  }
  const inputShape = batchShape.slice(1) as [number, number, number];
  const steps: LayerStep[] = [];
  let shape: StepShape = inputShape;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const config = layer.getConfig() as Config;
    if (INFERENCE_IDENTITY.has(cls)) continue;
    const step = stepOf(layer, cls, config, shape);
    if (step === null) continue;
    const declared = (layer.outputShape as (number | null)[]).slice(1);
    if (!sameShape(step.outputShape, declared as number[])) {
      throw unsupported(layer, `computed output shape [${step.outputShape.join(',')}] differs from the layer's [${declared.join(',')}]`);
    }
    steps.push(step);
    shape = step.outputShape;
  }
  if (shape.length !== 1) {
    throw new QrobustError('unsupported_layer', `model '${model.name}' ends in shape [${shape.join(',')}]; expected a vector of logits`);
  }
  return { inputShape, steps, outputSize: shape[0]! };
}

function stepOf(layer: tfl.layers.Layer, cls: string, config: Config, inShape: StepShape): LayerStep | null {
  const name = layer.name;
  switch (cls) {
    case 'QrobustNormalize': {
      const mean = [...(config['mean'] as number[])];
      const std = [...(config['std'] as number[])];
      const c = inShape[inShape.length - 1]!;
      if (mean.length !== 1 && mean.length !== c) throw unsupported(layer, `${mean.length} means for ${c} channels`);
      return { kind: 'normalize', name, inputShape: inShape, outputShape: inShape, mean, std };
    }
    case 'Conv2D': {
      channelsLast(config, layer);
      if (inShape.length !== 3) throw unsupported(layer, `input shape [${inShape.join(',')}] is not [H, W, C]`);
      const dilation = pair(config['dilationRate'] ?? 1, layer, 'dilationRate');
      if (dilation[0] !== 1 || dilation[1] !== 1) throw unsupported(layer, 'dilated convolution is not supported');
      const [kh, kw] = pair(config['kernelSize'], layer, 'kernelSize');
      const strides = pair(config['strides'] ?? 1, layer, 'strides');
      const padding = paddingOf(config, layer);
      const [h, w, ci] = inShape as [number, number, number];
      const co = config['filters'] as number;
      const weights = weightsOf(layer);
      const kernel = weights[0]!;
      if (kernel.length !== kh * kw * ci * co) throw unsupported(layer, 'kernel size does not match its shape');
      const bias = config['useBias'] === false ? new Float32Array(co) : weights[1]!;
      const outShape = [convOutputSize(h, kh, strides[0], padding), convOutputSize(w, kw, strides[1], padding), co];
      return {
        kind: 'conv2d',
        name,
        inputShape: inShape,
        outputShape: outShape,
        kernel,
        kernelShape: [kh, kw, ci, co],
        bias,
        strides,
        padding,
        activation: activationOf(config, layer),
      };
    }
    case 'Dense': {
      if (inShape.length !== 1) throw unsupported(layer, `input shape [${inShape.join(',')}] is not a vector (add a Flatten before it)`);
      const units = config['units'] as number;
      const weights = weightsOf(layer);
      const bias = config['useBias'] === false ? new Float32Array(units) : weights[1]!;
      return {
        kind: 'dense',
        name,
        inputShape: inShape,
        outputShape: [units],
        kernel: weights[0]!,
        kernelShape: [inShape[0]!, units],
        bias,
        activation: activationOf(config, layer),
      };
    }
    case 'MaxPooling2D': {
      channelsLast(config, layer);
      if (inShape.length !== 3) throw unsupported(layer, `input shape [${inShape.join(',')}] is not [H, W, C]`);
      const poolSize = pair(config['poolSize'], layer, 'poolSize');
      const strides = pair(config['strides'] ?? poolSize, layer, 'strides');
      const padding = paddingOf(config, layer);
      const [h, w, c] = inShape as [number, number, number];
      const outShape = [convOutputSize(h, poolSize[0], strides[0], padding), convOutputSize(w, poolSize[1], strides[1], padding), c];
      return { kind: 'maxPool', name, inputShape: inShape, outputShape: outShape, poolSize, strides, padding };
    }
    case 'Flatten':
      channelsLast(config, layer);
      return { kind: 'flatten', name, inputShape: inShape, outputShape: [inShape.reduce((a, b) => a * b, 1)] };
    case 'ReLU': {
      const max = config['maxValue'];
      if (max !== undefined && max !== null) throw unsupported(layer, 'ReLU with a maximum value is not supported');
      return { kind: 'relu', name, inputShape: inShape, outputShape: inShape };
    }
    case 'Activation':
      // A linear Activation layer is the identity and is left out.
      if (activationOf(config, layer) === 'linear') return null;
      return { kind: 'relu', name, inputShape: inShape, outputShape: inShape };
    default:
      throw unsupported(layer, 'this layer class is not supported by the layer graph');
  }
}
