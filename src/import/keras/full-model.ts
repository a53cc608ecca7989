/**
 * A full-model Keras file (`model_config` + `model_weights`) as a graph: each layer of the config converted in
 * order, its weights taken from the file by layer name, shapes tracked in NHWC (a channels-first model has its
 * kernels and axes mapped; its flatten keeps the C-H-W order).
 */
import { QrobustError } from '../../core/errors.js';
import { MODEL_INPUT, type GraphNode, type ModelGraph } from '../../graph/model-graph.js';
import type { InputLayout } from '../types.js';
import type { ConvertContext, Converted, KerasTensor } from './convert-context.js';
import { passThrough } from './convert-context.js';
import {
  convertActivation,
  convertAdd,
  convertConcatenate,
  convertFlatten,
  convertGlobalAvgPool,
  convertLeakyReLU,
  convertMerge,
  convertPool,
  convertReLU,
  convertZeroPadding,
} from './convert-structural.js';
import { convertBatchNormalization, convertConv2D, convertDense, convertDepthwiseConv2D } from './convert-weighted.js';
import type { KerasProvenance } from './keras-version.js';
import { dataFormatOf, unsupported } from './layer-params.js';
import { modelLayout, type DataFormat } from './layout.js';
import type { KerasLayerSpec, KerasModelSpec } from './model-config.js';
import type { LayerWeights } from './weights.js';

type Converter = (ctx: ConvertContext, layer: KerasLayerSpec, inputs: readonly KerasTensor[], isOutput: boolean) => Converted;

/** Keras 2 class names, and Keras 1's where they differ. */
const CONVERTERS: Readonly<Record<string, Converter>> = {
  Dense: convertDense,
  Conv2D: convertConv2D,
  Convolution2D: convertConv2D,
  DepthwiseConv2D: convertDepthwiseConv2D,
  BatchNormalization: convertBatchNormalization,
  MaxPooling2D: (c, l, x) => convertPool(c, l, x, 'maxPool'),
  MaxPool2D: (c, l, x) => convertPool(c, l, x, 'maxPool'),
  AveragePooling2D: (c, l, x) => convertPool(c, l, x, 'avgPool'),
  AvgPool2D: (c, l, x) => convertPool(c, l, x, 'avgPool'),
  GlobalAveragePooling2D: convertGlobalAvgPool,
  GlobalAvgPool2D: convertGlobalAvgPool,
  Flatten: convertFlatten,
  Activation: convertActivation,
  Softmax: convertActivation,
  ReLU: convertReLU,
  LeakyReLU: convertLeakyReLU,
  ZeroPadding2D: convertZeroPadding,
  Add: convertAdd,
  Concatenate: convertConcatenate,
  Merge: convertMerge,
  Dropout: (_c, _l, [x]) => passThrough(x!),
  SpatialDropout2D: (_c, _l, [x]) => passThrough(x!),
};

export const SUPPORTED_KERAS_LAYERS: readonly string[] = ['InputLayer', ...Object.keys(CONVERTERS)];

/** The model's data format: the one its spatial layers declare (they must agree), channels-last if none does. */
function modelFormat(file: string, spec: KerasModelSpec, provenance: KerasProvenance): DataFormat {
  let found: { format: DataFormat; layer: KerasLayerSpec } | null = null;
  for (const layer of spec.layers) {
    // A Keras 2 Flatten's data_format only says how it orders its output (see convertFlatten).
    if (layer.className === 'Flatten' && provenance.major === 2) continue;
    const f = dataFormatOf(layer);
    if (f === null) continue;
    if (found && found.format !== f) {
      throw unsupported(file, layer, `data format ${f} in a model whose layer '${found.layer.name}' is ${found.format} (mixed formats are not supported)`);
    }
    found ??= { format: f, layer };
  }
  return found?.format ?? 'channels_last';
}

/** The per-example input shape in the graph's NHWC. */
function graphInputShape(layout: InputLayout, imageShape: readonly [number, number, number]): KerasTensor {
  return { node: MODEL_INPUT, shape: layout === 'nchw' || layout === 'nhwc' ? imageShape : [imageShape.reduce((a, b) => a * b, 1)] };
}

export interface FullModelResult {
  readonly graph: ModelGraph;
  readonly layout: InputLayout;
  readonly format: DataFormat;
  readonly strippedSoftmax: boolean;
  readonly layerCounts: Readonly<Record<string, number>>;
}

export function fullModelGraph(
  file: string,
  spec: KerasModelSpec,
  weights: readonly LayerWeights[],
  provenance: KerasProvenance,
  imageShape: readonly [number, number, number],
  declared: InputLayout | undefined,
): FullModelResult {
  const format = modelFormat(file, spec, provenance);
  const layout = modelLayout(file, declared, spec.inputShape, imageShape, format);
  const ctx: ConvertContext = { file, format, provenance, weights: new Map(weights.map((w) => [w.layer, w])) };
  const input = graphInputShape(layout, imageShape);
  // A flat input of a multi-channel image: the vector's order is the declared one, so the graph flattens first.
  const nodes: GraphNode[] = [];
  let start = input;
  if (input.shape.length === 1) {
    nodes.push({ name: 'input_flatten', op: { kind: 'flatten', order: layout === 'flat-nchw' ? 'chw' : 'hwc' }, inputs: [MODEL_INPUT] });
    start = { node: 'input_flatten', shape: input.shape };
  }
  const tensors = new Map<string, KerasTensor>();
  if (spec.inputLayer) tensors.set(spec.inputLayer, start);
  const counts: Record<string, number> = {};
  let strippedSoftmax = false;
  spec.layers.forEach((layer, i) => {
    counts[layer.className] = (counts[layer.className] ?? 0) + 1;
    if (layer.name === spec.inputLayer) return;
    if (layer.className === 'InputLayer') throw unsupported(file, layer, 'a second input is not supported');
    const convert = CONVERTERS[layer.className];
    if (!convert) throw unsupported(file, layer, `not supported (supported: ${SUPPORTED_KERAS_LAYERS.join(', ')})`);
    const inputs = i === 0 && !spec.inputLayer ? [start] : layer.inbound.map((n) => tensors.get(n));
    if (inputs.length === 0 || inputs.some((t) => t === undefined)) {
      throw new QrobustError('invalid_model', `${file}: layer '${layer.name}' takes '${layer.inbound.join("', '")}', which no earlier layer produces`);
    }
    const out = convert(ctx, layer, inputs as KerasTensor[], layer.name === spec.output);
    nodes.push(...out.nodes);
    strippedSoftmax ||= out.strippedSoftmax === true;
    tensors.set(layer.name, out.output);
  });
  const output = tensors.get(spec.output);
  if (!output || output.node === MODEL_INPUT) throw new QrobustError('invalid_model', `${file}: the model's output '${spec.output}' computes nothing`);
  if (output.shape.length !== 1) throw new QrobustError('unsupported_layer', `${file}: the model's output is [${output.shape.join(',')}], not a vector of logits`);
  return { graph: { inputShape: imageShape, nodes, output: output.node }, layout, format, strippedSoftmax, layerCounts: counts };
}
