/**
 * Song, Fallon & Li's boundary-based retraining (arXiv 2012.14965) as a per-batch objective of quantization-aware
 * training: for every batch, boundary points of the current fake-quant network (`findBoundaryPoints`: DeepFool
 * or FAB through the network's straight-through gradients, then a small push past the crossing) are found, and
 * the step minimises
 *
 *     CE(f(x), y) + λ · mean over the found points of CE(f(x_pushed), y),
 *
 * the true labels on both terms, so the network learns to move its boundary past the points that lay just
 * beyond it. Every training image gets fresh boundary points in every epoch: by default (`regenerate: 'epoch'`)
 * on the network as it was at the start of the epoch, which is what making the whole set's points then would
 * give; with `'batch'`, on the current network at the batch's own step. The paper's abstract gives none of λ,
 * the search, the push or the regeneration schedule; the choices are ours (docs/defenses.md).
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Norm } from '../attacks/types.js';
import type { QatStepObjective } from '../quant/qat.js';
import { BOUNDARY_SEARCHES, findBoundaryPoints, type BoundarySearch, type BoundarySearchAttack } from './boundary-points.js';

/**
 * When boundary points are made: `batch`, at each batch's step with the current weights; `epoch`, with the
 * weights of the start of the epoch (as if the whole training set's points were made then).
 */
export const BOUNDARY_REGENERATIONS = ['batch', 'epoch'] as const;
export type BoundaryRegeneration = (typeof BOUNDARY_REGENERATIONS)[number];

/** The retraining recipe: the search, the weight λ of the boundary term and when points are regenerated. */
export interface BoundaryRetraining extends BoundarySearch {
  readonly lambda: number;
  readonly regenerate: BoundaryRegeneration;
}

export interface BoundaryRetrainingInit {
  readonly attack?: string;
  readonly norm?: string;
  readonly steps?: number;
  readonly overshoot?: number;
  readonly bisectionSteps?: number;
  readonly lambda?: number;
  readonly regenerate?: string;
}

/** Defaults: DeepFool in L2 with 10 iterations, a 2% push, 10 bisection steps, λ = 1, made every epoch. */
export const BOUNDARY_RETRAINING_DEFAULTS = { attack: 'deepfool', norm: 'l2', steps: 10, overshoot: 0.02, bisectionSteps: 10, lambda: 1, regenerate: 'epoch' } as const;

function fail(message: string): never {
  throw new QrobustError('invalid_option', message);
}

/** Fills in the defaults and checks the values. */
export function resolveBoundaryRetraining(init: BoundaryRetrainingInit = {}): BoundaryRetraining {
  const d = BOUNDARY_RETRAINING_DEFAULTS;
  const attack = init.attack ?? d.attack;
  if (!(BOUNDARY_SEARCHES as readonly string[]).includes(attack)) fail(`--boundary-attack must be ${BOUNDARY_SEARCHES.join(' or ')}, got '${attack}'`);
  const norm = init.norm ?? d.norm;
  if (norm !== 'l2' && norm !== 'linf') fail(`--norm must be l2 or linf, got '${norm}'`);
  const steps = init.steps ?? d.steps;
  if (!Number.isInteger(steps) || steps < 1) fail(`--steps must be a positive integer, got ${steps}`);
  const overshoot = init.overshoot ?? d.overshoot;
  if (!Number.isFinite(overshoot) || overshoot < 0) fail(`--overshoot must be a number >= 0, got ${overshoot}`);
  const bisectionSteps = init.bisectionSteps ?? d.bisectionSteps;
  if (!Number.isInteger(bisectionSteps) || bisectionSteps < 0) fail(`--bisection-steps must be an integer >= 0, got ${bisectionSteps}`);
  const lambda = init.lambda ?? d.lambda;
  if (!Number.isFinite(lambda) || lambda < 0) fail(`--lambda must be a number >= 0, got ${lambda}`);
  const regenerate = init.regenerate ?? d.regenerate;
  if (!(BOUNDARY_REGENERATIONS as readonly string[]).includes(regenerate)) fail(`--regenerate must be ${BOUNDARY_REGENERATIONS.join(' or ')}, got '${regenerate}'`);
  return { attack: attack as BoundarySearchAttack, norm: norm as Norm, steps, overshoot, bisectionSteps, lambda, regenerate: regenerate as BoundaryRegeneration };
}

function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D;
}

/**
 * The per-sample-weighted loss: mean CE on the clean batch plus λ times the mean CE on the found pushed points
 * (zero when none was found).
 */
export function boundaryRetrainingLoss(lambda: number, clean: tf.Tensor2D, pushed: tf.Tensor2D, labels: tf.Tensor1D, found: Uint8Array): tf.Scalar {
  return tf.tidy(() => {
    const count = found.reduce((a, f) => a + f, 0);
    const cleanLoss = tf.mean(crossEntropy(clean, labels));
    if (count === 0 || lambda === 0) return cleanLoss as tf.Scalar;
    const mask = tf.tensor1d(Float32Array.from(found));
    const boundaryLoss = tf.div(tf.sum(tf.mul(crossEntropy(pushed, labels), mask)), count);
    return tf.add(cleanLoss, tf.mul(boundaryLoss, lambda)) as tf.Scalar;
  });
}

/**
 * The QAT objective of boundary retraining. The clean pass comes first, so EMA activation ranges (when the spec
 * quantizes activations) follow the clean inputs. Seeded (FAB's restarts draw from it); one thread.
 */
export function boundaryQatObjective(recipe: BoundaryRetraining, seed: number): QatStepObjective {
  const rng = new Rng(seed);
  return {
    epochSnapshot: recipe.regenerate === 'epoch',
    prepare(network, batch, _step, epochStart) {
      const labels = Int32Array.from(batch.labels.dataSync());
      const points = findBoundaryPoints(recipe.regenerate === 'epoch' ? epochStart! : network, batch.x, labels, recipe, rng);
      points.boundary.dispose();
      return {
        loss(forward) {
          const clean = forward(batch.x);
          const pushed = forward(points.pushed);
          return { loss: boundaryRetrainingLoss(recipe.lambda, clean, pushed, batch.labels, points.found), logits: clean };
        },
        dispose: () => points.pushed.dispose(),
      };
    },
  };
}
