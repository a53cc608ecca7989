/**
 * MIM: the momentum iterative method.
 *
 * Dong, Liao, Pang, Su, Zhu, Hu & Li 2018, "Boosting Adversarial Attacks with Momentum", arXiv 1710.06081.
 * Like BIM, but each step follows an accumulated gradient g ← μ·g + ∇/‖∇‖₁, which stabilises the direction
 * (and transfers better). The L1 normalisation here divides by the mean absolute value, a constant multiple
 * of ‖∇‖₁ that leaves the sign (L∞) and L2 directions unchanged.
 *
 * Threat model: L∞ (default) or L2, untargeted or targeted.
 * Options (defaults): `steps` (10), `relStepSize` (0.1, i.e. α = ε/steps as in the paper) or an absolute
 * `stepSize`, `decay` μ (1.0), `loss` ('ce'), `earlyStop` (true), `eot` (1).
 *
 * @example
 * const r = attack('mim', classifier, x, labels, { epsilon: 0.1, decay: 1 });
 */
import { iterativeAttack } from './iterative.js';
import type { AttackSpec } from './types.js';

export const MIM_DEFAULTS = { steps: 10, relStepSize: 0.1, decay: 1.0, loss: 'ce', earlyStop: true } as const;

export const mim: AttackSpec = {
  name: 'mim',
  summary: 'momentum iterative method (Dong et al. 2018, arXiv 1710.06081)',
  norms: ['linf', 'l2'],
  targeted: true,
  access: 'gradient',
  uses: ['steps', 'stepSize', 'relStepSize', 'decay', 'loss', 'earlyStop', 'eot'],
  defaults: MIM_DEFAULTS,
  run: (classifier, x, labels, o) => iterativeAttack(classifier, x, labels, { ...o, randomStart: false, restarts: 1 }),
};
