/**
 * ONNX's protobuf schema for protobufjs: the descriptor generated from the official `onnx.proto`
 * (`onnx-proto.generated.ts`, written by `scripts/generate-onnx-schema.ts`; field numbers, wire rules and the
 * `[packed = true]` fields of TensorProto as ONNX declares them). The codec reads the fields qrobust understands
 * and skips the rest (training info, functions, sparse tensors, type protos other than tensors).
 */
import protobuf from 'protobufjs';
import { AttributeProto_AttributeType, ONNX_DESCRIPTOR, TensorProto_DataType } from './onnx-proto.generated.js';

let root: protobuf.Root | null = null;

/** The protobufjs type of one ONNX message, e.g. `onnxType('ModelProto')`. */
export function onnxType(name: string): protobuf.Type {
  root ??= protobuf.Root.fromJSON(ONNX_DESCRIPTOR as unknown as protobuf.INamespace);
  return root.lookupType(`onnx.${name}`);
}

/** ONNX `TensorProto.DataType` codes. */
export const DataType = TensorProto_DataType;

/** ONNX `AttributeProto.AttributeType` codes. */
export const AttributeType = AttributeProto_AttributeType;
