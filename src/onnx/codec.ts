/**
 * ONNX model files ↔ `OnnxModel` values, with protobufjs on the descriptor generated from ONNX's `onnx.proto`
 * (`onnx-proto.generated.ts`, whose message interfaces type the decoded values here).
 * Reading keeps what qrobust understands (see `model.ts`); writing produces a file ONNX Runtime loads, with every
 * tensor in `raw_data`.
 */
import { QrobustError } from '../core/errors.js';
import { AttributeType } from './schema.js';
import { onnxType } from './schema.js';
import type {
  AttributeProto as PbAttribute,
  GraphProto as PbGraph,
  ModelProto as PbModel,
  NodeProto as PbNode,
  TensorProto as PbTensor,
  ValueInfoProto as PbValueInfo,
} from './onnx-proto.generated.js';
import type { OnnxAttribute, OnnxDim, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './model.js';
import { decodeTensorValues, encodeTensorValues, int64ToNumber } from './tensor.js';

const utf8 = new TextDecoder();
const utf8Encode = new TextEncoder();

function tensorFrom(t: PbTensor, where: string): OnnxTensor {
  const name = t.name ?? '';
  if (t.dataLocation === 1) throw new QrobustError('invalid_argument', `${where}: tensor '${name}' keeps its data in an external file, which is not supported`);
  const dims = (t.dims ?? []).map(int64ToNumber);
  const dataType = t.dataType ?? 0;
  return { name, dataType, dims, values: decodeTensorValues(name, dataType, dims, t) };
}

function attributeFrom(a: PbAttribute, where: string): OnnxAttribute | null {
  const name = a.name ?? '';
  switch (a.type) {
    case AttributeType.FLOAT:
      return { name, type: 'float', value: a.f ?? 0 };
    case AttributeType.INT:
      return { name, type: 'int', value: int64ToNumber(a.i ?? 0) };
    case AttributeType.STRING:
      return { name, type: 'string', value: utf8.decode(a.s ?? new Uint8Array()) };
    case AttributeType.TENSOR:
      return { name, type: 'tensor', value: tensorFrom(a.t ?? {}, where) };
    case AttributeType.GRAPH:
      return { name, type: 'graph', value: graphFrom(a.g ?? {}, where) };
    case AttributeType.FLOATS:
      return { name, type: 'floats', value: [...(a.floats ?? [])] };
    case AttributeType.INTS:
      return { name, type: 'ints', value: (a.ints ?? []).map(int64ToNumber) };
    case AttributeType.STRINGS:
      return { name, type: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    default:
      // Tensor lists, graph lists, sparse tensors and type protos: not part of the subset; the node keeps the rest.
      return null;
  }
}

function nodeFrom(n: PbNode, where: string): OnnxNode {
  return {
    name: n.name ?? '',
    opType: n.opType ?? '',
    domain: n.domain ?? '',
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attributes: (n.attribute ?? []).map((a) => attributeFrom(a, where)).filter((a): a is OnnxAttribute => a !== null),
  };
}

/** Whether a decoded message sets a field (protobufjs puts defaults on the prototype). */
function has(message: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, field);
}

function valueInfoFrom(v: PbValueInfo): OnnxValueInfo {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim;
  const shape: OnnxDim[] | null = tt?.shape
    ? (dims ?? []).map((d) => (has(d, 'dimValue') ? int64ToNumber(d.dimValue) : has(d, 'dimParam') ? d.dimParam! : null))
    : null;
  return { name: v.name ?? '', elemType: tt?.elemType ?? 0, shape };
}

function graphFrom(g: PbGraph, where: string): OnnxGraph {
  return {
    name: g.name ?? '',
    nodes: (g.node ?? []).map((n) => nodeFrom(n, where)),
    initializers: (g.initializer ?? []).map((t) => tensorFrom(t, where)),
    inputs: (g.input ?? []).map(valueInfoFrom),
    outputs: (g.output ?? []).map(valueInfoFrom),
    valueInfo: (g.valueInfo ?? []).map(valueInfoFrom),
  };
}

/**
 * Decodes an ONNX model file.
 * @param source the file name (or a description) used in error messages.
 * @throws QrobustError('invalid_argument') when the bytes are not a protobuf ModelProto, have no graph, or hold an
 *   unsupported tensor.
 */
export function readOnnxModel(bytes: Uint8Array, source = 'ONNX model'): OnnxModel {
  let pb: PbModel;
  try {
    pb = onnxType('ModelProto').decode(bytes) as unknown as PbModel;
  } catch (e) {
    throw new QrobustError('invalid_argument', `${source}: not a valid ONNX model (${(e as Error).message})`, { cause: e });
  }
  if (!pb.graph) throw new QrobustError('invalid_argument', `${source}: the ONNX model has no graph`);
  return {
    irVersion: int64ToNumber(pb.irVersion ?? 0),
    opsetImport: (pb.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: int64ToNumber(o.version ?? 0) })),
    producerName: pb.producerName ?? '',
    producerVersion: pb.producerVersion ?? '',
    domain: pb.domain ?? '',
    modelVersion: int64ToNumber(pb.modelVersion ?? 0),
    docString: pb.docString ?? '',
    graph: graphFrom(pb.graph, source),
    metadataProps: (pb.metadataProps ?? []).map((p) => ({ key: p.key ?? '', value: p.value ?? '' })),
  };
}

function tensorTo(t: OnnxTensor): object {
  return { name: t.name, dataType: t.dataType, dims: [...t.dims], rawData: encodeTensorValues(t.name, t.dataType, t.values) };
}

function attributeTo(a: OnnxAttribute): object {
  const base = { name: a.name };
  switch (a.type) {
    case 'float':
      return { ...base, type: AttributeType.FLOAT, f: a.value };
    case 'int':
      return { ...base, type: AttributeType.INT, i: a.value };
    case 'string':
      return { ...base, type: AttributeType.STRING, s: utf8Encode.encode(a.value) };
    case 'tensor':
      return { ...base, type: AttributeType.TENSOR, t: tensorTo(a.value) };
    case 'graph':
      return { ...base, type: AttributeType.GRAPH, g: graphTo(a.value) };
    case 'floats':
      return { ...base, type: AttributeType.FLOATS, floats: [...a.value] };
    case 'ints':
      return { ...base, type: AttributeType.INTS, ints: [...a.value] };
    case 'strings':
      return { ...base, type: AttributeType.STRINGS, strings: a.value.map((s) => utf8Encode.encode(s)) };
  }
}

function valueInfoTo(v: OnnxValueInfo): object {
  const tensorType: Record<string, unknown> = { elemType: v.elemType };
  if (v.shape) tensorType['shape'] = { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) };
  return { name: v.name, type: { tensorType } };
}

function graphTo(g: OnnxGraph): object {
  return {
    name: g.name,
    node: g.nodes.map((n) => ({
      name: n.name,
      opType: n.opType,
      ...(n.domain ? { domain: n.domain } : {}),
      input: [...n.inputs],
      output: [...n.outputs],
      attribute: n.attributes.map(attributeTo),
    })),
    initializer: g.initializers.map(tensorTo),
    input: g.inputs.map(valueInfoTo),
    output: g.outputs.map(valueInfoTo),
    valueInfo: g.valueInfo.map(valueInfoTo),
  };
}

/** Encodes a model as ONNX file bytes. */
export function writeOnnxModel(model: OnnxModel): Uint8Array {
  const type = onnxType('ModelProto');
  const message = type.fromObject({
    irVersion: model.irVersion,
    opsetImport: model.opsetImport.map((o) => ({ domain: o.domain, version: o.version })),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    domain: model.domain,
    modelVersion: model.modelVersion,
    docString: model.docString,
    graph: graphTo(model.graph),
    metadataProps: model.metadataProps.map((p) => ({ key: p.key, value: p.value })),
  });
  return type.encode(message).finish();
}
