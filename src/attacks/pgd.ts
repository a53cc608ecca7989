/**
 * PGD: projected gradient descent on the loss, from a random point of the ε-ball.
 *
 * Madry, Makelov, Schmidt, Tsipras & Vladu 2018, "Towards Deep Learning Models Resistant to Adversarial
 * Attacks", arXiv 1706.06083. Each step moves α along the normalised gradient (sign for L∞, unit L2 for L2)
 * and projects onto the ε-ball intersected with the bounds. With `restarts` > 1 the attack runs again from
 * fresh random starts and keeps, per sample, the first success or else the point of highest loss.
 *
 * Threat model: L∞ (default) or L2, untargeted or targeted.
 * Options (defaults): `steps` (40), `relStepSize` (2.5/steps, Madry et al.'s rule) or an absolute `stepSize`,
 * `randomStart` (true), `restarts` (1), `loss` ('ce'; 'margin' gives the CW-loss variant), `earlyStop` (true),
 * `eot` (1: gradients averaged over that many passes for randomized models).
 * Queries: at most restarts × (steps · eot + 1) model calls per sample, plus one when starting at random.
 *
 * @example
 * const r = attack('pgd', classifier, x, labels, { epsilon: 0.5, norm: 'l2', restarts: 5, seed: 1 });
 */
import { iterativeAttack } from './iterative.js';
import type { AttackSpec } from './types.js';

export const PGD_DEFAULTS = { steps: 40, randomStart: true, restarts: 1, loss: 'ce', earlyStop: true } as const;

export const pgd: AttackSpec = {
  name: 'pgd',
  summary: 'projected gradient descent with random start and restarts (Madry et al. 2018, arXiv 1706.06083)',
  norms: ['linf', 'l2'],
  targeted: true,
  access: 'gradient',
  uses: ['steps', 'stepSize', 'relStepSize', 'randomStart', 'restarts', 'loss', 'earlyStop', 'eot'],
  defaults: PGD_DEFAULTS,
  run: (classifier, x, labels, o) => iterativeAttack(classifier, x, labels, { ...o, decay: 0 }),
};
