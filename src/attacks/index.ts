/** Adversarial attacks: one calling convention, one module per attack, a registry by name. */
export type { AttackOptions, AttackResult, AttackSpec, AttackOptionName, LossName, Norm, ResolvedOptions } from './types.js';
export { LOSSES, NORMS } from './types.js';
export { ATTACKS, ATTACK_NAMES, getAttack } from './registry.js';
export { attack, predict, runAttack, type EpsilonResult, type RunAttackOptions, type RunAttackResult } from './run.js';
export { resolveOptions } from './options.js';
export { attackLoss, isAdversarial, lossGradient, predictions, type LossGradient } from './losses.js';
export { l1Normalize, normalizeGradient, perturbationNorms, project, randomStart, selectSamples } from './projection.js';
export { fgsm, FGSM_DEFAULTS } from './fgsm.js';
export { bim, BIM_DEFAULTS } from './bim.js';
export { pgd, PGD_DEFAULTS } from './pgd.js';
export { mim, MIM_DEFAULTS } from './mim.js';
export { deepfoolAttack, DEEPFOOL_DEFAULTS } from './deepfool.js';
export { apgdCe, apgdDlr, apgdCheckpoints } from './apgd.js';
