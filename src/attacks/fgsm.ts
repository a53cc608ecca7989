/**
 * FGSM: the fast gradient sign method.
 *
 * Goodfellow, Shlens & Szegedy 2015, "Explaining and Harnessing Adversarial Examples", arXiv 1412.6572.
 * One step of size ε along the sign of the input gradient of the loss (L∞); with `norm: 'l2'` the step follows
 * the L2-normalised gradient instead (the fast gradient method, FGM).
 *
 * Threat model: L∞ (default) or L2, untargeted or targeted. Inputs NHWC inside `classifier.bounds`.
 * Options (defaults): `loss` ('ce'), `earlyStop` (true: a sample already adversarial is returned unchanged),
 * `eot` (1). Queries: one gradient call (`eot` with EOT), plus one forward pass to check success.
 *
 * @example
 * const r = attack('fgsm', classifier, x, labels, { epsilon: 0.1 });
 */
import { tf } from '../backend/tf.js';
import { isAdversarial, lossGradient, predictions } from './losses.js';
import { normalizeGradient, perturbationNorms, project, selectSamples } from './projection.js';
import type { AttackSpec } from './types.js';

export const FGSM_DEFAULTS = { loss: 'ce', earlyStop: true } as const;

export const fgsm: AttackSpec = {
  name: 'fgsm',
  summary: 'fast gradient sign method, one step (Goodfellow et al. 2015, arXiv 1412.6572)',
  norms: ['linf', 'l2'],
  targeted: true,
  access: 'gradient',
  uses: ['loss', 'earlyStop', 'eot'],
  defaults: FGSM_DEFAULTS,
  run(classifier, x, labels, o) {
    const labelsT = tf.tensor1d(labels, 'int32');
    const targetsT = o.targets ? tf.tensor1d(o.targets, 'int32') : null;
    const { logits, loss, grad } = lossGradient(classifier, x, labelsT, targetsT, o.loss, o.eot);
    const already = o.earlyStop ? isAdversarial(predictions(logits), labels, o.targets) : new Uint8Array(labels.length);
    const adversarial = tf.tidy(() => {
      const stepped = tf.add(x, tf.mul(normalizeGradient(grad, o.norm), o.epsilon)) as tf.Tensor4D;
      return selectSamples(already, x, project(stepped, x, o.epsilon, o.norm, classifier.bounds));
    });
    tf.dispose(targetsT ? [logits, loss, grad, labelsT, targetsT] : [logits, loss, grad, labelsT]);
    const after = classifier.logits(adversarial);
    const success = isAdversarial(predictions(after), labels, o.targets);
    after.dispose();
    const { linf, l2 } = perturbationNorms(adversarial, x);
    return { adversarial, success, linf, l2, queries: new Int32Array(labels.length).fill(o.eot + 1) };
  },
};
