/**
 * SPSA: gradient-free projected ascent with simultaneous-perturbation gradient estimates.
 *
 * Uesato, O'Donoghue, van den Oord & Kohli 2018, "Adversarial Risk and the Dangers of Evaluating Against Weak
 * Attacks", arXiv 1802.05666 (the estimator is Spall 1992's SPSA). Each step estimates the gradient of the
 * loss from `samples` evaluations at x ± δ·v for random Rademacher vectors v (antithetic pairs):
 * ĝ = mean_v (L(x + δv) − L(x − δv)) / (2δ) · v, takes an Adam step with it (ascent), and projects onto the
 * ε-ball and the bounds. Only logits are used, so gradient masking (e.g. zero gradients through a quantizer)
 * does not stop it. Perturbed points are clipped to the bounds before they are evaluated.
 *
 * Threat model: L∞ (default) or L2, untargeted or targeted. Options (defaults): `steps` (100), `samples`
 * (128 evaluations per estimate, rounded up to an even number), `delta` δ (0.01), `learningRate` (0.01, the
 * paper's values), `loss` ('margin', the paper's logit difference), `earlyStop` (true).
 * Queries: one clean check, then per step `samples` evaluations plus one check of the new point.
 *
 * @example
 * const r = attack('spsa', classifier, x, labels, { epsilon: 0.3, steps: 100, samples: 128, seed: 0 });
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { projectInPlace } from './host-geometry.js';
import { hostPixels, scoreImages } from './host-queries.js';
import { isAdversarial } from './losses.js';
import { fillSigns } from './noise.js';
import { perturbationNorms } from './projection.js';
import { pick, remaining } from './subset.js';
import type { AttackResult, AttackSpec, ResolvedOptions } from './types.js';

export const SPSA_DEFAULTS = { steps: 100, samples: 128, delta: 0.01, learningRate: 0.01, loss: 'margin', earlyStop: true } as const;

const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;
/** Perturbed images per forward chunk. */
const IMAGES_PER_CHUNK = 4096;

/** SPSA gradient estimates for the samples at `active`, written into `grads` (active.length × d). */
function estimateGradients(
  classifier: Classifier,
  points: Float32Array,
  active: Int32Array,
  labels: Int32Array,
  o: ResolvedOptions,
  d: number,
  grads: Float32Array,
): void {
  const [lo, hi] = classifier.bounds;
  const pairs = Math.ceil(o.samples / 2);
  const perChunk = Math.max(1, Math.floor(IMAGES_PER_CHUNK / (2 * pairs)));
  grads.fill(0);
  for (let start = 0; start < active.length; start += perChunk) {
    const group = active.subarray(start, Math.min(start + perChunk, active.length));
    const count = group.length * 2 * pairs;
    const images = new Float32Array(count * d);
    const signs = new Float32Array(group.length * pairs * d);
    fillSigns(o.rng, signs);
    const imageLabels = new Int32Array(count);
    const imageTargets = o.targets ? new Int32Array(count) : null;
    group.forEach((i, g) => {
      const point = points.subarray(i * d, (i + 1) * d);
      for (let p = 0; p < pairs; p++) {
        const v = signs.subarray((g * pairs + p) * d, (g * pairs + p + 1) * d);
        const plus = (g * pairs + p) * 2;
        for (let k = 0; k < d; k++) {
          images[plus * d + k] = Math.min(Math.max(point[k]! + o.delta * v[k]!, lo), hi);
          images[(plus + 1) * d + k] = Math.min(Math.max(point[k]! - o.delta * v[k]!, lo), hi);
        }
        imageLabels[plus] = imageLabels[plus + 1] = labels[i]!;
        if (imageTargets) imageTargets[plus] = imageTargets[plus + 1] = o.targets![i]!;
      }
    });
    const { loss } = scoreImages(classifier, images, count, imageLabels, imageTargets, o.loss);
    group.forEach((_, g) => {
      const grad = grads.subarray((start + g) * d, (start + g + 1) * d);
      for (let p = 0; p < pairs; p++) {
        const plus = (g * pairs + p) * 2;
        const coefficient = (loss[plus]! - loss[plus + 1]!) / (2 * o.delta * pairs);
        const v = signs.subarray((g * pairs + p) * d, (g * pairs + p + 1) * d);
        for (let k = 0; k < d; k++) grad[k]! += coefficient * v[k]!;
      }
    });
  }
}

function spsa(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions): AttackResult {
  const n = labels.length;
  const d = x.shape[1] * x.shape[2] * x.shape[3];
  const [lo, hi] = classifier.bounds;
  const clean = hostPixels(x);
  const points = Float32Array.from(clean);
  const queries = new Int32Array(n).fill(1);
  const first = scoreImages(classifier, clean, n, labels, o.targets, o.loss);
  const success = isAdversarial(first.predictions, labels, o.targets);
  const moment1 = new Float32Array(n * d);
  const moment2 = new Float32Array(n * d);
  const frozen = o.earlyStop ? success : new Uint8Array(n);
  for (let t = 1; t <= o.steps && o.epsilon > 0; t++) {
    const active = remaining(frozen);
    if (active.length === 0) break;
    const grads = new Float32Array(active.length * d);
    estimateGradients(classifier, points, active, labels, o, d, grads);
    const correction1 = 1 - BETA1 ** t;
    const correction2 = 1 - BETA2 ** t;
    active.forEach((i, j) => {
      queries[i]! += 2 * Math.ceil(o.samples / 2) + 1;
      const point = points.subarray(i * d, (i + 1) * d);
      for (let k = 0; k < d; k++) {
        const g = grads[j * d + k]!;
        const m = (moment1[i * d + k] = BETA1 * moment1[i * d + k]! + (1 - BETA1) * g);
        const v = (moment2[i * d + k] = BETA2 * moment2[i * d + k]! + (1 - BETA2) * g * g);
        point[k]! += (o.learningRate * (m / correction1)) / (Math.sqrt(v / correction2) + ADAM_EPSILON);
      }
      projectInPlace(point, clean.subarray(i * d, (i + 1) * d), o.epsilon, o.norm, lo, hi);
    });
    const current = new Float32Array(active.length * d);
    active.forEach((i, j) => current.set(points.subarray(i * d, (i + 1) * d), j * d));
    const targets = o.targets ? pick(o.targets, active) : null;
    const scores = scoreImages(classifier, current, active.length, pick(labels, active), targets, o.loss);
    const adv = isAdversarial(scores.predictions, pick(labels, active), targets);
    // With early stop a success is final (and freezes the sample); without, success describes the last point.
    active.forEach((i, j) => (success[i] = o.earlyStop ? success[i]! | adv[j]! : adv[j]!));
  }
  const adversarial = tf.tensor4d(points, x.shape);
  const { linf, l2 } = perturbationNorms(adversarial, x);
  return { adversarial, success, linf, l2, queries };
}

export const spsaAttack: AttackSpec = {
  name: 'spsa',
  summary: 'SPSA gradient estimates with Adam and projection (Uesato et al. 2018, arXiv 1802.05666)',
  norms: ['linf', 'l2'],
  targeted: true,
  access: 'scores',
  uses: ['steps', 'samples', 'delta', 'learningRate', 'loss', 'earlyStop'],
  defaults: SPSA_DEFAULTS,
  run: spsa,
};
