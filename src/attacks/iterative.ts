/**
 * The engine behind BIM, PGD and MIM: repeated steps along the normalised loss gradient, each followed by a
 * projection onto the ε-ball and the bounds; optional random start, momentum and restarts. The attack files
 * only choose defaults. Per-sample early stop: a sample that is adversarial at the point where its gradient is
 * taken (including the clean input) is frozen there, and its success is recorded.
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { attackLoss, isAdversarial, lossGradient, predictions } from './losses.js';
import { l1Normalize, normalizeGradient, perturbationNorms, project, randomStart, selectSamples } from './projection.js';
import type { AttackResult, ResolvedOptions } from './types.js';

interface RunOutcome {
  readonly xAdv: tf.Tensor4D;
  readonly success: Uint8Array;
  readonly loss: Float32Array;
}

/** Runs the iterative attack; see the attack modules for the papers and defaults. */
export function iterativeAttack(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions): AttackResult {
  const n = labels.length;
  const labelsT = tf.tensor1d(labels, 'int32');
  const targetsT = o.targets ? tf.tensor1d(o.targets, 'int32') : null;
  const queries = new Int32Array(n);
  // Samples that are adversarial already; they keep x and are never attacked.
  const won = new Uint8Array(n);
  if (o.earlyStop && o.randomStart) {
    const logits = classifier.logits(x);
    won.set(isAdversarial(predictions(logits), labels, o.targets));
    logits.dispose();
    queries.fill(1);
  }
  let best = x.clone();
  const bestSuccess = Uint8Array.from(won);
  const bestLoss = new Float32Array(n).fill(-Infinity);
  try {
    for (let r = 0; r < o.restarts; r++) {
      if (o.earlyStop && bestSuccess.every((s) => s === 1)) break;
      const run = runOnce(classifier, x, labels, labelsT, targetsT, o, bestSuccess, queries);
      const take = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (bestSuccess[i] && o.earlyStop) continue;
        const better = run.success[i]! > bestSuccess[i]! || (run.success[i] === bestSuccess[i] && run.loss[i]! > bestLoss[i]!);
        if (r === 0 || better) {
          take[i] = 1;
          bestSuccess[i] = run.success[i]!;
          bestLoss[i] = run.loss[i]!;
        }
      }
      const next = selectSamples(take, run.xAdv, best);
      tf.dispose([best, run.xAdv]);
      best = next;
    }
  } catch (e) {
    best.dispose();
    throw e;
  } finally {
    tf.dispose(targetsT ? [labelsT, targetsT] : [labelsT]);
  }
  const { linf, l2 } = perturbationNorms(best, x);
  return { adversarial: best, success: bestSuccess, linf, l2, queries };
}

/** One run from one starting point. Samples with `frozen[i]` set are not moved and not counted. */
function runOnce(
  classifier: Classifier,
  x: tf.Tensor4D,
  labels: Int32Array,
  labelsT: tf.Tensor1D,
  targetsT: tf.Tensor1D | null,
  o: ResolvedOptions,
  frozen: Uint8Array,
  queries: Int32Array,
): RunOutcome {
  const n = labels.length;
  const done = o.earlyStop ? Uint8Array.from(frozen) : new Uint8Array(n);
  let xAdv: tf.Tensor4D;
  if (o.randomStart) {
    const start = randomStart(x, o.epsilon, o.norm, classifier.bounds, o.rng);
    xAdv = selectSamples(done, x, start);
    start.dispose();
  } else {
    xAdv = x.clone();
  }
  let momentum: tf.Tensor4D | null = o.decay > 0 ? tf.zerosLike(x) : null;
  for (let t = 0; t < o.steps; t++) {
    const { logits, loss, grad } = lossGradient(classifier, xAdv, labelsT, targetsT, o.loss, o.eot);
    for (let i = 0; i < n; i++) if (!done[i]) queries[i]! += o.eot;
    if (o.earlyStop) {
      const adv = isAdversarial(predictions(logits), labels, o.targets);
      for (let i = 0; i < n; i++) if (adv[i]) done[i] = 1;
    }
    tf.dispose([logits, loss]);
    if (done.every((d) => d === 1)) {
      grad.dispose();
      break;
    }
    const active = Uint8Array.from(done, (d) => 1 - d);
    const prevMomentum = momentum;
    const next = tf.tidy(() => {
      let direction = grad;
      if (prevMomentum) {
        momentum = tf.keep(tf.add(tf.mul(prevMomentum, o.decay), l1Normalize(grad)) as tf.Tensor4D);
        direction = momentum;
      }
      const stepped = tf.add(xAdv, tf.mul(normalizeGradient(direction, o.norm), o.stepSize)) as tf.Tensor4D;
      const projected = project(stepped, x, o.epsilon, o.norm, classifier.bounds);
      return selectSamples(active, projected, xAdv);
    });
    tf.dispose(prevMomentum ? [grad, prevMomentum, xAdv] : [grad, xAdv]);
    xAdv = next;
  }
  if (momentum) (momentum as tf.Tensor4D).dispose();
  const [logits, lossT] = tf.tidy(() => {
    const z = classifier.logits(xAdv);
    return [z, attackLoss(z, labelsT, targetsT, o.loss)];
  });
  for (let i = 0; i < n; i++) if (!(o.earlyStop && frozen[i])) queries[i]!++;
  const success = isAdversarial(predictions(logits as tf.Tensor2D), labels, o.targets);
  const loss = lossT!.dataSync() as Float32Array;
  tf.dispose([logits!, lossT!]);
  return { xAdv, success, loss };
}
