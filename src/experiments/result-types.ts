/**
 * The `result` of each task kind as it is stored in `results.jsonl`. Per-sample outcomes (predicted labels) are
 * stored, not only summaries, so that the metrics that pair samples across models (transfer, relative
 * robustness) are computed from the records alone.
 */
import type { AdaptiveEpsilonResult, AdaptiveResult, MemberOutcome } from '../attacks/adaptive.js';
import type { SkippedMember } from '../attacks/adaptive-members.js';
import type { DatasetDescription } from '../data/index.js';
import type { AlignmentSummary, GradientSummary } from '../metrics/gradient-alignment.js';
import type { LayerShift } from '../metrics/value-shift.js';
import type { EvaluationRecord } from '../models/metadata.js';
import type { QuantSpec } from '../quant/spec.js';

export interface DataResult {
  readonly dataset: DatasetDescription;
  readonly shape: readonly [number, number, number];
  readonly classNames: readonly string[];
  /** The true label of every sample of the slice, in slice order. */
  readonly labels: readonly number[];
  /** The first images of the slice, 8-bit NHWC, base64. */
  readonly examples: readonly string[];
}

export interface ModelResult {
  /** The model directory: relative to the experiment directory when the run made it. */
  readonly dir: string;
  readonly dataset: string;
  readonly arch: string;
  readonly quantized: boolean;
  /** Test accuracy recorded in the model's own metadata (full test split), if any. */
  readonly testAccuracy: EvaluationRecord | null;
  readonly weightsSha256: string;
}

export interface QuantizeResult extends ModelResult {
  readonly parent: string;
  readonly variant: string;
  /** The quantizer's short label, e.g. `w4-pc-a8-in8`. */
  readonly label: string;
  readonly spec: QuantSpec;
  readonly integerExecutable: boolean;
  readonly qat: { readonly epochs: number; readonly trainCount: number } | null;
}

export interface EvalResult {
  readonly accuracy: number;
  readonly predictions: readonly number[];
  /** The integer-exact path of a quantized model, when it has one. */
  readonly integer: { readonly accuracy: number; readonly predictions: readonly number[]; readonly agreement: number } | null;
}

export type GradientsResult = GradientSummary;

export interface AttackPoint {
  readonly eps: number;
  readonly robustAccuracy: number;
  readonly successRate: number;
  readonly meanPerturbation: number | null;
  readonly meanQueries: number;
  /** Predicted label of every adversarial input. */
  readonly predictions: readonly number[];
  readonly integer: {
    readonly robustAccuracy: number;
    readonly predictions: readonly number[];
    /** Adversarial inputs the integer and fake-quant paths label differently. */
    readonly disagreements: number;
  } | null;
  /** The first adversarial inputs, 8-bit, base64 (display only). */
  readonly examples: readonly string[];
}

export interface AttackTaskResult {
  readonly cleanAccuracy: number;
  readonly cleanPredictions: readonly number[];
  readonly integerCleanPredictions: readonly number[] | null;
  readonly points: readonly AttackPoint[];
}

export interface TransferPoint {
  readonly eps: number;
  readonly sourcePredictions: readonly number[];
  /** Each target's labels for the source's adversarial inputs. */
  readonly targets: Readonly<Record<string, readonly number[]>>;
}

export interface TransferResult {
  readonly sourceCleanPredictions: readonly number[];
  readonly targetCleanPredictions: Readonly<Record<string, readonly number[]>>;
  readonly points: readonly TransferPoint[];
}

export interface CompareResult {
  readonly n: number;
  readonly eps: number;
  /** Per conv/dense layer, in order. */
  readonly layers: readonly LayerShift[];
  /** Input-gradient alignment of the full-precision model and the variant (straight-through gradients). */
  readonly alignment: AlignmentSummary;
  /** Mean cross-entropy of both models on clean inputs and the first-order estimate of its change from the weights. */
  readonly loss: { readonly fp: number; readonly q: number; readonly measured: number; readonly firstOrderWeights: number };
}

export interface VerifySample {
  /** Position of the sample in the dataset's test file. */
  readonly index: number;
  readonly label: number;
  /** verified: proved robust by a sound method; falsified: a re-checked counterexample (or misclassified); unknown: undecided in time. */
  readonly outcome: 'verified' | 'falsified' | 'unknown';
  /** The stage that decided (e.g. 'ibp', 'crown', 'attack', 'milp', 'smt'). */
  readonly method: string;
}

export interface VerifyResult {
  /** What was verified: the float model, the fake-quant model or the deployed integer program. */
  readonly semantics: 'float' | 'fake-quant' | 'integer' | 'ensemble' | 'dynamic-range';
  readonly verified: number;
  readonly falsified: number;
  readonly unknown: number;
  readonly samples: readonly VerifySample[];
}

/** An adaptive evaluation (attacks/adaptive.ts): per ε the worst case over the members, their own figures and the masking flag. */
export interface AdaptiveTaskResult extends Omit<AdaptiveResult, 'results'> {
  /** As `AdaptiveResult.results`, with the members' wall times moved to the record's `run`. */
  readonly results: readonly (Omit<AdaptiveEpsilonResult, 'members'> & { readonly members: readonly Omit<MemberOutcome, 'seconds'>[] })[];
  readonly skipped: readonly SkippedMember[];
}
