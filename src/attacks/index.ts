/** Adversarial attacks: one calling convention, one module per attack, a registry by name. */
export type {
  AttackAccess,
  AttackOptions,
  AttackResult,
  AttackSpec,
  AttackOptionName,
  LossName,
  MinimumNormResult,
  Norm,
  ResolvedOptions,
} from './types.js';
export { LOSSES, NORMS } from './types.js';
export { ATTACKS, getAttack } from './registry.js';
export { ATTACK_NAMES } from './attack-names.js';
export { attack, predict, runAttack, type EpsilonResult, type PixelGridOutcome, type RunAttackOptions, type RunAttackResult } from './run.js';
export { resolveOptions } from './options.js';
export { attackLoss, isAdversarial, lossGradient, predictions, type LossGradient } from './losses.js';
export { l1Normalize, normalizeGradient, perturbationNorms, project, randomStart, selectSamples } from './projection.js';
export { fixedEpsilon, runMinimumNorm } from './minimum-norm.js';
export { snapToGrid } from './pixel-grid.js';
export { chooseTargets } from './targets.js';
export { TARGET_MODES, type TargetMode } from './target-modes.js';
export { evaluateTransfer, type TransferOutcome } from './transfer.js';
export { readExamples, writeExamples, type AdversarialExamples, type ExamplesAtEpsilon } from './examples-file.js';
export { fgsm, FGSM_DEFAULTS } from './fgsm.js';
export { bim, BIM_DEFAULTS } from './bim.js';
export { pgd, PGD_DEFAULTS } from './pgd.js';
export { mim, MIM_DEFAULTS } from './mim.js';
export { deepfoolAttack, DEEPFOOL_DEFAULTS } from './deepfool.js';
export { apgdCe, apgdDlr, apgdCheckpoints, apgdRun } from './apgd.js';
export { apgdT, classAtRank } from './apgd-targeted.js';
export { carliniWagnerL2, CW_DEFAULTS } from './carlini-wagner.js';
export { squareAttack, SQUARE_DEFAULTS } from './square.js';
export { squareFraction, squarePattern, squareSide } from './square-patterns.js';
export { spsaAttack, SPSA_DEFAULTS } from './spsa.js';
export { hopSkipJumpAttack, HOP_SKIP_JUMP_DEFAULTS } from './hop-skip-jump.js';
export { autoEnsemble, AUTO_MEMBERS } from './auto.js';
export { dlvSearch, dlvFeatures, dlvImage, DLV_DEFAULTS, type DlvSearchOptions, type DlvSearchResult, type DlvState, type DlvAdversarial, type DlvEnd } from './dlv-search.js';
export { dlvSearchOutcome, type DlvCheck, type DlvTargetOutcome } from './dlv-transfer.js';
export {
  adaptiveAttack,
  maskingFlag,
  memberSeed,
  worstCase,
  MASKING_GAP,
  type AdaptiveEpsilonResult,
  type AdaptiveOptions,
  type AdaptiveResult,
  type MaskingFlag,
  type MemberOutcome,
  type MemberRecord,
} from './adaptive.js';
export { planMembers, EOT_DEFAULT, type AdaptiveClassifiers, type AdaptiveKnobs, type PlannedMember, type SkippedMember } from './adaptive-members.js';
