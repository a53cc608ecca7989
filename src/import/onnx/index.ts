/** The ONNX importer: float ONNX classifiers (opset 9–21) as format-neutral model graphs, for import and for the verifier. */
export { decodeOnnxFile, importOnnx, ONNX_OPSETS, readOnnxGraph, type OnnxGraph, type OnnxGraphRequest } from './import-onnx.js';
export type { OnnxReading } from './lowering.js';
