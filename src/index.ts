/**
 * qrobust's typed library API. The CLI is a thin layer over these functions.
 */
export { QrobustError, isQrobustError, type ErrorCode } from './core/errors.js';
export { Rng } from './core/rng.js';
export { versions } from './core/versions.js';

export { tf } from './backend/tf.js';
export { initBackend, currentBackend, defaultBackendName, type BackendInfo, type BackendName } from './backend/backend.js';
export { installFastKernels, fastKernelsInstalled } from './backend/kernels/index.js';

export {
  DATASET_NAMES,
  loadDataset,
  datasetShape,
  datasetStatus,
  subset,
  takeFirst,
  toTensors,
  describeDataset,
  labelCounts,
  type ImageDataset,
  type LoadOptions,
  type DatasetShape,
  type DatasetsStatus,
} from './data/index.js';

export { ARCH_NAMES, parseArchName, type ArchName } from './models/arch-names.js';
export { ARCHS, buildModel, type ModelInputSpec } from './models/zoo.js';
export { Normalize } from './models/normalize-layer.js';
export { trainModel, learningRateAt, TRAIN_DEFAULTS, type TrainOptions, type TrainReport } from './models/train.js';
export { trainAndSave, type TrainAndSaveOptions, type TrainAndSaveResult } from './models/train-and-save.js';
export { evaluateAccuracy, predictLabels } from './models/evaluate.js';
export { accuracyOf, argmax, argmaxRows, type AccuracyResult } from './models/prediction.js';
export { evaluateModelDir, type EvaluateDirOptions, type EvaluateDirResult } from './workflows/evaluate-model.js';
export { saveModel, loadModel, type LoadedModel } from './models/io.js';
export { readMetadata, writeMetadata, type ModelMetadata } from './models/metadata.js';
export { statisticsFor, DATASET_STATISTICS } from './models/dataset-statistics.js';
export { makeBatch, type Augmentation, type ImageRecords } from './models/batch.js';
export {
  LayersClassifier,
  classifierAccuracy,
  classifierLogits,
  classifierPredictions,
  type Classifier,
  type GradientMode,
} from './models/classifier.js';
export {
  graphFromModel,
  isWeightStep,
  weightStepIndices,
  type LayerGraph,
  type LayerStep,
  type Conv2DStep,
  type DenseStep,
  type MaxPoolStep,
  type NormalizeStep,
  type FlattenStep,
  type ReluStep,
} from './models/graph.js';
export { layerGraphToOnnx, LOGITS_OUTPUT } from './models/onnx-export.js';
export { exportModelDir, parseExportFormat, EXPORT_FORMATS, type ExportFormat, type ExportedWeights, type OnnxExport } from './quant/export-dir.js';

export * from './quant/index.js';
export { quantizeDir, type QatDirOptions, type QuantizeDirOptions, type QuantizeDirResult, type QuantizedVariant } from './workflows/quantize-model.js';

export {
  ATTACKS,
  ATTACK_NAMES,
  LOSSES,
  NORMS,
  attack,
  attackLoss,
  getAttack,
  runAttack,
  fgsm,
  bim,
  pgd,
  mim,
  deepfoolAttack,
  apgdCe,
  apgdDlr,
  type AttackOptions,
  type AttackResult,
  type AttackSpec,
  type EpsilonResult,
  type LossName,
  type Norm,
  type RunAttackOptions,
  type RunAttackResult,
  adaptiveAttack,
  MASKING_GAP,
  type AdaptiveClassifiers,
  type AdaptiveResult,
} from './attacks/index.js';
export { adaptiveAttackDir, recordedParent, type AdaptiveDirOptions, type AdaptiveDirReport } from './workflows/adaptive-attack.js';
export { attackModelDir, type AttackDirOptions, type AttackDirReport, type AttackDirRow, type IntegerCheck } from './workflows/attack-model.js';

export { runCli } from './cli/main.js';
