/**
 * Defenses: adversarial training (PGD-AT, TRADES) for float and quantization-aware training, ensembles, and
 * Song et al.'s boundary-based retraining and non-linear input mapping.
 */
export {
  ADVERSARIAL_TRAINING_DEFAULTS,
  ADVERSARIAL_TRAINING_METHODS,
  adversarialTrainingLoss,
  craftTrainingInputs,
  isAdversarialTrainingMethod,
  klDivergence,
  resolveAdversarialTraining,
  type AdversarialTraining,
  type AdversarialTrainingInit,
  type AdversarialTrainingMethod,
} from './adversarial-training.js';
export { adversarialQatObjective, adversarialTrainingHook } from './training-hooks.js';
export { DivergenceClassifier } from './divergence-classifier.js';
export { ENSEMBLE_COMBINES, EnsembleClassifier, isEnsembleCombine, type EnsembleCombine } from './ensemble.js';
export {
  ENSEMBLE_ARCH,
  ensembleMemberDirs,
  ensembleRecordOf,
  isEnsembleMeta,
  loadEnsembleClassifier,
  saveEnsembleDir,
  type EnsembleMemberRecord,
  type EnsembleRecord,
} from './ensemble-dir.js';
export { BOUNDARY_SEARCH_NAMES, DEFENSE_METHODS, isDefenseMethod, type DefenseMethod } from './defense-names.js';
export { BOUNDARY_SEARCHES, findBoundaryPoints, type BoundaryPoints, type BoundarySearch, type BoundarySearchAttack } from './boundary-points.js';
export {
  BOUNDARY_REGENERATIONS,
  BOUNDARY_RETRAINING_DEFAULTS,
  boundaryQatObjective,
  boundaryRetrainingLoss,
  resolveBoundaryRetraining,
  type BoundaryRegeneration,
  type BoundaryRetraining,
  type BoundaryRetrainingInit,
} from './boundary-retraining.js';
export {
  applyNonlinearMap,
  describeNonlinearMap,
  inputMapOf,
  nonlinearMapDerivative,
  NONLINEAR_MAP_DEFAULTS,
  resolveNonlinearMap,
  type MapGradient,
  type NonlinearMapRecord,
} from './nonlinear-map.js';
export { MappedClassifier } from './mapped-classifier.js';
