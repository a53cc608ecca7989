/**
 * ONNX models as plain typed values (the decoded form of `onnx.proto`'s ModelProto, restricted to the subset in
 * `schema.ts`). Integers are JS numbers (int64 values beyond 2^53 lose precision, which no shape, axis or
 * attribute qrobust handles can reach); tensor payloads are typed arrays, with int64 tensors as BigInt64Array so
 * that shape tensors stay exact.
 */

/** The element array of a tensor, by ONNX data type. */
export type TensorValues = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

export interface OnnxTensor {
  readonly name: string;
  /** An ONNX `TensorProto.DataType` code (see `DataType`). */
  readonly dataType: number;
  readonly dims: readonly number[];
  /** Row-major (C order), `dims.reduce(×)` elements. */
  readonly values: TensorValues;
}

export type OnnxAttribute =
  | { readonly name: string; readonly type: 'float'; readonly value: number }
  | { readonly name: string; readonly type: 'int'; readonly value: number }
  | { readonly name: string; readonly type: 'string'; readonly value: string }
  | { readonly name: string; readonly type: 'tensor'; readonly value: OnnxTensor }
  | { readonly name: string; readonly type: 'graph'; readonly value: OnnxGraph }
  | { readonly name: string; readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly name: string; readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly name: string; readonly type: 'strings'; readonly value: readonly string[] };

export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  /** '' is the default ONNX domain. */
  readonly domain: string;
  /** Tensor names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: readonly OnnxAttribute[];
}

/** One dimension of a declared shape: a size, a symbolic name, or null (unknown). */
export type OnnxDim = number | string | null;

export interface OnnxValueInfo {
  readonly name: string;
  /** Element data type code (0 when the type is not a tensor or not given). */
  readonly elemType: number;
  /** Null when the shape is not given. */
  readonly shape: readonly OnnxDim[] | null;
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly valueInfo: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  readonly irVersion: number;
  readonly opsetImport: readonly { readonly domain: string; readonly version: number }[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: number;
  readonly docString: string;
  readonly graph: OnnxGraph;
  readonly metadataProps: readonly { readonly key: string; readonly value: string }[];
}

/** The number of elements of a tensor with these dims (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** The opset version of the default ONNX domain ('' or 'ai.onnx'), or null when it is not imported. */
export function defaultOpset(model: OnnxModel): number | null {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return entry ? entry.version : null;
}
