/** The ONNX importer: float ONNX classifiers (opset 9–21) as format-neutral model graphs. */
export { importOnnx, ONNX_OPSETS } from './import-onnx.js';
