/** The papers' metrics: pure functions of per-sample outcomes, activations and gradients (see docs/metrics.md). */
export { accuracyIncreases, curveCrossings, robustAccuracy, type Crossing, type CurvePoint } from './robust-accuracy.js';
export { transferBreakdown, type TransferBreakdown } from './transfer.js';
export { relativeRobustness, robustFlags, type RelativeRobustness } from './relative-robustness.js';
export { quantizedRobust, searchRobustness, type SearchOutcome, type SearchRobustness } from './search-robustness.js';
export {
  AlignmentAccumulator,
  GradientStats,
  cosineSimilarity,
  signAgreement,
  type AlignmentSummary,
  type GradientSummary,
} from './gradient-alignment.js';
export { LayerShiftAccumulator, type LayerShift } from './value-shift.js';
export { adversarialLoss, firstOrderAdversarialLoss, firstOrderWeightLoss, quantizationLoss } from './quantization-loss.js';
export {
  LARGE_EPS_MAX_ACCURACY,
  ZERO_GRADIENT_MAX_SHARE,
  maskingChecks,
  type AccuracyAt,
  type MaskingCheck,
  type MaskingCheckName,
  type MaskingEvidence,
} from './gradient-masking.js';
