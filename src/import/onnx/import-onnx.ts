/**
 * ONNX (float, opset 9–21, PyTorch and Keras exports) → `ModelGraph`. Every tensor is a constant (initializers,
 * `Constant` nodes and whatever is computed only from them, folded by `onnx/constants.ts`, so PyTorch's
 * `Shape → Gather → Concat → Reshape` chains become plain shapes) or an activation, which lives on a graph node
 * (see `activations.ts`). The NCHW source becomes the graph's NHWC: kernels are transposed, axes remapped, and
 * a flatten of a feature map keeps ONNX's `chw` order. A final Softmax or LogSoftmax is left out (attacks read
 * logits) and recorded in the details. The verifier reads the same graphs as declared (`OnnxReading`), keeping
 * every operator: its properties speak of the file's own outputs.
 */
import { QrobustError, isQrobustError } from '../../core/errors.js';
import { MODEL_INPUT, type ModelGraph } from '../../graph/model-graph.js';
import { NodeAttributes, describeNode } from '../../onnx/attributes.js';
import { readOnnxModel } from '../../onnx/codec.js';
import { constFromOnnx, foldConstantNode, showShape, type ConstTensor } from '../../onnx/constants.js';
import { defaultOpset, elementCount, type OnnxModel, type OnnxNode } from '../../onnx/model.js';
import { DataType } from '../../onnx/schema.js';
import type { ImportRequest, ImportedNetwork, InputLayout } from '../types.js';
import { flattenOrderOf, type Activation } from './activations.js';
import { foldSlice } from './fold-slice.js';
import { GraphWriter } from './graph-writer.js';
import { concreteInputShape, inputActivation, resolveLayout } from './input-layout.js';
import { lowerActivation } from './lower-activation.js';
import { lowerArithmetic, lowerBatchNorm } from './lower-affine.js';
import { lowerGemm, lowerMatMul } from './lower-linear.js';
import { lowerConcat, lowerFlatten, lowerPad, lowerReshape, lowerSqueeze, lowerTranspose, lowerUnsqueeze } from './lower-shape.js';
import { lowerConv, lowerGlobalPool, lowerPool } from './lower-window.js';
import { defineAlias, onlyActivation, type Lowering, type NodeView, type OnnxReading } from './lowering.js';

/** The opsets whose semantics the lowerings follow. */
export const ONNX_OPSETS = { min: 9, max: 21 } as const;

type Lower = (st: Lowering, v: NodeView) => void;

function passThrough(st: Lowering, v: NodeView): void {
  for (const extra of v.node.outputs.slice(1)) if (extra && (st.readers.get(extra) ?? 0) > 0) v.attrs.fail(`output '${extra}' is used; only the first output is supported`);
  defineAlias(st, v.node.outputs[0]!, onlyActivation(v), 1);
}

const LOWERINGS: Readonly<Record<string, Lower>> = {
  Conv: lowerConv,
  Gemm: lowerGemm,
  MatMul: lowerMatMul,
  Add: lowerArithmetic,
  Sub: lowerArithmetic,
  Mul: lowerArithmetic,
  Div: lowerArithmetic,
  BatchNormalization: lowerBatchNorm,
  Relu: lowerActivation,
  LeakyRelu: lowerActivation,
  Clip: lowerActivation,
  Sigmoid: lowerActivation,
  Tanh: lowerActivation,
  MaxPool: lowerPool,
  AveragePool: lowerPool,
  GlobalAveragePool: lowerGlobalPool,
  GlobalMaxPool: lowerGlobalPool,
  Flatten: lowerFlatten,
  Reshape: lowerReshape,
  Transpose: lowerTranspose,
  Squeeze: lowerSqueeze,
  Unsqueeze: lowerUnsqueeze,
  Concat: lowerConcat,
  Pad: lowerPad,
  Identity: passThrough,
  Dropout: passThrough,
};

/** Output operators that only rescale logits monotonically; left out of the graph. */
const STRIPPED_OUTPUTS = new Set(['Softmax', 'LogSoftmax']);

/**
 * Decodes the bytes of an ONNX file.
 * @throws QrobustError('invalid_model') naming the file when they are not an ONNX model.
 */
export function decodeOnnxFile(bytes: Uint8Array, file: string): OnnxModel {
  try {
    return readOnnxModel(bytes, file);
  } catch (e) {
    if (isQrobustError(e)) throw new QrobustError('invalid_model', e.message, { cause: e });
    throw e;
  }
}

/** Every node input must be produced before it is read; a dangling name means a damaged file. */
function checkReferences(model: OnnxModel, source: string): void {
  const known = new Set<string>([...model.graph.initializers.map((t) => t.name), ...model.graph.inputs.map((i) => i.name)]);
  for (const node of model.graph.nodes) {
    for (const name of node.inputs) {
      if (name !== '' && !known.has(name)) {
        throw new QrobustError('invalid_model', `${source}: ${describeNode(node)} reads '${name}', which no earlier node, initializer or input produces (a truncated or corrupt file?)`);
      }
    }
    node.outputs.forEach((o) => known.add(o));
  }
  for (const out of model.graph.outputs) {
    if (!known.has(out.name)) throw new QrobustError('invalid_model', `${source}: the graph output '${out.name}' is never computed (a truncated or corrupt file?)`);
  }
}

function readerCounts(model: OnnxModel): Map<string, number> {
  const readers = new Map<string, number>();
  const read = (name: string): void => {
    if (name !== '') readers.set(name, (readers.get(name) ?? 0) + 1);
  };
  model.graph.nodes.forEach((n) => n.inputs.forEach(read));
  model.graph.outputs.forEach((o) => read(o.name));
  return readers;
}

/** Lowers one node; `stripped` collects the output operators left out (null: none is). */
function lowerNode(st: Lowering, node: OnnxNode, output: string, stripped: string[] | null): void {
  const attrs = new NodeAttributes(node, st.source);
  if (node.domain !== '' && node.domain !== 'ai.onnx') attrs.fail(`operators of domain '${node.domain}' are not supported`);
  const consts = node.inputs.map((n) => (n === '' ? undefined : st.consts.get(n)));
  const acts = node.inputs.map((n) => (n === '' ? undefined : st.acts.get(n)));
  if (!acts.some((a) => a !== undefined) || node.opType === 'Shape') {
    const folded =
      foldConstantNode(node, consts, attrs, (name) => st.acts.get(name)?.shape ?? null) ??
      (node.opType === 'Slice' ? [foldSlice(consts, attrs, st.opset)] : attrs.fail('not supported on constants by the ONNX importer'));
    folded.forEach((t, i) => {
      if (node.outputs[i]) st.consts.set(node.outputs[i]!, t);
    });
    return;
  }
  const v: NodeView = { node, attrs, consts, acts, name: node.name || `${node.opType}_${node.outputs[0] ?? ''}` };
  if (stripped && STRIPPED_OUTPUTS.has(node.opType) && node.outputs[0] === output) {
    stripped.push(node.opType);
    return defineAlias(st, output, onlyActivation(v), 1);
  }
  const lower = LOWERINGS[node.opType] ?? attrs.fail('not supported by the ONNX importer');
  lower(st, v);
}

function opCounts(model: OnnxModel): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of model.graph.nodes) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
  return counts;
}

/**
 * What `readOnnxGraph` reads: the file (its bytes, or the model decoded from them when the caller has it), and
 * the image the graph's input is, with the layout in which the file's input sits on it.
 */
export type OnnxGraphRequest = Pick<ImportRequest, 'file' | 'bytes' | 'imageShape' | 'layout'> & { readonly model?: OnnxModel };

/** A graph read from an ONNX file, and the facts about the file that the import records. */
export interface OnnxGraph {
  readonly graph: ModelGraph;
  readonly layout: InputLayout;
  /** The output's ONNX shape, whose C-order elements the graph's output holds. */
  readonly outputShape: readonly number[];
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Reads a float ONNX network as a `ModelGraph` on the NHWC image `req.imageShape`, `per-example` (a model to
 * import; a final Softmax or LogSoftmax is left out) or `as-declared` (see `OnnxReading`; every operator is kept).
 * @throws QrobustError('invalid_model') for a file that is not a complete ONNX model, QrobustError('shape_mismatch')
 *   when the input does not fit the image or the declared layout, and QrobustError('unsupported_layer') naming the
 *   node and operator for anything outside the supported subset.
 */
export function readOnnxGraph(req: OnnxGraphRequest, reading: OnnxReading): OnnxGraph {
  const source = req.file;
  const model = req.model ?? decodeOnnxFile(req.bytes, req.file);
  const g = model.graph;
  const opset = defaultOpset(model);
  if (opset === null) throw new QrobustError('invalid_model', `${source}: the model imports no default-domain opset`);
  if (opset < ONNX_OPSETS.min || opset > ONNX_OPSETS.max) {
    throw new QrobustError('unsupported_layer', `${source}: opset ${opset} is not supported (${ONNX_OPSETS.min}-${ONNX_OPSETS.max})`);
  }
  checkReferences(model, source);
  const consts = new Map<string, ConstTensor>(g.initializers.map((t) => [t.name, constFromOnnx(t)]));
  const inputs = g.inputs.filter((i) => !consts.has(i.name));
  if (inputs.length !== 1) throw new QrobustError('unsupported_layer', `${source}: the graph has ${inputs.length} inputs besides its initializers; exactly one is supported`);
  if (g.outputs.length !== 1) throw new QrobustError('unsupported_layer', `${source}: the graph has ${g.outputs.length} outputs; exactly one is supported`);
  const input = inputs[0]!;
  if (input.elemType !== DataType.FLOAT && input.elemType !== DataType.DOUBLE) {
    throw new QrobustError('unsupported_layer', `${source}: input '${input.name}' has element type ${input.elemType}; float is supported`);
  }
  if (!input.shape || input.shape.length === 0) throw new QrobustError('unsupported_layer', `${source}: input '${input.name}' has no declared shape`);
  const shape = concreteInputShape(source, input.name, input.shape, reading);
  const layout = resolveLayout(source, shape, req.imageShape, req.layout, reading);

  const writer = new GraphWriter();
  const st: Lowering = { source, opset, reading, consts, acts: new Map(), writer, readers: readerCounts(model), uses: new Map(), folded: new Map() };
  st.acts.set(input.name, inputActivation(layout, shape, req.imageShape, writer));
  const output = g.outputs[0]!.name;
  const stripped: string[] = [];
  for (const node of g.nodes) lowerNode(st, node, output, reading === 'per-example' ? stripped : null);

  const last = st.acts.get(output) ?? (() => {
    throw new QrobustError('unsupported_layer', `${source}: the graph output '${output}' is a constant, not computed from the input`);
  })();
  const graph = writer.finish(req.imageShape, logitsOf(st, last, output));
  if (graph.output === MODEL_INPUT) throw new QrobustError('unsupported_layer', `${source}: the network is the identity`);
  return {
    graph,
    layout,
    outputShape: [...last.shape],
    details: {
      producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
      irVersion: model.irVersion,
      opset,
      input: { name: input.name, shape: input.shape.map((d) => d ?? '?') },
      output: { name: output, shape: [...last.shape] },
      opCounts: opCounts(model),
      foldedIntoPrevious: Object.fromEntries(st.folded),
      ...(stripped.length ? { strippedOutput: stripped.join(', ') } : {}),
    },
  };
}

/**
 * Imports a float ONNX classifier as a `ModelGraph` on the dataset's NHWC image.
 * @throws the errors of `readOnnxGraph`, and QrobustError('shape_mismatch') when the output is not `numClasses`
 *   logits.
 */
export function importOnnx(req: ImportRequest): ImportedNetwork {
  const read = readOnnxGraph(req, 'per-example');
  const size = elementCount(read.outputShape);
  if (size !== req.numClasses) {
    const output = (read.details['output'] as { name: string }).name;
    throw new QrobustError('shape_mismatch', `${req.file}: the output '${output}' ${showShape(read.outputShape)} has ${size} values for ${req.numClasses} classes`);
  }
  return { format: 'onnx', graph: read.graph, layout: read.layout, details: read.details };
}

/** The graph node holding the output's elements in ONNX's C order (a feature map at the output is flattened). */
function logitsOf(st: Lowering, act: Activation, output: string): string {
  if (act.kind === 'vector') return act.ref;
  const order = flattenOrderOf(act);
  if (order === null) throw new QrobustError('unsupported_layer', `${st.source}: the graph output '${output}' is a feature map with ONNX axes ${showShape(act.axes)} of NHWC, whose elements no flatten lists in C order`);
  return st.writer.add('logits_flatten', { kind: 'flatten', order }, [act.ref]);
}
