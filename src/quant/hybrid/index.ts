/**
 * Networks quantized by their source (TFLite): dynamic-range ("hybrid") and full-integer, each with its deployed
 * semantics and a fake-quant counterpart.
 */
export { quantizeRowAsymmetric, quantizeRowSymmetric, type AsymmetricRow } from './input-quantizer.js';
export { hybridDenseForward, type HybridDenseLayer, type HybridActivation } from './hybrid-dense.js';
export { dynamicFakeQuant } from './dynamic-fake-quant.js';
export { hybridClassifier, type HybridClassifierOptions } from './hybrid-classifier.js';
export { hybridFakeQuantClassifier, type HybridFakeQuantOptions } from './hybrid-fake-quant-classifier.js';
export { hybridDenseLayer, layersByStep, parseSourceQuantization, sourceQuantizationOf, SOURCE_QUANTIZATION_FIELD } from './record.js';
export { fullIntegerClassifier, fullIntegerPlan, type FullIntegerOptions } from './full-integer.js';
export { loadSourceQuantizedClassifier, sourceQuantizedClassifier, sourceQuantizedClassifierFromImport, type SourceClassifierOptions } from './load-hybrid.js';
