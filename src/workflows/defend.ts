/**
 * The library function behind `qrobust defend`: read a parent model directory, apply a defense, write a model
 * directory whose `qrobust.json` records the defense and its options (`defense`: method, ε, steps, step size,
 * β, epochs, seed, parent, ...). Adversarial training (`pgd-at`, `trades`) fine-tunes a float parent in float,
 * or with `bits` (or a quantized parent) by quantization-aware training; `ensemble` writes an ensemble
 * directory over member directories (given, and/or quantized from the parent at each of `bits`); `boundary`
 * (Song et al.'s boundary-based retraining) fine-tunes a weight-quantized model by QAT on clean and boundary
 * points; `nonlinear-map` (Song et al.'s non-linear mapping) puts a fixed input transform in front of a model.
 */
import type { BackendName } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import type { EvaluationRecord } from '../models/metadata.js';
import type { EpochSummary, TrainProgress } from '../models/train.js';
import type { WeightBits } from '../quant/spec.js';
import { isDefenseMethod, DEFENSE_METHODS, type DefenseMethod } from '../defenses/defense-names.js';
import type { EnsembleCombine } from '../defenses/ensemble.js';

export interface DefendOptions {
  readonly method: string;
  /** The parent model directory (optional for `ensemble` with `members`). */
  readonly dir?: string;
  readonly out: string;
  /** L∞ radius of adversarial training (default: 0.3 for MNIST and Fashion-MNIST, 8/255 for CIFAR-10). */
  readonly epsilon?: number;
  readonly steps?: number;
  readonly stepSize?: number;
  /** TRADES' β (default 6). */
  readonly beta?: number;
  /** Boundary retraining: the boundary search, 'deepfool' (default) or 'fab'. */
  readonly boundaryAttack?: string;
  /** Boundary retraining: the search's norm, 'l2' (default) or 'linf'. */
  readonly norm?: string;
  /** Boundary retraining: relative push past the located boundary (default 0.02). */
  readonly overshoot?: number;
  /** Boundary retraining: bisection steps that locate the crossing (default 10). */
  readonly bisectionSteps?: number;
  /** Boundary retraining: weight λ of the boundary-point loss (default 1). */
  readonly lambda?: number;
  /** Boundary retraining: 'epoch' (default, start-of-epoch weights) or 'batch' (each batch's current weights). */
  readonly regenerate?: string;
  /** Non-linear map: levels of the smooth staircase (default 8). */
  readonly levels?: number;
  /** Non-linear map: steepness τ of each step (default 100). */
  readonly steepness?: number;
  /** Training epochs (default 1; non-linear map: none, the network is not fine-tuned unless given). */
  readonly epochs?: number;
  /**
   * Adversarial training: weight widths to train quantization-aware (one output directory per width).
   * Ensemble: widths to quantize the parent to (post-training), each a member beside the parent.
   */
  readonly bits?: readonly WeightBits[];
  /** Ensemble: member directories. */
  readonly members?: readonly string[];
  readonly combine?: EnsembleCombine;
  /** Seed of the data subset, shuffling and the adversarial random starts (default 0). */
  readonly seed?: number;
  /** Train on a seeded subset of N training images (default: all). */
  readonly n?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  /** Evaluate on a seeded subset of N test images (default all; 0 skips). */
  readonly evalN?: number;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  /** Threads for float adversarial training (QAT runs on one). */
  readonly workers?: number;
  readonly onStart?: (info: { label: string; dataset: string; trainCount: number; epochs: number; stepsPerEpoch: number }) => void;
  readonly onStep?: (p: TrainProgress) => void;
  readonly onEpoch?: (e: EpochSummary) => void;
}

/** The `defense` field of a defended model's `qrobust.json`. */
export interface DefenseRecord {
  readonly method: DefenseMethod;
  /** The parent directory as given; null for an ensemble of given members only. */
  readonly parent: string | null;
  readonly seed: number;
  readonly [option: string]: unknown;
}

export interface DefendedModel {
  readonly dir: string;
  /** 'float', a quantization label ('w4', ...) or 'ensemble'. */
  readonly label: string;
  readonly testAccuracy?: EvaluationRecord;
  readonly integerAccuracy?: EvaluationRecord;
  readonly seconds: number;
}

export interface DefendResult {
  readonly method: DefenseMethod;
  readonly models: readonly DefendedModel[];
}

/** The default ε of adversarial training on a dataset, or undefined where there is no customary one. */
export function defaultEpsilon(dataset: string): number | undefined {
  if (dataset === 'mnist' || dataset === 'fashion-mnist') return 0.3;
  if (dataset === 'cifar10') return 8 / 255;
  return undefined;
}

/** The command-line flag of each boundary-only option. */
const FLAG = { boundaryAttack: 'boundary-attack', norm: 'norm', overshoot: 'overshoot', bisectionSteps: 'bisection-steps', lambda: 'lambda', regenerate: 'regenerate' } as const;

/**
 * Applies a defense.
 * @throws QrobustError('invalid_option') for an unknown method, or options that do not
 *   fit it.
 */
export async function defendModel(o: DefendOptions): Promise<DefendResult> {
  if (!isDefenseMethod(o.method)) throw new QrobustError('invalid_option', `--method: unknown defense '${o.method}' (defenses: ${DEFENSE_METHODS.join(', ')})`);
  const method = o.method;
  if (method === 'ensemble') {
    const { defendEnsemble } = await import('./defend-ensemble.js');
    return defendEnsemble(o);
  }
  if (o.members !== undefined || o.combine !== undefined) {
    throw new QrobustError('invalid_option', `--${o.members !== undefined ? 'members' : 'combine'} is only for --method ensemble`);
  }
  const boundaryOnly = (['boundaryAttack', 'norm', 'overshoot', 'bisectionSteps', 'lambda', 'regenerate'] as const).find((k) => o[k] !== undefined);
  if (boundaryOnly && method !== 'boundary') throw new QrobustError('invalid_option', `--${FLAG[boundaryOnly]} is only for --method boundary`);
  const mapOnly = (['levels', 'steepness'] as const).find((k) => o[k] !== undefined);
  if (mapOnly && method !== 'nonlinear-map') throw new QrobustError('invalid_option', `--${mapOnly} is only for --method nonlinear-map`);
  if (method === 'boundary') {
    const { defendBoundary } = await import('./defend-boundary.js');
    return defendBoundary(o);
  }
  if (method === 'nonlinear-map') {
    const { defendNonlinearMap } = await import('./defend-nonlinear-map.js');
    return defendNonlinearMap(o);
  }
  if (method !== 'pgd-at' && method !== 'trades') throw new Error(`defend: no workflow for '${method}'`);
  const { defendAdversarially } = await import('./defend-adversarial.js');
  return defendAdversarially({ ...o, method });
}
