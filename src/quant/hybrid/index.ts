/** Dynamic-range ("hybrid") quantized networks: TFLite's deployed semantics and its fake-quant counterpart. */
export { quantizeRowAsymmetric, quantizeRowSymmetric, type AsymmetricRow } from './input-quantizer.js';
export { hybridDenseForward, type HybridDenseLayer, type HybridActivation } from './hybrid-dense.js';
export { dynamicFakeQuant } from './dynamic-fake-quant.js';
export { hybridClassifier, type HybridClassifierOptions } from './hybrid-classifier.js';
export { hybridFakeQuantClassifier, type HybridFakeQuantOptions } from './hybrid-fake-quant-classifier.js';
export { hybridDenseLayer, layersByStep, parseSourceQuantization, sourceQuantizationOf, SOURCE_QUANTIZATION_FIELD } from './record.js';
export { hybridClassifierFromGraph, hybridClassifierFromImport, loadHybridClassifier, type HybridLoadOptions } from './load-hybrid.js';
