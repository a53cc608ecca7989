/**
 * Quantization: specs, quantizer arithmetic, calibration, post-training quantization, quantization-aware
 * training, the fake-quant path (with exact or straight-through gradients) and the integer-exact path.
 */
export {
  ACTIVATION_DEFAULTS,
  QUANT_SPEC_DEFAULTS,
  WEIGHT_DEFAULTS,
  assertInferenceSpec,
  layerWeightSpec,
  logitsBits,
  makeQuantSpec,
  parseBitsList,
  specLabel,
  validateQuantSpec,
  type ActivationKind,
  type ActivationQuantSpec,
  type CalibrationMethod,
  type CalibrationSpec,
  type FirstLastPolicy,
  type Granularity,
  type InputQuantSpec,
  type QuantScheme,
  type QuantSpec,
  type QuantSpecInit,
  type Rounding,
  type WeightBits,
  type WeightKind,
  type WeightQuantSpec,
} from './spec.js';
export {
  channelParams,
  clippingRange,
  dequantizeArray,
  fakeQuantArray,
  integerRange,
  minMaxParams,
  paramsFromRanges,
  quantizeArray,
  quantizeValue,
  type QuantParams,
} from './quantizer.js';
export { roundHalfAway, roundHalfEven } from './rounding.js';
export { roundToFloat16, roundArrayToFloat16 } from './float16.js';
export {
  applyWeightRecord,
  dorefaCode,
  dorefaLevels,
  quantizeKernel,
  weightRecord,
  TERNARY_THRESHOLD_FACTOR,
  type QuantizedKernel,
  type WeightQuantRecord,
} from './weights.js';
export { ActivationObserver, calibratedRange, mseRange, percentileSorted } from './calibration.js';
export { FakeQuantizer, fakeQuant, quantizeWeightsTf, roundHalfAwayTf, type FakeQuantOptions, type QuantGradient } from './fake-quant.js';
export { prepareGraph, type LayerQuantParams, type PreparedGraph, type PreparedStep, type QuantPlan } from './plan.js';
export { FakeQuantClassifier, weightSpecOfRecord, type FakeQuantClassifierOptions } from './quantized-classifier.js';
export {
  calibrateActivations,
  fakeQuantClassifier,
  fixedActivationRange,
  inputParams,
  integerClassifier,
  isIntegerExecutable,
  quantizeGraph,
  quantizeModel,
  type CalibrationOptions,
  type CalibrationRecord,
  type QuantizedModel,
} from './ptq.js';
export {
  isQuantizedMeta,
  loadQuantizedModel,
  saveQuantizedModel,
  weightsSha256,
  writeGraphWeights,
  type QuantizationRecord,
  type SaveQuantizedOptions,
} from './quantized-dir.js';
export { loadClassifier, type LoadClassifierOptions, type LoadedClassifier } from './load-classifier.js';
export {
  QAT_DEFAULTS,
  QatNetwork,
  qatFineTune,
  qatFromScratch,
  qatTrainGraph,
  type ActivationRangeMode,
  type QatOptions,
  type QatRecord,
  type QatResult,
} from './qat.js';
export { BINARY_STE_CLIP, QatWeightQuantizer, binaryWeightsTf, dorefaWeightsTf, weightGridParams, type WeightRangeRule } from './qat-quantizers.js';
export {
  multiplyByQuantizedMultiplier,
  multiplyByQuantizedMultiplierReference,
  multiplyByQuantizedMultiplierSingleRounding,
  multiplyByQuantizedMultiplierSingleRoundingReference,
  quantizeMultiplier,
  roundingDivideByPOT,
  roundingDivideByPOTReference,
  saturatingRoundingDoublingHighMul,
  saturatingRoundingDoublingHighMulReference,
  type QuantizedMultiplier,
  type RequantRounding,
} from './integer/fixed-point.js';
export { compileIntegerProgram, type CompileOptions, type IntegerProgram, type IntOp } from './integer/program.js';
export { runIntegerProgram } from './integer/kernels.js';
export { IntegerClassifier } from './integer/integer-classifier.js';
