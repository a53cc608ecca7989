/** Defenses: adversarial training (PGD-AT, TRADES) for float and quantization-aware training, and ensembles. */
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
export { DEFENSE_METHODS, PLANNED_DEFENSES, isDefenseMethod, type DefenseMethod } from './defense-names.js';
