/**
 * APGD-T: untargeted robustness measured by targeted APGD runs, one per likely wrong class.
 *
 * Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free
 * attacks", arXiv 2003.01690. For each sample the wrong classes are ranked by their clean logits; run r
 * (r = 1..`targetClasses`) ascends the targeted DLR loss −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2) towards the
 * class ranked r + 1 (the runner-up first) and counts any misclassification as success. Each run attacks only
 * the samples no earlier run has broken; a sample keeps the first adversarial point found, or else the point
 * of the first run. Targeting a specific class avoids the flat, saturated landscape of the untargeted loss.
 *
 * With `targets` given it is one targeted APGD run (targeted DLR loss, success = the target class).
 * Threat model: L∞ (default) or L2; needs at least 4 classes. Options (defaults): `steps` (100 per run),
 * `targetClasses` (9, capped at the number of wrong classes), `randomStart` (true), `loss` ('dlr'),
 * `earlyStop` (true), `eot` (1). Queries: one clean forward pass, then per run at most `steps` gradient calls
 * (× `eot`) and two forward passes.
 *
 * @example
 * const r = attack('apgd-t', classifier, x, labels, { epsilon: 0.3, steps: 100, targetClasses: 9, seed: 0 });
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import type { Classifier } from '../models/classifier.js';
import { apgdRun } from './apgd.js';
import { isAdversarial, predictions } from './losses.js';
import { perturbationNorms } from './projection.js';
import { BatchRecord, pick, remaining } from './subset.js';
import type { AttackResult, AttackSpec, ResolvedOptions } from './types.js';

/** Per sample, the class whose clean logit ranks `rank` (0 = largest; ties broken by the lower index). */
export function classAtRank(logits: Float32Array, numClasses: number, rank: number): Int32Array {
  const n = logits.length / numClasses;
  const out = new Int32Array(n);
  const order = Array.from({ length: numClasses }, (_, j) => j);
  for (let i = 0; i < n; i++) {
    order.sort((a, b) => logits[i * numClasses + b]! - logits[i * numClasses + a]! || a - b);
    out[i] = order[rank]!;
  }
  return out;
}

function apgdTargeted(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions): AttackResult {
  if (o.targets) return apgdRun(classifier, x, labels, o, o.targets, o.targets);
  if (classifier.numClasses < 4) {
    throw new QrobustError('invalid_option', `apgd-t: the targeted DLR loss needs at least 4 classes, got ${classifier.numClasses}`);
  }
  const n = labels.length;
  const cleanLogits = classifier.logits(x);
  const z = cleanLogits.dataSync() as Float32Array;
  const record = new BatchRecord(x, isAdversarial(predictions(cleanLogits), labels, null), new Int32Array(n).fill(1));
  cleanLogits.dispose();
  for (let r = 1; r <= o.targetClasses; r++) {
    const indices = remaining(record.success);
    if (indices.length === 0) break;
    const xs = tf.tidy(() => tf.gather(x, tf.tensor1d(indices, 'int32')));
    const ys = pick(labels, indices);
    const targets = pick(classAtRank(z, classifier.numClasses, r), indices);
    try {
      const part = apgdRun(classifier, xs, ys, { ...o, targets: null }, targets, null);
      // Robust samples keep the highest-loss point of the first run, adversarial ones their first success.
      record.merge(indices, part, r === 1 ? new Uint8Array(indices.length).fill(1) : part.success);
    } finally {
      xs.dispose();
    }
  }
  const { linf, l2 } = perturbationNorms(record.adversarial, x);
  return { adversarial: record.adversarial, success: record.success, linf, l2, queries: record.queries };
}

export const apgdT: AttackSpec = {
  name: 'apgd-t',
  summary: 'targeted APGD over the top wrong classes, DLR-targeted loss (Croce & Hein 2020, arXiv 2003.01690)',
  norms: ['linf', 'l2'],
  targeted: true,
  access: 'gradient',
  uses: ['steps', 'targetClasses', 'randomStart', 'loss', 'earlyStop', 'eot'],
  defaults: { steps: 100, targetClasses: 9, randomStart: true, loss: 'dlr', earlyStop: true },
  run: apgdTargeted,
};
