/**
 * BIM: the basic iterative method (iterative FGSM).
 *
 * Kurakin, Goodfellow & Bengio 2017, "Adversarial Examples in the Physical World", arXiv 1607.02533.
 * `steps` sign-gradient steps of size α from the clean input, each clipped back to the ε-ball and the bounds.
 * It is PGD without the random start.
 *
 * Threat model: L∞ (default) or L2 (normalised-gradient steps), untargeted or targeted.
 * Options (defaults): `steps` (10), `relStepSize` (0.2, i.e. α = ε/5) or an absolute `stepSize`, `loss`
 * ('ce'), `earlyStop` (true), `eot` (1). Queries: at most `steps` gradient calls (× `eot`) plus one forward pass
 * per sample.
 *
 * @example
 * const r = attack('bim', classifier, x, labels, { epsilon: 0.1, steps: 20 });
 */
import { iterativeAttack } from './iterative.js';
import type { AttackSpec } from './types.js';

export const BIM_DEFAULTS = { steps: 10, relStepSize: 0.2, loss: 'ce', earlyStop: true } as const;

export const bim: AttackSpec = {
  name: 'bim',
  summary: 'basic iterative method, iterated FGSM (Kurakin et al. 2017, arXiv 1607.02533)',
  norms: ['linf', 'l2'],
  targeted: true,
  access: 'gradient',
  uses: ['steps', 'stepSize', 'relStepSize', 'loss', 'earlyStop', 'eot'],
  defaults: BIM_DEFAULTS,
  run: (classifier, x, labels, o) => iterativeAttack(classifier, x, labels, { ...o, randomStart: false, restarts: 1, decay: 0 }),
};
