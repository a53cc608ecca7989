/**
 * ONNX → NetworkIR for feed-forward ReLU networks with one input and one output, batch size 1.
 *
 * Every tensor is either a constant (initializers, `Constant` nodes and anything computed only from them, folded
 * by `onnx/constants.ts`) or *the* activation: the single tensor that depends on the input. Each node may read
 * the activation at most once, and only its latest version, so the graph is a chain (no residual branches).
 * On the activation the importer supports
 *
 * - linear ops, folded into affine steps: Gemm (alpha, beta, transA, transB), MatMul (either side constant),
 *   Add, Sub, Mul, Div by constants (broadcast), Conv (2-D, group 1, pads, strides, dilations, auto_pad) as a
 *   CSR matrix, BatchNormalization (inference), Transpose (a permutation);
 * - shape-only ops, which leave the flat C-order vector unchanged: Flatten, Reshape, Squeeze, Unsqueeze,
 *   Identity, Dropout (inference);
 * - Relu and MaxPool (2-D, pads, strides, dilations, ceil_mode, auto_pad).
 *
 * Flat indices follow ONNX's C order (NCHW for images). Any other operator on the activation is a
 * QrobustError('unsupported_layer') naming the node and the operator.
 */
import { readFile, stat } from 'node:fs/promises';
import { QrobustError } from '../core/errors.js';
import { maybeGunzip } from '../data/gzip.js';
import { NodeAttributes } from '../onnx/attributes.js';
import { readOnnxModel } from '../onnx/codec.js';
import {
  axesOf,
  broadcastShape,
  broadcastTo,
  constFromOnnx,
  flattenShape,
  foldConstantNode,
  reshapeShape,
  showShape,
  squeezeShape,
  transposeIndices,
  unsqueezeShape,
  type ConstTensor,
} from '../onnx/constants.js';
import { elementCount, type OnnxModel, type OnnxNode } from '../onnx/model.js';
import { DataType } from '../onnx/schema.js';
import { convMatrix, poolGroups, type WindowGeometry } from './bounds/conv-matrix.js';
import { IrBuilder } from './bounds/ir-builder.js';
import { CsrBuilder, denseMatrix, permutationMatrix } from './bounds/matrix.js';
import type { NetworkIR } from './ir.js';

/** The state of the lowering: constants by name, and the activation's current name and shape. */
interface Lowering {
  readonly source: string;
  readonly consts: Map<string, ConstTensor>;
  /** Shapes of every activation version seen (Shape may read an older one). */
  readonly dynShapes: Map<string, readonly number[]>;
  current: string;
  shape: readonly number[];
  readonly builder: IrBuilder;
  /** Matrix entries the lowered steps hold so far (see MAX_IR_ENTRIES). */
  entries: number;
}

/**
 * Reads an ONNX file (gzipped or not) and lowers it to the IR.
 * @throws QrobustError('io_error') when the file cannot be read, or the errors of `irFromOnnxBytes`.
 */
export async function irFromOnnx(path: string): Promise<NetworkIR> {
  let bytes: Buffer;
  try {
    const size = (await stat(path)).size;
    if (size > MAX_ONNX_BYTES) throw tooLarge(path, `the file has ${size.toLocaleString('en-US')} bytes`, `${MAX_ONNX_BYTES.toLocaleString('en-US')} bytes`);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof QrobustError) throw e;
    throw new QrobustError('io_error', `${path}: cannot read the ONNX file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  const { content } = await maybeGunzip(bytes, path);
  if (content.length > MAX_ONNX_BYTES) throw tooLarge(path, `it holds ${content.length.toLocaleString('en-US')} bytes uncompressed`, `${MAX_ONNX_BYTES.toLocaleString('en-US')} bytes`);
  return irFromOnnxBytes(content, path);
}

/**
 * The largest ONNX file read (its protobuf is decoded in memory, with every tensor copied to float64), and the
 * most matrix entries (weights of dense and convolution matrices, window indices) the lowered network may hold:
 * 2^25 entries take about 400 MB as CSR. Bigger networks are refused before anything is allocated, with the
 * size named, instead of running the process out of heap. mnistfc 256x6 needs 0.53 million entries.
 */
export const MAX_ONNX_BYTES = 256 * 2 ** 20;
export const MAX_IR_ENTRIES = 2 ** 25;

function tooLarge(source: string, what: string, limit: string): QrobustError {
  return new QrobustError('unsupported_layer', `${source}: the network is too large to verify: ${what} (the limit is ${limit})`);
}

/**
 * Lowers an ONNX model (file bytes) to the IR.
 * @throws QrobustError('invalid_argument') for a file that is not a usable ONNX model, and
 *   QrobustError('unsupported_layer') naming the node and operator for anything outside the supported subset.
 */
export function irFromOnnxBytes(bytes: Uint8Array, source: string): NetworkIR {
  return irFromOnnxModel(readOnnxModel(bytes, source), source);
}

/** Lowers a decoded ONNX model to the IR (see the module comment). */
export function irFromOnnxModel(model: OnnxModel, source: string): NetworkIR {
  const g = model.graph;
  const consts = new Map<string, ConstTensor>(g.initializers.map((t) => [t.name, constFromOnnx(t)]));
  const inputs = g.inputs.filter((v) => !consts.has(v.name));
  if (inputs.length !== 1) throw new QrobustError('unsupported_layer', `${source}: the graph has ${inputs.length} inputs besides its initializers; exactly one is supported`);
  const input = inputs[0]!;
  if (input.elemType !== DataType.FLOAT && input.elemType !== DataType.DOUBLE) {
    throw new QrobustError('unsupported_layer', `${source}: input '${input.name}' has element type ${input.elemType}; float or double is supported`);
  }
  if (!input.shape || input.shape.length === 0) throw new QrobustError('unsupported_layer', `${source}: input '${input.name}' has no declared shape`);
  const shape = input.shape.map((d, i) => {
    if (typeof d === 'number' && d > 0) return d;
    if (i === 0) return 1; // a symbolic batch dimension
    throw new QrobustError('unsupported_layer', `${source}: input '${input.name}' has a symbolic or unknown dimension ${i} (${String(d)})`);
  });
  if (g.outputs.length !== 1) throw new QrobustError('unsupported_layer', `${source}: the graph has ${g.outputs.length} outputs; exactly one is supported`);

  const inputSize = elementCount(shape);
  if (inputSize > MAX_IR_ENTRIES) throw tooLarge(source, `input '${input.name}' ${showShape(shape)} has ${inputSize.toLocaleString('en-US')} values`, `${MAX_IR_ENTRIES.toLocaleString('en-US')}`);
  const state: Lowering = {
    source,
    consts,
    dynShapes: new Map([[input.name, shape]]),
    current: input.name,
    shape,
    builder: new IrBuilder(inputSize, source),
    entries: 0,
  };
  const consumed = new Set(g.nodes.flatMap((n) => n.inputs));
  g.outputs.forEach((o) => consumed.add(o.name));
  for (const node of g.nodes) lowerNode(state, node, consumed);

  const out = g.outputs[0]!.name;
  if (out !== state.current) {
    const why = consts.has(out) ? 'is a constant' : state.dynShapes.has(out) ? 'is not the last activation' : 'is never computed';
    throw new QrobustError('unsupported_layer', `${source}: the graph output '${out}' ${why}`);
  }
  // Report the input shape without its batch axis when it has one (e.g. [1, 784, 1] → [784, 1]).
  const reported = shape.length > 1 && shape[0] === 1 ? shape.slice(1) : shape;
  const ir = state.builder.finish(reported);
  checkFinite(ir, source);
  return ir;
}

/** Every weight, bias, scale and zero point must be finite: bounds would silently skip a NaN. */
function checkFinite(ir: NetworkIR, source: string): void {
  const bad = (a: Float64Array): number => a.findIndex((v) => !Number.isFinite(v));
  for (const step of ir.steps) {
    const arrays: [string, Float64Array][] =
      step.kind === 'affine'
        ? [['weight', step.weights.format === 'dense' ? step.weights.data : step.weights.values], ['bias', step.bias]]
        : step.kind === 'quantize'
          ? [['scale', step.scale], ['zero point', step.zeroPoint]]
          : [];
    for (const [what, a] of arrays) {
      const k = bad(a);
      if (k >= 0) throw new QrobustError('invalid_model', `${source}: node '${step.name}' has a ${what} of ${a[k]} (entry ${k}); a network's parameters must be finite`);
    }
  }
}

/** Counts `n` more matrix entries for `node`, refusing the network before they are allocated. */
function reserve(st: Lowering, _attrs: NodeAttributes, node: string, n: number): void {
  st.entries += n;
  if (st.entries > MAX_IR_ENTRIES) {
    throw tooLarge(st.source, `node '${node}' needs ${n.toLocaleString('en-US')} matrix entries in the verifier's form, ${st.entries.toLocaleString('en-US')} with the nodes before it`, `${MAX_IR_ENTRIES.toLocaleString('en-US')} entries`);
  }
}

function lowerNode(st: Lowering, node: OnnxNode, consumed: Set<string>): void {
  const attrs = new NodeAttributes(node, st.source);
  const ins = node.inputs.map((n) => (n === '' ? undefined : st.consts.get(n)));
  const dynamic = node.inputs.map((n) => n !== '' && !st.consts.has(n));
  for (let i = 0; i < node.inputs.length; i++) {
    if (dynamic[i] && !st.dynShapes.has(node.inputs[i]!)) attrs.fail(`input '${node.inputs[i]}' is not produced by any earlier node, initializer or graph input`);
  }
  if (!dynamic.some(Boolean) || node.opType === 'Shape') {
    const folded = foldConstantNode(node, ins, attrs, (name) => st.dynShapes.get(name) ?? null) ?? attrs.fail(`operator ${node.opType} is not supported`);
    folded.forEach((t, i) => {
      if (node.outputs[i]) st.consts.set(node.outputs[i]!, t);
    });
    return;
  }
  const dynIndex = dynamic.indexOf(true);
  if (dynamic.lastIndexOf(true) !== dynIndex) attrs.fail(`operator ${node.opType} on two inputs that depend on the network input is not supported`);
  if (node.inputs[dynIndex] !== st.current) attrs.fail(`reads '${node.inputs[dynIndex]}', an earlier activation than the current one (branching graphs are not supported)`);
  for (const extra of node.outputs.slice(1)) {
    if (extra && consumed.has(extra)) attrs.fail(`output '${extra}' is used, but only the first output of ${node.opType} is supported`);
  }
  const name = node.name || `${node.opType}(${node.outputs[0] ?? ''})`;
  const b = st.builder;
  const c = (i: number, what: string): ConstTensor => ins[i] ?? attrs.fail(`${what} (input ${i}) must be a constant`);
  let shape: readonly number[] = st.shape;

  switch (node.opType) {
    case 'Identity':
    case 'Dropout':
      break;
    case 'Flatten':
      shape = flattenShape(shape, attrs.int('axis', 1));
      break;
    case 'Reshape':
      shape = reshapeShape(shape, [...c(1, 'the target shape').data], attrs.int('allowzero', 0) === 1, attrs);
      break;
    case 'Squeeze':
      shape = squeezeShape(shape, axesOf(attrs, ins), attrs);
      break;
    case 'Unsqueeze':
      shape = unsqueezeShape(shape, axesOf(attrs, ins) ?? attrs.fail('no axes given'), attrs);
      break;
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const k = c(1 - dynIndex, 'the other operand');
      const full = broadcastShape(shape, k.shape);
      if (!full || full.length !== shape.length || full.some((d, i) => d !== shape[i])) {
        attrs.fail(`broadcasting the constant ${showShape(k.shape)} would change the activation's shape ${showShape(shape)}`);
      }
      reserve(st, attrs, name, elementCount(shape));
      const v = broadcastTo(k, shape);
      if (node.opType === 'Add') b.add(v, name);
      else if (node.opType === 'Sub') {
        if (dynIndex === 0) b.add(v.map((x) => -x), name);
        else {
          b.scale(new Float64Array(v.length).fill(-1), name);
          b.add(v, name);
        }
      } else if (node.opType === 'Mul') b.scale(v, name);
      else {
        if (dynIndex === 1) attrs.fail('division by a tensor that depends on the network input is not linear');
        if (v.some((x) => x === 0)) attrs.fail('division by zero');
        b.scale(v.map((x) => 1 / x), name);
      }
      break;
    }
    case 'Gemm':
      shape = lowerGemm(st, node, attrs, dynIndex, ins, name);
      break;
    case 'MatMul':
      shape = lowerMatMul(st, attrs, dynIndex, c(1 - dynIndex, 'the weight matrix'), name);
      break;
    case 'Conv':
      shape = lowerConv(st, attrs, c(1, 'the kernel'), ins[2], name);
      break;
    case 'BatchNormalization': {
      if (shape.length < 2) attrs.fail(`needs a channel axis, the activation is ${showShape(shape)}`);
      const [scale, bias, mean, variance] = [c(1, 'scale'), c(2, 'B'), c(3, 'mean'), c(4, 'var')];
      reserve(st, attrs, name, 2 * elementCount(shape));
      const eps = attrs.float('epsilon', 1e-5);
      const channels = shape[1]!;
      const perChannel = (t: ConstTensor, what: string): ConstTensor => {
        if (t.data.length !== channels) attrs.fail(`${what} has ${t.data.length} values for ${channels} channels`);
        return { shape: [channels, ...shape.slice(2).map(() => 1)], data: t.data };
      };
      const factor = perChannel({ shape: scale.shape, data: scale.data.map((s, i) => s / Math.sqrt(variance.data[i]! + eps)) }, 'scale');
      const shift = perChannel({ shape: bias.shape, data: bias.data.map((v, i) => v - factor.data[i]! * mean.data[i]!) }, 'B');
      b.scale(broadcastTo(factor, shape), name);
      b.add(broadcastTo(shift, shape), name);
      break;
    }
    case 'Transpose': {
      const perm = attrs.ints('perm', null) ?? shape.map((_, i) => shape.length - 1 - i);
      reserve(st, attrs, name, elementCount(shape));
      b.linear(permutationMatrix(transposeIndices(shape, perm)), null, name);
      shape = perm.map((p) => shape[p]!);
      break;
    }
    case 'Relu':
      b.relu(name);
      break;
    case 'MaxPool':
      shape = lowerMaxPool(st, attrs, name);
      break;
    default:
      attrs.fail(`operator ${node.opType} is not supported on the network's activations`);
  }
  st.current = node.outputs[0]!;
  st.shape = shape;
  st.dynShapes.set(st.current, shape);
}

function lowerGemm(st: Lowering, node: OnnxNode, attrs: NodeAttributes, dynIndex: number, ins: readonly (ConstTensor | undefined)[], name: string): number[] {
  if (dynIndex !== 0) attrs.fail('only the first operand (A) may depend on the network input');
  const alpha = attrs.float('alpha', 1);
  const beta = attrs.float('beta', 1);
  const transA = attrs.int('transA', 0) === 1;
  const transB = attrs.int('transB', 0) === 1;
  const a = st.shape;
  if (a.length !== 2) attrs.fail(`A must be 2-D, it is ${showShape(a)}`);
  const [rows, k] = transA ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  if (rows !== 1) attrs.fail(`A has ${rows} rows; batch size 1 is supported`);
  const bT = ins[1] ?? attrs.fail('B (input 1) must be a constant');
  if (bT.shape.length !== 2) attrs.fail(`B must be 2-D, it is ${showShape(bT.shape)}`);
  const [bk, n] = transB ? [bT.shape[1]!, bT.shape[0]!] : [bT.shape[0]!, bT.shape[1]!];
  if (bk !== k) attrs.fail(`A ${showShape(a)} and B ${showShape(bT.shape)} do not match (transA=${+transA}, transB=${+transB})`);
  reserve(st, attrs, name, n * k);
  const data = new Float64Array(n * k);
  for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) data[j * k + t] = alpha * (transB ? bT.data[j * k + t]! : bT.data[t * n + j]!);
  let bias: Float64Array | null = null;
  const cT = node.inputs[2] ? ins[2] ?? attrs.fail('C (input 2) must be a constant') : undefined;
  if (cT) {
    const full = broadcastShape([1, n], cT.shape);
    if (!full || full[0] !== 1 || full[1] !== n) attrs.fail(`C ${showShape(cT.shape)} does not broadcast to [1,${n}]`);
    bias = broadcastTo(cT, [1, n]).map((v) => beta * v);
  }
  st.builder.linear(denseMatrix(n, k, data), bias, name);
  return [1, n];
}

function lowerMatMul(st: Lowering, attrs: NodeAttributes, dynIndex: number, w: ConstTensor, name: string): number[] {
  const s = st.shape;
  if (w.shape.length !== 2) attrs.fail(`the constant operand must be 2-D, it is ${showShape(w.shape)}`);
  if (s.length < 2) attrs.fail(`the activation must have rank 2 or more, it is ${showShape(s)}`);
  const lead = s.slice(0, -2);
  if (elementCount(lead) !== 1) attrs.fail(`leading dimensions ${showShape(lead)} are not supported (batch size 1)`);
  const [m, k] = [s[s.length - 2]!, s[s.length - 1]!];
  if (dynIndex === 0) {
    // X [m, k] · W [k, n]: output (i, j) reads row i of X.
    if (w.shape[0] !== k) attrs.fail(`${showShape(s)} · ${showShape(w.shape)} do not match`);
    const n = w.shape[1]!;
    reserve(st, attrs, name, m * n * k);
    if (m === 1) {
      const data = new Float64Array(n * k);
      for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) data[j * k + t] = w.data[t * n + j]!;
      st.builder.linear(denseMatrix(n, k, data), null, name);
    } else {
      const csr = new CsrBuilder(m * k);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        for (let t = 0; t < k; t++) csr.add(i * k + t, w.data[t * n + j]!);
        csr.endRow();
      }
      st.builder.linear(csr.finish(), null, name);
    }
    return [...lead, m, n];
  }
  // W [p, m] · X [m, k]: output (i, j) reads column j of X.
  if (w.shape[1] !== m) attrs.fail(`${showShape(w.shape)} · ${showShape(s)} do not match`);
  const p = w.shape[0]!;
  reserve(st, attrs, name, p * k * m);
  const csr = new CsrBuilder(m * k);
  for (let i = 0; i < p; i++) for (let j = 0; j < k; j++) {
    for (let t = 0; t < m; t++) csr.add(t * k + j, w.data[i * m + t]!);
    csr.endRow();
  }
  st.builder.linear(csr.finish(), null, name);
  return [...lead, p, k];
}

/** Pads (top, left, bottom, right) and output size of a 2-D window op from its attributes. */
function windowGeometry(attrs: NodeAttributes, shape: readonly number[], kernel: readonly number[], channels: number): WindowGeometry {
  if (shape.length !== 4 || shape[0] !== 1) attrs.fail(`the activation must be [1, C, H, W], it is ${showShape(shape)}`);
  const [, , inH, inW] = shape as [number, number, number, number];
  const [kH, kW] = kernel as [number, number];
  const strides = attrs.ints('strides', [1, 1])!;
  const dil = attrs.ints('dilations', [1, 1])!;
  if (strides.length !== 2 || dil.length !== 2) attrs.fail('only 2-D windows are supported');
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  const ceil = attrs.int('ceil_mode', 0) === 1;
  const extent = [(kH - 1) * dil[0]! + 1, (kW - 1) * dil[1]! + 1];
  const ins = [inH, inW];
  let pads: number[];
  if (autoPad === 'NOTSET') pads = [...(attrs.ints('pads', [0, 0, 0, 0]) ?? [0, 0, 0, 0])];
  else if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = [0, 1].map((a) => Math.max(0, (Math.ceil(ins[a]! / strides[a]!) - 1) * strides[a]! + extent[a]! - ins[a]!));
    const before = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
    pads = [before[0]!, before[1]!, total[0]! - before[0]!, total[1]! - before[1]!];
  } else attrs.fail(`auto_pad '${autoPad}' is not supported`);
  if (pads.length !== 4) attrs.fail(`pads must have 4 values for a 2-D window, got ${pads.length}`);
  const out = [0, 1].map((a) => {
    const span = ins[a]! + pads[a]! + pads[a + 2]! - extent[a]!;
    if (span < 0) attrs.fail(`the window ${showShape(kernel)} is larger than the padded input ${showShape(shape)}`);
    let o = (ceil ? Math.ceil(span / strides[a]!) : Math.floor(span / strides[a]!)) + 1;
    // With ceil_mode the last window must start inside the input or its leading padding.
    if (ceil && (o - 1) * strides[a]! >= ins[a]! + pads[a]!) o--;
    return o;
  });
  return {
    channels,
    inH,
    inW,
    outH: out[0]!,
    outW: out[1]!,
    kernelH: kH,
    kernelW: kW,
    strideH: strides[0]!,
    strideW: strides[1]!,
    padTop: pads[0]!,
    padLeft: pads[1]!,
    dilationH: dil[0]!,
    dilationW: dil[1]!,
  };
}

function lowerConv(st: Lowering, attrs: NodeAttributes, w: ConstTensor, bias: ConstTensor | undefined, name: string): number[] {
  if (attrs.int('group', 1) !== 1) attrs.fail(`group ${attrs.int('group', 1)} is not supported (group 1 only)`);
  if (w.shape.length !== 4) attrs.fail(`only 2-D convolutions are supported, the kernel is ${showShape(w.shape)}`);
  const [oc, ic, kH, kW] = w.shape as [number, number, number, number];
  const declared = attrs.ints('kernel_shape', null);
  if (declared && (declared[0] !== kH || declared[1] !== kW)) attrs.fail(`kernel_shape ${showShape(declared)} differs from the kernel ${showShape(w.shape)}`);
  if (st.shape[1] !== ic) attrs.fail(`the kernel expects ${ic} input channels, the activation ${showShape(st.shape)} has ${st.shape[1]}`);
  const g = windowGeometry(attrs, st.shape, [kH, kW], ic);
  reserve(st, attrs, name, oc * g.outH * g.outW * ic * kH * kW);
  const m = convMatrix(g, oc, 'NCHW', (o, i, h, x) => w.data[((o * ic + i) * kH + h) * kW + x]!);
  let b: Float64Array | null = null;
  if (bias) {
    if (bias.data.length !== oc) attrs.fail(`the bias has ${bias.data.length} values for ${oc} output channels`);
    b = new Float64Array(oc * g.outH * g.outW);
    for (let o = 0; o < oc; o++) b.fill(bias.data[o]!, o * g.outH * g.outW, (o + 1) * g.outH * g.outW);
  }
  st.builder.linear(m, b, name);
  return [1, oc, g.outH, g.outW];
}

function lowerMaxPool(st: Lowering, attrs: NodeAttributes, name: string): number[] {
  const kernel = attrs.ints('kernel_shape', null) ?? attrs.fail('kernel_shape is required');
  if (kernel.length !== 2) attrs.fail(`only 2-D max-pooling is supported, kernel_shape is ${showShape(kernel)}`);
  if (attrs.int('storage_order', 0) !== 0) attrs.fail('storage_order 1 is not supported');
  const channels = st.shape[1]!;
  const g = windowGeometry(attrs, st.shape, kernel, channels);
  reserve(st, attrs, name, channels * g.outH * g.outW * kernel[0]! * kernel[1]!);
  const { offsets, indices } = poolGroups(g, 'NCHW');
  st.builder.maxpool(offsets, indices, name);
  return [1, channels, g.outH, g.outW];
}
