/** ONNX files: a protobuf codec for the subset of onnx.proto qrobust needs, and the typed model values. */
export { readOnnxModel, writeOnnxModel } from './codec.js';
export { DataType, AttributeType } from './schema.js';
export { elementCount, defaultOpset } from './model.js';
export type { OnnxAttribute, OnnxDim, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo, TensorValues } from './model.js';
