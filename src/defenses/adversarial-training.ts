/**
 * Adversarial training as a per-batch recipe: how to craft a batch's training inputs and which loss to
 * minimise on them. The training loops call it (`trainModel` through `adversarialTrainingHook`, QAT through
 * `adversarialQatObjective`); the inputs are crafted by the attack engine's own PGD.
 *
 * - **PGD-AT** (Madry, Makelov, Schmidt, Tsipras & Vladu 2018, "Towards Deep Learning Models Resistant to
 *   Adversarial Attacks", arXiv 1706.06083): every training input is replaced by an L∞ PGD adversarial example
 *   (random start in the ε-ball, `steps` signed-gradient steps of size `stepSize` on the cross-entropy, no early
 *   stop), and the step minimises the cross-entropy on those alone.
 * - **TRADES** (Zhang, Yu, Jiao, Xing, El Ghaoui & Jordan 2019, "Theoretically Principled Trade-off between
 *   Robustness and Accuracy", arXiv 1901.08573): x' maximises KL(f(x) ‖ f(x')) in the ε-ball (PGD on that
 *   divergence, see `DivergenceClassifier`), and the step minimises CE(f(x), y) + β · KL(f(x) ‖ f(x')), the
 *   gradient flowing through both predictions.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { attack } from '../attacks/run.js';
import type { Classifier } from '../models/classifier.js';
import { DivergenceClassifier } from './divergence-classifier.js';

export const ADVERSARIAL_TRAINING_METHODS = ['pgd-at', 'trades'] as const;
export type AdversarialTrainingMethod = (typeof ADVERSARIAL_TRAINING_METHODS)[number];

/** A complete adversarial-training recipe (L∞ threat model, pixel units). */
export interface AdversarialTraining {
  readonly method: AdversarialTrainingMethod;
  readonly epsilon: number;
  /** PGD steps per training batch. */
  readonly steps: number;
  /** Absolute PGD step size. */
  readonly stepSize: number;
  /** TRADES' weight of the divergence term (recorded, and unused, for PGD-AT). */
  readonly beta: number;
}

export interface AdversarialTrainingInit {
  readonly method: AdversarialTrainingMethod;
  readonly epsilon: number;
  readonly steps?: number;
  readonly stepSize?: number;
  readonly beta?: number;
}

/** Defaults: 10 steps of 2.5·ε/steps (PGD's rule), β = 6 (TRADES' CIFAR-10 setting). */
export const ADVERSARIAL_TRAINING_DEFAULTS = { steps: 10, relStepSize: 2.5, beta: 6 } as const;

export function isAdversarialTrainingMethod(s: string): s is AdversarialTrainingMethod {
  return (ADVERSARIAL_TRAINING_METHODS as readonly string[]).includes(s);
}

function fail(message: string): never {
  throw new QrobustError('invalid_option', message);
}

/** Fills in the defaults and checks the values. */
export function resolveAdversarialTraining(init: AdversarialTrainingInit): AdversarialTraining {
  if (!isAdversarialTrainingMethod(init.method)) fail(`unknown adversarial training '${String(init.method)}': expected ${ADVERSARIAL_TRAINING_METHODS.join(' or ')}`);
  if (!Number.isFinite(init.epsilon) || init.epsilon <= 0) fail(`--eps must be a positive number, got ${init.epsilon}`);
  const steps = init.steps ?? ADVERSARIAL_TRAINING_DEFAULTS.steps;
  if (!Number.isInteger(steps) || steps < 1) fail(`--steps must be a positive integer, got ${steps}`);
  const stepSize = init.stepSize ?? (ADVERSARIAL_TRAINING_DEFAULTS.relStepSize * init.epsilon) / steps;
  if (!Number.isFinite(stepSize) || stepSize <= 0) fail(`--step-size must be a positive number, got ${stepSize}`);
  const beta = init.beta ?? ADVERSARIAL_TRAINING_DEFAULTS.beta;
  if (!Number.isFinite(beta) || beta < 0) fail(`--beta must be a number >= 0, got ${beta}`);
  return { method: init.method, epsilon: init.epsilon, steps, stepSize, beta };
}

/**
 * The training inputs of one batch: PGD adversarial examples of `classifier` (PGD-AT) or the TRADES
 * maximisers of the divergence from its clean predictions. `x` is not disposed; the caller owns the result.
 */
export function craftTrainingInputs(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, recipe: AdversarialTraining, rng: Rng): tf.Tensor4D {
  const pgdOptions = { epsilon: recipe.epsilon, norm: 'linf' as const, steps: recipe.steps, stepSize: recipe.stepSize, randomStart: true, earlyStop: false, rng };
  if (recipe.method === 'pgd-at') return attack('pgd', classifier, x, labels, { ...pgdOptions, loss: 'ce' }).adversarial;
  const divergence = new DivergenceClassifier(classifier, x);
  try {
    return attack('pgd', divergence, x, new Int32Array(labels.length), { ...pgdOptions, loss: 'margin' }).adversarial;
  } finally {
    divergence.dispose();
  }
}

/** Per-sample KL(softmax(p) ‖ softmax(q)) of two logit batches. */
export function klDivergence(p: tf.Tensor2D, q: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(p);
    return tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, tf.logSoftmax(q))), 1) as tf.Tensor1D;
  });
}

function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D;
}

/**
 * The per-sample training loss of the recipe: CE(f(x'), y) for PGD-AT (`clean` unused, may be null),
 * CE(f(x), y) + β·KL(f(x) ‖ f(x')) for TRADES.
 */
export function adversarialTrainingLoss(recipe: AdversarialTraining, clean: tf.Tensor2D | null, adversarial: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  if (recipe.method === 'pgd-at') return crossEntropy(adversarial, labels);
  if (!clean) throw new Error('TRADES needs the clean logits');
  return tf.add(crossEntropy(clean, labels), tf.mul(klDivergence(clean, adversarial), recipe.beta)) as tf.Tensor1D;
}
