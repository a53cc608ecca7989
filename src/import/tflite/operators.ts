/**
 * TFLite operators → model-graph nodes. Each converter reads one operator's tensors and options and appends the
 * equivalent node(s); the conversion state maps every TFLite tensor to the graph node that produces it and its
 * per-example shape (TFLite tensors carry a leading batch dimension, graph shapes do not).
 *
 * Layout facts (schema.fbs and the TFLite kernels): activations are NHWC; FULLY_CONNECTED weights are
 * `[out, in]` and flatten a feature map in NHWC order; CONV_2D weights are `[out, kh, kw, in]`;
 * DEPTHWISE_CONV_2D weights are `[1, kh, kw, C·m]` with output channel `c·m + j` reading input channel `c`.
 */
import { QrobustError } from '../../core/errors.js';
import type { Activation, GraphNode, GraphOp } from '../../graph/model-graph.js';
import type { DynamicRangeLayer, FullIntegerLayer, TensorGrid } from '../types.js';
import type { FusedActivationName, TfliteModel, TfliteOperator, TfliteTensor } from './read-model.js';
import { constantValues, elementCount } from './tensor-values.js';

export interface Produced {
  readonly node: string;
  /** Per-example shape: `[H, W, C]` or `[N]`. */
  readonly shape: readonly number[];
}

export interface ConversionState {
  readonly file: string;
  readonly model: TfliteModel;
  readonly nodes: GraphNode[];
  /** TFLite tensor index → the graph node producing it. */
  readonly produced: Map<number, Produced>;
  readonly hybrid: DynamicRangeLayer[];
  /** Weight layers with integer inputs (full-integer quantization) and the grid of the model's quantized input. */
  readonly integer: FullIntegerLayer[];
  integerInput: TensorGrid | null;
  /** Output of a DEQUANTIZE of a constant → the stored constant it reads. */
  readonly dequantizedConstants: Map<number, number>;
  weightNodes: number;
  /** Set when the final SOFTMAX was left out. */
  softmax: { readonly operator: number; readonly beta: number } | null;
}

export function unsupportedOp(s: ConversionState, op: TfliteOperator, why: string): QrobustError {
  return new QrobustError('unsupported_layer', `${s.file}: operator ${op.index} (${op.op}): ${why}`);
}

function nodeName(op: TfliteOperator, suffix = ''): string {
  return `op${op.index}_${op.op.toLowerCase().replace(/[^a-z0-9]+/g, '_')}${suffix}`;
}

export function fusedActivation(s: ConversionState, op: TfliteOperator, name: FusedActivationName): Activation {
  switch (name) {
    case 'NONE': return { kind: 'linear' };
    case 'RELU': return { kind: 'relu' };
    case 'RELU6': return { kind: 'clip', min: 0, max: 6 };
    case 'RELU_N1_TO_1': return { kind: 'clip', min: -1, max: 1 };
    case 'TANH': return { kind: 'tanh' };
    default: throw unsupportedOp(s, op, `fused activation ${name} is not supported`);
  }
}

function tensor(s: ConversionState, i: number): TfliteTensor {
  return s.model.tensors[i]!;
}

function input(s: ConversionState, op: TfliteOperator, k: number): Produced {
  const t = op.inputs[k];
  const p = t === undefined || t < 0 ? undefined : s.produced.get(t);
  if (!p) throw unsupportedOp(s, op, `input ${k} (tensor ${t}) is not computed from the model input (a constant where an activation is expected)`);
  return p;
}

function constant(s: ConversionState, op: TfliteOperator, k: number, what: string): { t: TfliteTensor; values: Float32Array } {
  const i = op.inputs[k];
  if (i === undefined || i < 0) throw unsupportedOp(s, op, `has no ${what}`);
  const t = tensor(s, s.dequantizedConstants.get(i) ?? i);
  if (!t.data) throw unsupportedOp(s, op, `its ${what} (tensor ${i}) is computed at run time; only constant ${what}s are supported`);
  if (t.sparse) throw unsupportedOp(s, op, `its ${what} (tensor ${i}) is sparse; sparse tensors are not supported`);
  return { t, values: constantValues(s.file, t) };
}

function optionalBias(s: ConversionState, op: TfliteOperator, units: number): Float32Array {
  const i = op.inputs[2];
  if (i === undefined || i < 0) return new Float32Array(units);
  const { values } = constant(s, op, 2, 'bias');
  if (values.length !== units) throw unsupportedOp(s, op, `bias has ${values.length} values for ${units} output channels`);
  return values;
}

function emit(s: ConversionState, op: TfliteOperator, name: string, graphOp: GraphOp, inputs: readonly string[], shape: readonly number[]): void {
  s.nodes.push({ name, op: graphOp, inputs });
  const out = op.outputs[0];
  if (out === undefined || out < 0) throw unsupportedOp(s, op, 'has no output');
  s.produced.set(out, { node: name, shape });
}

/** Records a layer whose int8 weights meet a float input: TFLite runs it with its hybrid kernel. */
function recordHybrid(s: ConversionState, op: TfliteOperator, node: string, outAxis: number, asymmetric: (perChannel: boolean) => boolean): void {
  const inputType = tensor(s, op.inputs[0]!).type;
  const weights = tensor(s, op.inputs[1]!); // as the operator reads it (a DEQUANTIZE in front makes it float)
  const q = weights.quantization;
  if (inputType !== 'FLOAT32' || (weights.type !== 'INT8' && weights.type !== 'UINT8') || !q) return;
  if (q.scale.length > 1 && q.quantizedDimension !== outAxis) {
    throw unsupportedOp(s, op, `weights are quantized per channel along dimension ${q.quantizedDimension}, not the output channels (${outAxis})`);
  }
  s.hybrid.push({
    node,
    weightIndex: s.weightNodes,
    op: op.op,
    weightBits: 8,
    weightScale: [...q.scale],
    weightZeroPoint: q.scale.map((_, c) => (q.zeroPoint.length === 0 ? 0 : (q.zeroPoint[c] ?? q.zeroPoint[0]!))),
    inputQuantization: asymmetric(q.scale.length > 1) ? 'asymmetric' : 'symmetric',
    inputBits: 8,
  });
}

/** The int8 grid of a quantized activation tensor. */
export function int8Grid(s: ConversionState, op: TfliteOperator, t: TfliteTensor): TensorGrid {
  const q = t.quantization;
  if (t.type !== 'INT8' || !q || q.scale.length !== 1) throw unsupportedOp(s, op, `tensor ${t.index} ('${t.name}') is ${t.type}; integer activations must be INT8, quantized per tensor`);
  return { bits: 8, scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0 };
}

/** Records a layer whose input is int8 (full-integer): its weight scales and output grid. */
function recordInteger(s: ConversionState, op: TfliteOperator, node: string, outAxis: number): void {
  if (tensor(s, op.inputs[0]!).type === 'FLOAT32') return;
  const w = tensor(s, op.inputs[1]!);
  const q = w.quantization;
  if (w.type !== 'INT8' || !q) throw unsupportedOp(s, op, `integer inputs need INT8 weights, these are ${w.type}`);
  if (q.zeroPoint.some((z) => z !== 0)) throw unsupportedOp(s, op, 'int8 weights with a nonzero zero point are not supported (TFLite writes symmetric weights)');
  if (q.scale.length > 1 && q.quantizedDimension !== outAxis) throw unsupportedOp(s, op, `weights are quantized per channel along dimension ${q.quantizedDimension}, not the output channels (${outAxis})`);
  s.integer.push({ node, weightIndex: s.weightNodes, op: op.op, weightBits: 8, weightScale: [...q.scale], output: int8Grid(s, op, tensor(s, op.outputs[0]!)) });
}

function fullyConnected(s: ConversionState, op: TfliteOperator): void {
  if (op.options.weightsFormat !== 0) throw unsupportedOp(s, op, 'shuffled weights are not supported');
  let x = input(s, op, 0);
  const { t: w, values } = constant(s, op, 1, 'weights');
  if (w.shape.length !== 2) throw unsupportedOp(s, op, `weights have shape [${w.shape.join(',')}], expected [out, in]`);
  const [units, inSize] = w.shape as [number, number];
  if (x.shape.length === 3) {
    const name = nodeName(op, '_flatten');
    s.nodes.push({ name, op: { kind: 'flatten', order: 'hwc' }, inputs: [x.node] });
    x = { node: name, shape: [elementCount(x.shape)] };
  }
  if (elementCount(x.shape) !== inSize) throw unsupportedOp(s, op, `input of ${elementCount(x.shape)} values does not fit weights [${units},${inSize}]`);
  const kernel = new Float32Array(inSize * units);
  for (let o = 0; o < units; o++) for (let i = 0; i < inSize; i++) kernel[i * units + o] = values[o * inSize + i]!;
  const name = nodeName(op);
  const activation = fusedActivation(s, op, op.options.fusedActivation);
  recordHybrid(s, op, name, 0, () => op.options.asymmetricQuantizeInputs);
  recordInteger(s, op, name, 0);
  emit(s, op, name, { kind: 'dense', kernel, kernelShape: [inSize, units], bias: optionalBias(s, op, units), activation }, [x.node], [units]);
  s.weightNodes++;
}

function outSize(inSize: number, k: number, stride: number, dilation: number, padding: 'SAME' | 'VALID'): number {
  const eff = (k - 1) * dilation + 1;
  return padding === 'SAME' ? Math.ceil(inSize / stride) : Math.floor((inSize - eff) / stride) + 1;
}

function featureMap(s: ConversionState, op: TfliteOperator): Produced & { shape: readonly [number, number, number] } {
  const x = input(s, op, 0);
  if (x.shape.length !== 3) throw unsupportedOp(s, op, `input has per-example shape [${x.shape.join(',')}], expected [H, W, C]`);
  return x as Produced & { shape: readonly [number, number, number] };
}

function conv2d(s: ConversionState, op: TfliteOperator, depthwise: boolean): void {
  const x = featureMap(s, op);
  const [h, wIn, c] = x.shape;
  const { t: w, values } = constant(s, op, 1, 'weights');
  if (w.shape.length !== 4) throw unsupportedOp(s, op, `weights have shape [${w.shape.join(',')}], expected rank 4`);
  const o = op.options;
  let kernel: Float32Array;
  let kernelShape: [number, number, number, number];
  if (depthwise) {
    const [one, kh, kw, cm] = w.shape as [number, number, number, number];
    if (one !== 1 || cm % c !== 0) throw unsupportedOp(s, op, `weights [${w.shape.join(',')}] do not fit ${c} input channels`);
    kernel = values; // [1, kh, kw, C·m] is already [kh, kw, 1, C·m] in memory
    kernelShape = [kh, kw, 1, cm];
  } else {
    const [co, kh, kw, ci] = w.shape as [number, number, number, number];
    if (ci !== c) throw unsupportedOp(s, op, `weights expect ${ci} input channels, the input has ${c}`);
    kernel = new Float32Array(values.length);
    for (let oc = 0; oc < co; oc++) {
      for (let y = 0; y < kh; y++) {
        for (let xx = 0; xx < kw; xx++) {
          for (let ic = 0; ic < ci; ic++) kernel[((y * kw + xx) * ci + ic) * co + oc] = values[((oc * kh + y) * kw + xx) * ci + ic]!;
        }
      }
    }
    kernelShape = [kh, kw, ci, co];
  }
  const [kh, kw, , co] = kernelShape;
  const name = nodeName(op);
  const activation = fusedActivation(s, op, o.fusedActivation);
  // TFLite's hybrid CONV_2D quantizes its inputs asymmetrically with per-channel weights (EvalHybridPerChannel),
  // symmetrically with per-tensor ones (EvalHybrid).
  recordHybrid(s, op, name, depthwise ? 3 : 0, (perChannel) => perChannel);
  recordInteger(s, op, name, depthwise ? 3 : 0);
  const shape = [outSize(h, kh, o.strides[0], o.dilations[0], o.padding), outSize(wIn, kw, o.strides[1], o.dilations[1], o.padding), co];
  const graphOp: GraphOp = {
    kind: 'conv2d', kernel, kernelShape, bias: optionalBias(s, op, co), strides: o.strides, dilations: o.dilations,
    padding: o.padding === 'SAME' ? 'same' : 'valid', groups: depthwise ? c : 1, activation,
  };
  emit(s, op, name, graphOp, [x.node], shape);
  s.weightNodes++;
}

/** Appends a separate activation node after `node` when the activation is not linear; returns the last node. */
function withActivation(s: ConversionState, node: string, a: Activation): string {
  if (a.kind === 'linear') return node;
  const name = `${node}_act`;
  s.nodes.push({ name, op: { kind: 'activation', activation: a }, inputs: [node] });
  return name;
}

function pool(s: ConversionState, op: TfliteOperator, kind: 'maxPool' | 'avgPool'): void {
  const x = featureMap(s, op);
  const o = op.options;
  const name = nodeName(op);
  s.nodes.push({ name, op: { kind, poolSize: o.filter, strides: o.strides, padding: o.padding === 'SAME' ? 'same' : 'valid' }, inputs: [x.node] });
  const last = withActivation(s, name, fusedActivation(s, op, o.fusedActivation));
  const shape = [outSize(x.shape[0], o.filter[0], o.strides[0], 1, o.padding), outSize(x.shape[1], o.filter[1], o.strides[1], 1, o.padding), x.shape[2]];
  s.produced.set(op.outputs[0]!, { node: last, shape });
}

function add(s: ConversionState, op: TfliteOperator): void {
  const ins = op.inputs.map((t) => s.produced.get(t));
  const activation = fusedActivation(s, op, op.options.fusedActivation);
  const name = nodeName(op);
  if (ins[0] && ins[1]) {
    if (elementCount(ins[0].shape) !== elementCount(ins[1].shape)) throw unsupportedOp(s, op, 'broadcasting ADD is not supported');
    s.nodes.push({ name, op: { kind: 'add' }, inputs: [ins[0].node, ins[1].node] });
    s.produced.set(op.outputs[0]!, { node: withActivation(s, name, activation), shape: ins[0].shape });
    return;
  }
  const k = ins[0] ? 1 : 0;
  const x = ins[0] ?? ins[1];
  if (!x) throw unsupportedOp(s, op, 'both inputs are constants');
  const { values } = constant(s, op, k, 'addend');
  const channels = x.shape[x.shape.length - 1]!;
  if (values.length !== channels && values.length !== 1) throw unsupportedOp(s, op, `a constant addend of ${values.length} values does not broadcast over ${channels} channels`);
  const offset = values.length === 1 ? new Float32Array(channels).fill(values[0]!) : values;
  s.nodes.push({ name, op: { kind: 'channelAffine', scale: new Float32Array(channels).fill(1), offset }, inputs: [x.node] });
  s.produced.set(op.outputs[0]!, { node: withActivation(s, name, activation), shape: x.shape });
}

function reshape(s: ConversionState, op: TfliteOperator): void {
  const x = input(s, op, 0);
  const out = tensor(s, op.outputs[0]!);
  const target = out.shape.length > 0 ? out.shape : (op.options.newShape ?? []);
  const perExample = target.slice(1);
  if (target[0] !== 1 && target[0] !== -1) throw unsupportedOp(s, op, `output shape [${target.join(',')}] changes the batch dimension`);
  const same = perExample.length === x.shape.length && perExample.every((d, i) => d === x.shape[i]);
  if (same) {
    s.produced.set(op.outputs[0]!, x);
    return;
  }
  if (perExample.length === 1 && x.shape.length === 3) {
    const name = nodeName(op);
    s.nodes.push({ name, op: { kind: 'flatten', order: 'hwc' }, inputs: [x.node] });
    s.produced.set(op.outputs[0]!, { node: name, shape: [elementCount(x.shape)] });
    return;
  }
  throw unsupportedOp(s, op, `reshaping [${x.shape.join(',')}] to [${perExample.join(',')}] per example is not supported (only flattening)`);
}

function standaloneActivation(s: ConversionState, op: TfliteOperator, a: Activation): void {
  const x = input(s, op, 0);
  const name = nodeName(op);
  emit(s, op, name, { kind: 'activation', activation: a }, [x.node], x.shape);
}

function passThrough(s: ConversionState, op: TfliteOperator): void {
  const t = op.inputs[0]!;
  const x = s.produced.get(t);
  if (x) {
    if (op.op === 'QUANTIZE') {
      if (tensor(s, t).type !== 'FLOAT32') throw unsupportedOp(s, op, 'requantizing between integer tensors is not supported');
      if (s.integerInput) throw unsupportedOp(s, op, 'only one QUANTIZE of float activations (at the input) is supported');
      s.integerInput = int8Grid(s, op, tensor(s, op.outputs[0]!));
    }
    s.produced.set(op.outputs[0]!, x);
    return;
  }
  // DEQUANTIZE of a constant (float16 or int8 weights stored once): the consumer reads the float values.
  if (op.op === 'DEQUANTIZE' && tensor(s, t).data) {
    s.dequantizedConstants.set(op.outputs[0]!, t);
    return;
  }
  throw unsupportedOp(s, op, `input tensor ${t} is not computed from the model input`);
}

function softmax(s: ConversionState, op: TfliteOperator, isLast: boolean): void {
  if (!isLast) throw unsupportedOp(s, op, 'only a final SOFTMAX is supported (it is left out: the graph ends in logits)');
  const x = input(s, op, 0);
  s.softmax = { operator: op.index, beta: op.options.softmaxBeta };
  if (op.options.softmaxBeta !== 1) throw unsupportedOp(s, op, `softmax with beta ${op.options.softmaxBeta} changes the logits' scale; only beta 1 is supported`);
  s.produced.set(op.outputs[0]!, x);
}

/**
 * Converts one operator.
 * @throws QrobustError('unsupported_layer') "<file>: operator <index> (<NAME>): ..." for anything not supported.
 */
export function convertOperator(s: ConversionState, op: TfliteOperator, isLast: boolean): void {
  switch (op.op) {
    case 'FULLY_CONNECTED': return fullyConnected(s, op);
    case 'CONV_2D': return conv2d(s, op, false);
    case 'DEPTHWISE_CONV_2D': return conv2d(s, op, true);
    case 'MAX_POOL_2D': return pool(s, op, 'maxPool');
    case 'AVERAGE_POOL_2D': return pool(s, op, 'avgPool');
    case 'ADD': return add(s, op);
    case 'RESHAPE': return reshape(s, op);
    case 'SOFTMAX': return softmax(s, op, isLast);
    case 'QUANTIZE':
    case 'DEQUANTIZE': return passThrough(s, op);
    case 'RELU': return standaloneActivation(s, op, { kind: 'relu' });
    case 'RELU6': return standaloneActivation(s, op, { kind: 'clip', min: 0, max: 6 });
    case 'RELU_N1_TO_1': return standaloneActivation(s, op, { kind: 'clip', min: -1, max: 1 });
    case 'LOGISTIC': return standaloneActivation(s, op, { kind: 'sigmoid' });
    case 'TANH': return standaloneActivation(s, op, { kind: 'tanh' });
    default: throw unsupportedOp(s, op, 'this operator is not supported by the TFLite importer');
  }
}
