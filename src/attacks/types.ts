/**
 * The one calling convention every attack follows. An attack is a pure function of a classifier, a batch of
 * inputs `[N, H, W, C]` inside the classifier's bounds, the true labels and its options (ε, norm, optional
 * target labels, a seeded `Rng`); it returns the adversarial inputs plus, per sample, success, perturbation
 * norms and the number of model calls it spent. Targeting is a value passed in, never state held by the attack.
 */
import type { tf } from '../backend/tf.js';
import type { Rng } from '../core/rng.js';
import type { Classifier } from '../models/classifier.js';

/**
 * What an attack needs from the classifier: input gradients (white-box), scores (logits of every query, e.g.
 * Square, SPSA) or decisions (the predicted label only, e.g. HopSkipJump). Score- and decision-based attacks
 * also run on classifiers without gradients, such as the integer-exact path of a quantized model.
 */
export type AttackAccess = 'gradient' | 'scores' | 'decision';

/** Threat model: the norm bounding the perturbation. */
export type Norm = 'linf' | 'l2';
export const NORMS: readonly Norm[] = ['linf', 'l2'];

/**
 * The loss an attack ascends.
 * - `ce`: cross-entropy of the true class (untargeted) or minus cross-entropy of the target class (targeted).
 * - `margin`: the Carlini-Wagner margin (Carlini & Wagner 2017, "Towards Evaluating the Robustness of Neural
 *   Networks", arXiv 1608.04644), `max_{j≠y} z_j − z_y` untargeted and `z_t − max_{j≠t} z_j` targeted; positive
 *   exactly when the sample is adversarial.
 * - `dlr`: the difference-of-logits ratio (Croce & Hein 2020, arXiv 2003.01690), the margin divided by the
 *   spread of the top logits; needs at least 3 classes (4 when targeted).
 */
export type LossName = 'ce' | 'margin' | 'dlr';
export const LOSSES: readonly LossName[] = ['ce', 'margin', 'dlr'];

/** Options shared by all attacks; each attack reads the ones it needs and rejects the rest. */
export interface AttackOptions {
  /** Radius of the perturbation ball in pixel units (inputs in [0,1]). Required, ≥ 0. */
  readonly epsilon: number;
  /** Threat model (default: the attack's first supported norm). */
  readonly norm?: Norm;
  /** Target class per sample; when given the attack is targeted. */
  readonly targets?: Int32Array | null;
  readonly loss?: LossName;
  /** Number of gradient steps (iterative attacks). */
  readonly steps?: number;
  /** Absolute step size; overrides `relStepSize`. */
  readonly stepSize?: number;
  /** Step size as a multiple of ε. */
  readonly relStepSize?: number;
  /** Start from a uniformly random point of the ε-ball (PGD). */
  readonly randomStart?: boolean;
  /** Number of runs from independent random starts; the per-sample worst case is kept. */
  readonly restarts?: number;
  /** Momentum decay factor μ (MIM). */
  readonly decay?: number;
  /** Relative overshoot past the estimated decision boundary (DeepFool). */
  readonly overshoot?: number;
  /** Stop updating a sample once it is adversarial (default true). */
  readonly earlyStop?: boolean;
  /** C&W: required margin κ of the adversarial logit over the others (0: just cross the boundary). */
  readonly confidence?: number;
  /** C&W: rounds of the binary search over the trade-off constant c. */
  readonly binarySearchSteps?: number;
  /** C&W: starting value of the trade-off constant c. */
  readonly initialConst?: number;
  /** Adam learning rate (C&W, SPSA). */
  readonly learningRate?: number;
  /** Query budget per sample, every model call counted (Square, HopSkipJump, the Square member of `auto`). */
  readonly maxQueries?: number;
  /** Square: initial fraction p of the pixels a square covers; it shrinks on the paper's schedule. */
  readonly pInit?: number;
  /** Model evaluations per gradient estimate (SPSA; HopSkipJump's first estimate, which then grows as √t). */
  readonly samples?: number;
  /** SPSA: size δ of the finite-difference perturbation. */
  readonly delta?: number;
  /** APGD-T: how many of the highest-scoring wrong classes are tried as targets, one run each. */
  readonly targetClasses?: number;
  /**
   * Expectation over transformation: each loss gradient is the mean over this many forward-and-backward
   * passes, for randomized classifiers (Athalye, Carlini & Wagner 2018, arXiv 1802.00420). 1 for deterministic ones.
   */
  readonly eot?: number;
  /** Source of randomness; default `new Rng(seed ?? 0)`. */
  readonly rng?: Rng;
  readonly seed?: number;
}

/** Option names an attack may declare it uses (beyond `epsilon`, `norm`, `targets`, `rng`, `seed`). */
export type AttackOptionName = Exclude<keyof AttackOptions, 'epsilon' | 'norm' | 'targets' | 'rng' | 'seed'>;

/** Options after defaults are merged and values validated. */
export interface ResolvedOptions {
  readonly epsilon: number;
  readonly norm: Norm;
  readonly targets: Int32Array | null;
  readonly loss: LossName;
  readonly steps: number;
  /** Absolute step size. */
  readonly stepSize: number;
  readonly randomStart: boolean;
  readonly restarts: number;
  readonly decay: number;
  readonly overshoot: number;
  readonly earlyStop: boolean;
  readonly confidence: number;
  readonly binarySearchSteps: number;
  readonly initialConst: number;
  readonly learningRate: number;
  /** Infinity when the attack has no budget. */
  readonly maxQueries: number;
  readonly pInit: number;
  readonly samples: number;
  readonly delta: number;
  readonly targetClasses: number;
  readonly eot: number;
  readonly rng: Rng;
}

/** What one attack call returns. The caller owns (and disposes) `adversarial`. */
export interface AttackResult {
  /** Adversarial inputs `[N, H, W, C]`, inside the ε-ball around the inputs and inside the classifier's bounds. */
  readonly adversarial: tf.Tensor4D;
  /** 1 where the sample is adversarial: misclassified (untargeted) or classified as its target (targeted). */
  readonly success: Uint8Array;
  /** ‖x_adv − x‖∞ per sample. */
  readonly linf: Float32Array;
  /** ‖x_adv − x‖₂ per sample. */
  readonly l2: Float32Array;
  /** Model calls (a forward pass or a forward-and-gradient pass) that involved the sample. */
  readonly queries: Int32Array;
  /**
   * Ensembles only: per sample, the member that made it adversarial ('clean' when it was adversarial before
   * any attack), or null when none did.
   */
  readonly brokenBy?: readonly (string | null)[];
}

/**
 * What a minimum-norm attack (C&W, DeepFool, HopSkipJump) finds before any ε is applied: per sample the
 * adversarial point of smallest perturbation it found, or the input itself where it found none.
 */
export interface MinimumNormResult {
  readonly adversarial: tf.Tensor4D;
  readonly queries: Int32Array;
}

/** An attack in the registry: its name, what it supports, its defaults and the algorithm. */
export interface AttackSpec {
  /** Registry key, lower case (e.g. 'pgd'). */
  readonly name: string;
  /** One line: the attack and its paper. */
  readonly summary: string;
  /** Supported norms; the first is the default. */
  readonly norms: readonly Norm[];
  readonly targeted: boolean;
  /** What the attack needs from the classifier. */
  readonly access: AttackAccess;
  /** Options this attack reads; any other option given is an error. */
  readonly uses: readonly AttackOptionName[];
  /** Defaults for the options it uses (`relStepSize` may depend on `steps`). */
  readonly defaults: Partial<Pick<AttackOptions, AttackOptionName>>;
  /** The algorithm, on validated options. `x` is not disposed. */
  run(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, options: ResolvedOptions): AttackResult;
  /**
   * Minimum-norm attacks only: the search without ε (`options.epsilon` is ignored). `run` is this search
   * followed by `fixedEpsilon`; `runAttack` searches once and applies every ε of its list to the result.
   */
  minimize?(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, options: ResolvedOptions): MinimumNormResult;
}
