/**
 * `importTflite`: a TFLite flatbuffer → the format-neutral `ModelGraph` (NHWC, float32 weights; int8 weights
 * dequantized), plus, for a dynamic-range ("hybrid") quantized file, the record of how its layers quantize at
 * run time (`sourceQuantization`), from which `quant/hybrid/` rebuilds the deployed semantics.
 *
 * The graph's input is the dataset's image `[H, W, C]`. A file whose input is `[1, H, W, C]` is NHWC already;
 * one whose input is a flat vector `[1, H·W·C]` was fed the image flattened, in C-H-W order (`flat-nchw`, the
 * channels-first habit of Keras 1 / Theano users) or H-W-C order (`flat-nhwc`): the graph then starts with a
 * flatten of that order.
 */
import { QrobustError } from '../../core/errors.js';
import { MODEL_INPUT, type GraphNode, type ModelGraph } from '../../graph/model-graph.js';
import type { ImportedNetwork, ImportRequest, InputLayout, TensorGrid } from '../types.js';
import { convertOperator, type ConversionState } from './operators.js';
import { readTfliteModel, type TfliteModel, type TfliteTensor } from './read-model.js';
import { elementCount } from './tensor-values.js';

function modelInput(file: string, m: TfliteModel): TfliteTensor {
  if (m.inputs.length !== 1) throw new QrobustError('unsupported_layer', `${file}: the model has ${m.inputs.length} inputs; only single-input classifiers are supported`);
  const t = m.tensors[m.inputs[0]!]!;
  if (t.type !== 'FLOAT32' && t.type !== 'INT8' && t.type !== 'UINT8') {
    throw new QrobustError('unsupported_layer', `${file}: the model input has type ${t.type}; expected FLOAT32 (or INT8/UINT8)`);
  }
  if (t.shape[0] !== 1) throw new QrobustError('unsupported_layer', `${file}: the model input has shape [${t.shape.join(',')}]; expected batch size 1 first`);
  return t;
}

/** The grid of an integer model input (the model is then fed pixels quantized to it). */
function inputGrid(file: string, t: TfliteTensor): TensorGrid {
  const q = t.quantization;
  if (t.type !== 'INT8' || !q || q.scale.length !== 1) throw new QrobustError('unsupported_layer', `${file}: the model input is ${t.type}; integer inputs must be INT8, quantized per tensor`);
  return { bits: 8, scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0 };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The layout of the file's input, checked against the declared one and the dataset's image shape. */
function resolveLayout(req: ImportRequest, input: TfliteTensor): InputLayout {
  const [h, w, c] = req.imageShape;
  const perExample = input.shape.slice(1);
  const size = h * w * c;
  if (perExample.length === 1) {
    if (perExample[0] !== size) {
      throw new QrobustError('shape_mismatch', `${req.file}: the model input has ${perExample[0]} values, the dataset's images ${h}×${w}×${c} = ${size}`);
    }
    if (req.layout === 'flat-nchw' || req.layout === 'flat-nhwc') return req.layout;
    if (req.layout !== undefined) {
      throw new QrobustError('invalid_argument', `${req.file}: the model input is a flat vector [1,${size}]; --layout ${req.layout} does not fit (use flat-nchw or flat-nhwc)`);
    }
    if (c === 1 || h * w === 1) return 'flat-nhwc';
    throw new QrobustError('invalid_argument', `${req.file}: the model input is a flat vector of ${size} values; say how images were flattened with --layout flat-nchw or flat-nhwc`);
  }
  if (perExample.length === 3) {
    if (!sameShape(perExample, req.imageShape)) {
      throw new QrobustError('shape_mismatch', `${req.file}: the model input is [${input.shape.join(',')}] (NHWC), the dataset's images are [${h},${w},${c}]`);
    }
    if (req.layout !== undefined && req.layout !== 'nhwc') {
      throw new QrobustError('invalid_argument', `${req.file}: TFLite models take NHWC images and this one's input is [${input.shape.join(',')}]; --layout ${req.layout} does not fit (use nhwc)`);
    }
    return 'nhwc';
  }
  throw new QrobustError('unsupported_layer', `${req.file}: the model input has shape [${input.shape.join(',')}]; expected [1, H, W, C] or [1, H·W·C]`);
}

function opCounts(m: TfliteModel): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const op of m.operators) counts[op.op] = (counts[op.op] ?? 0) + 1;
  return counts;
}

function weightTypes(m: TfliteModel): string[] {
  const types = new Set<string>();
  for (const op of m.operators) {
    const w = op.inputs[1];
    if (['FULLY_CONNECTED', 'CONV_2D', 'DEPTHWISE_CONV_2D'].includes(op.op) && w !== undefined && w >= 0) types.add(m.tensors[w]!.type);
  }
  return [...types].sort();
}

/**
 * Imports a TFLite flatbuffer (see the module comment).
 * @throws QrobustError('invalid_model') for a file that is not TFLite or is truncated,
 *   QrobustError('unsupported_layer') "<file>: operator <index> (<NAME>): ..." for an operator it cannot express,
 *   QrobustError('invalid_argument' | 'shape_mismatch') when the input does not fit the layout or the dataset.
 */
export function importTflite(req: ImportRequest): ImportedNetwork {
  const m = readTfliteModel(req.file, req.bytes);
  if (m.subgraphCount !== 1) throw new QrobustError('unsupported_layer', `${req.file}: the model has ${m.subgraphCount} subgraphs; only single-subgraph models are supported`);
  const input = modelInput(req.file, m);
  const layout = resolveLayout(req, input);
  const nodes: GraphNode[] = [];
  const s: ConversionState = {
    file: req.file, model: m, nodes, produced: new Map(), hybrid: [], integer: [], integerInput: null, dequantizedConstants: new Map(), weightNodes: 0, softmax: null,
  };
  if (layout === 'nhwc') {
    s.produced.set(input.index, { node: MODEL_INPUT, shape: req.imageShape });
  } else {
    nodes.push({ name: 'input_flatten', op: { kind: 'flatten', order: layout === 'flat-nchw' ? 'chw' : 'hwc' }, inputs: [MODEL_INPUT] });
    s.produced.set(input.index, { node: 'input_flatten', shape: [elementCount(req.imageShape)] });
  }
  if (input.type !== 'FLOAT32') s.integerInput = inputGrid(req.file, input);
  m.operators.forEach((op, i) => convertOperator(s, op, i === m.operators.length - 1));
  if (m.outputs.length !== 1) throw new QrobustError('unsupported_layer', `${req.file}: the model has ${m.outputs.length} outputs; only single-output classifiers are supported`);
  const out = s.produced.get(m.outputs[0]!);
  if (!out || out.node === MODEL_INPUT) throw new QrobustError('invalid_model', `${req.file}: the output tensor ${m.outputs[0]} is not computed by any operator`);
  if (out.shape.length !== 1 || out.shape[0] !== req.numClasses) {
    throw new QrobustError('shape_mismatch', `${req.file}: the network has [${out.shape.join(',')}] outputs per example, the dataset has ${req.numClasses} classes`);
  }
  const graph: ModelGraph = { inputShape: req.imageShape, nodes, output: out.node };
  const details: Record<string, unknown> = {
    schemaVersion: m.schemaVersion,
    description: m.description,
    operators: opCounts(m),
    inputType: input.type,
    weightTypes: weightTypes(m),
    finalSoftmax: s.softmax ? { operator: s.softmax.operator, beta: s.softmax.beta, stripped: true } : null,
  };
  return { format: 'tflite', graph, layout, details, ...sourceQuantization(req.file, s) };
}

/** The run-time quantization found: dynamic-range layers, or a full-integer network (all weight layers). */
function sourceQuantization(file: string, s: ConversionState): Pick<ImportedNetwork, 'sourceQuantization'> {
  if (s.integer.length > 0) {
    if (s.hybrid.length > 0 || s.integer.length !== s.weightNodes) {
      throw new QrobustError('unsupported_layer', `${file}: the model mixes integer and float (or hybrid) weight layers; only all-integer or dynamic-range models are supported`);
    }
    if (!s.integerInput) throw new QrobustError('invalid_model', `${file}: integer layers but no QUANTIZE of the float input`);
    return { sourceQuantization: { kind: 'full-integer', version: 1, runtime: 'tflite', input: s.integerInput, layers: s.integer } };
  }
  if (s.hybrid.length > 0) return { sourceQuantization: { kind: 'dynamic-range', version: 1, runtime: 'tflite', layers: s.hybrid } };
  return {};
}
