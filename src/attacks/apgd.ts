/**
 * APGD: auto-PGD, projected gradient ascent with momentum and a step size that halves itself when progress
 * stalls, so that it needs no step-size tuning.
 *
 * Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse
 * parameter-free attacks", arXiv 2003.01690. The step size starts at 2ε. Checkpoints w_j split the `steps`
 * iterations into shrinking phases (p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)); at
 * each one a sample's step size is halved, and it restarts from its best point, when the loss rose in fewer
 * than ρ = 0.75 of the phase's steps or when neither the step size nor the best loss changed since the last
 * checkpoint. Each update mixes the projected gradient step with the previous move (α = 0.75).
 *
 * Registered as `apgd-ce` (cross-entropy) and `apgd-dlr` (the scale-invariant DLR loss); `targets` gives the
 * targeted variants. APGD-T, the untargeted attack made of targeted runs, is `apgd-t` (apgd-targeted.ts).
 * Threat model: L∞ (default) or L2. Options (defaults): `steps` (100), `randomStart` (true), `loss`,
 * `earlyStop` (true), `eot` (1). Queries: at most `steps` gradient calls (× `eot`) plus one forward pass per
 * sample (two with a random start).
 *
 * @example
 * const r = attack('apgd-dlr', classifier, x, labels, { epsilon: 8 / 255, steps: 100, seed: 0 });
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { attackLoss, isAdversarial, lossGradient, predictions } from './losses.js';
import { normalizeGradient, perturbationNorms, project, randomStart, selectSamples } from './projection.js';
import type { AttackResult, AttackSpec, ResolvedOptions } from './types.js';

const RHO = 0.75;
const ALPHA = 0.75;

/** Iteration indices at which APGD checks its progress. */
export function apgdCheckpoints(steps: number): number[] {
  const p = [0, 0.22];
  while (p[p.length - 1]! < 1) p.push(p[p.length - 1]! + Math.max(p[p.length - 1]! - p[p.length - 2]! - 0.03, 0.06));
  const w = p.map((v) => Math.ceil(v * steps - 1e-9)).filter((v) => v > 0 && v < steps);
  return [...new Set(w)];
}

/**
 * One APGD run. The loss is targeted at `lossTargets` when given; success means classification as
 * `successTargets` when given, misclassification otherwise. The two differ in APGD-T, which ascends a targeted
 * loss but counts any misclassification.
 */
export function apgdRun(
  classifier: Classifier,
  x: tf.Tensor4D,
  labels: Int32Array,
  o: ResolvedOptions,
  lossTargets: Int32Array | null,
  successTargets: Int32Array | null,
): AttackResult {
  const n = labels.length;
  const labelsT = tf.tensor1d(labels, 'int32');
  const targetsT = lossTargets ? tf.tensor1d(lossTargets, 'int32') : null;
  const queries = new Int32Array(n);
  const checkpoints = new Set(apgdCheckpoints(o.steps));
  const eta = new Float32Array(n).fill(2 * o.epsilon);
  const etaAtCheck = Float32Array.from(eta);
  const fmax = new Float32Array(n).fill(-Infinity);
  const fmaxAtCheck = new Float32Array(n).fill(-Infinity);
  const fPrev = new Float32Array(n).fill(-Infinity);
  const increases = new Int32Array(n);
  const done = new Uint8Array(n);
  let lastCheck = 0;
  let xCur: tf.Tensor4D;
  if (o.randomStart) {
    // A sample that is adversarial already stays at x rather than at its random start.
    if (o.earlyStop) {
      const clean = classifier.logits(x);
      done.set(isAdversarial(predictions(clean), labels, successTargets));
      clean.dispose();
      queries.fill(1);
    }
    const start = randomStart(x, o.epsilon, o.norm, classifier.bounds, o.rng);
    xCur = selectSamples(done, x, start);
    start.dispose();
  } else {
    xCur = x.clone();
  }
  let xPrev = xCur.clone();
  let xBest = xCur.clone();
  for (let k = 0; k < o.steps; k++) {
    const { logits, loss, grad } = lossGradient(classifier, xCur, labelsT, targetsT, o.loss, o.eot);
    for (let i = 0; i < n; i++) if (!done[i]) queries[i]! += o.eot;
    const f = loss.dataSync() as Float32Array;
    const adv = o.earlyStop ? isAdversarial(predictions(logits), labels, successTargets) : new Uint8Array(n);
    tf.dispose([logits, loss]);
    const improved = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      if (k > 0 && f[i]! > fPrev[i]!) increases[i]!++;
      fPrev[i] = f[i]!;
      if (f[i]! > fmax[i]! || adv[i]) {
        fmax[i] = f[i]!;
        improved[i] = 1;
      }
      if (adv[i]) done[i] = 1;
    }
    const nextBest = selectSamples(improved, xCur, xBest);
    xBest.dispose();
    xBest = nextBest;
    if (done.every((d) => d === 1) || k === o.steps - 1) {
      grad.dispose();
      break;
    }
    // Momentum step (plain projected step on the first iteration).
    const momentum = k === 0 ? 1 : ALPHA;
    const restart = new Uint8Array(n);
    if (checkpoints.has(k + 1)) {
      const phase = k + 1 - lastCheck;
      for (let i = 0; i < n; i++) {
        const stalled = increases[i]! < RHO * phase || (etaAtCheck[i] === eta[i] && fmaxAtCheck[i] === fmax[i]);
        etaAtCheck[i] = eta[i]!;
        fmaxAtCheck[i] = fmax[i]!;
        increases[i] = 0;
        if (stalled && !done[i]) {
          eta[i]! /= 2;
          restart[i] = 1;
        }
      }
      lastCheck = k + 1;
    }
    const active = Uint8Array.from(done, (d) => 1 - d);
    const next = tf.tidy(() => {
      const step = tf.mul(normalizeGradient(grad, o.norm), tf.tensor4d(eta, [n, 1, 1, 1]));
      const z = project(tf.add(xCur, step) as tf.Tensor4D, x, o.epsilon, o.norm, classifier.bounds);
      const mixed = tf.add(tf.add(xCur, tf.mul(tf.sub(z, xCur), momentum)), tf.mul(tf.sub(xCur, xPrev), 1 - momentum)) as tf.Tensor4D;
      const moved = project(mixed, x, o.epsilon, o.norm, classifier.bounds);
      return selectSamples(active, selectSamples(restart, xBest, moved), xCur);
    });
    tf.dispose([grad, xPrev]);
    xPrev = xCur;
    xCur = next;
  }
  // Successful samples keep the point where they became adversarial, which is their xBest; the rest keep the
  // point of highest loss. Check once more, since that point is not always the last one evaluated.
  const [logits, lossT] = tf.tidy(() => {
    const z = classifier.logits(xBest);
    return [z, attackLoss(z, labelsT, targetsT, o.loss)];
  });
  for (let i = 0; i < n; i++) queries[i]!++;
  const success = isAdversarial(predictions(logits as tf.Tensor2D), labels, successTargets);
  tf.dispose([logits!, lossT!, xCur, xPrev, labelsT, ...(targetsT ? [targetsT] : [])]);
  const { linf, l2 } = perturbationNorms(xBest, x);
  return { adversarial: xBest, success, linf, l2, queries };
}

function apgdSpec(name: string, loss: 'ce' | 'dlr'): AttackSpec {
  return {
    name,
    summary: `auto-PGD with the ${loss === 'ce' ? 'cross-entropy' : 'DLR'} loss (Croce & Hein 2020, arXiv 2003.01690)`,
    norms: ['linf', 'l2'],
    targeted: true,
    access: 'gradient',
    uses: ['steps', 'randomStart', 'loss', 'earlyStop', 'eot'],
    defaults: { steps: 100, randomStart: true, loss, earlyStop: true },
    run: (classifier, x, labels, o) => apgdRun(classifier, x, labels, o, o.targets, o.targets),
  };
}

export const apgdCe = apgdSpec('apgd-ce', 'ce');
export const apgdDlr = apgdSpec('apgd-dlr', 'dlr');
