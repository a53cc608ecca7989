/**
 * `auto`: an ensemble in the manner of AutoAttack.
 *
 * Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free
 * attacks", arXiv 2003.01690. The members run in sequence, each only on the samples that every earlier member
 * left robust: APGD-CE (white-box, cross-entropy), APGD-T (white-box, targeted DLR over the top wrong classes),
 * FAB-T (white-box, minimum-norm steps to the linearized boundaries of the same classes) and Square (black-box,
 * so it still works where gradients are masked, e.g. through quantizers with exact gradients): AutoAttack's
 * standard version. A sample counts as broken as soon as one member breaks it and keeps that member's point, so the
 * ensemble is the per-sample worst case over its members; `brokenBy` records which member it was ('clean'
 * when the input was adversarial before any attack). Samples nobody breaks keep APGD-CE's point.
 *
 * Threat model: L∞ (default) or L2, untargeted or targeted (each member then targets the given classes).
 * Options (defaults): `steps` (100 per APGD and FAB run), `targetClasses` (9), `maxQueries` (5000, Square's budget),
 * `pInit` (0.8), `eot` (1, the gradient members). Queries: one clean check plus what each member spent.
 *
 * @example
 * const r = attack('auto', classifier, x, labels, { epsilon: 0.3, seed: 0 });
 * r.brokenBy; // e.g. ['apgd-ce', null, 'clean', 'fab-t', 'square', ...]
 */
import { tf } from '../backend/tf.js';
import { Rng } from '../core/rng.js';
import type { Classifier } from '../models/classifier.js';
import { apgdCe } from './apgd.js';
import { apgdT } from './apgd-targeted.js';
import { fabT } from './fab.js';
import { isAdversarial, predictions } from './losses.js';
import { resolveOptions } from './options.js';
import { perturbationNorms } from './projection.js';
import { squareAttack } from './square.js';
import { BatchRecord, pick, remaining } from './subset.js';
import type { AttackOptions, AttackResult, AttackSpec, ResolvedOptions } from './types.js';

/** The members in the order they run. */
export const AUTO_MEMBERS: readonly AttackSpec[] = [apgdCe, apgdT, fabT, squareAttack];

/** Ensemble options handed on to the members that use them; everything else stays at each member's default. */
const FORWARDED = ['steps', 'targetClasses', 'maxQueries', 'pInit', 'eot'] as const;

function autoAttack(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions): AttackResult {
  const n = labels.length;
  const clean = classifier.logits(x);
  const record = new BatchRecord(x, isAdversarial(predictions(clean), labels, o.targets), new Int32Array(n).fill(1));
  clean.dispose();
  const brokenBy: (string | null)[] = Array.from(record.success, (s) => (s ? 'clean' : null));
  AUTO_MEMBERS.forEach((member, m) => {
    const indices = remaining(record.success);
    if (indices.length === 0) return;
    const given: Record<string, unknown> = { epsilon: o.epsilon, norm: o.norm, targets: o.targets ? pick(o.targets, indices) : null, rng: new Rng(o.rng.fork()) };
    for (const key of FORWARDED) if ((member.uses as readonly string[]).includes(key)) given[key] = o[key];
    const options = resolveOptions(member, classifier, indices.length, given as unknown as AttackOptions);
    const xs = tf.tidy(() => tf.gather(x, tf.tensor1d(indices, 'int32')));
    try {
      const part = member.run(classifier, xs, pick(labels, indices), options);
      indices.forEach((k, j) => {
        if (part.success[j]) brokenBy[k] = member.name;
      });
      record.merge(indices, part, m === 0 ? new Uint8Array(indices.length).fill(1) : part.success);
    } finally {
      xs.dispose();
    }
  });
  const { linf, l2 } = perturbationNorms(record.adversarial, x);
  return { adversarial: record.adversarial, success: record.success, linf, l2, queries: record.queries, brokenBy };
}

export const autoEnsemble: AttackSpec = {
  name: 'auto',
  summary: 'AutoAttack-style ensemble: APGD-CE, APGD-T, FAB-T, Square, worst case per sample (Croce & Hein 2020, arXiv 2003.01690)',
  norms: ['linf', 'l2'],
  targeted: true,
  access: 'gradient',
  uses: ['steps', 'targetClasses', 'maxQueries', 'pInit', 'eot'],
  defaults: { steps: 100, targetClasses: 9, maxQueries: 5000, pInit: 0.8 },
  run: autoAttack,
};
