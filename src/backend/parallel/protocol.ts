/**
 * Messages between the main thread and a replica worker. Every request carries an `id`; the worker answers each
 * with exactly one reply of the same id, in order. Float data travels as Float32Array/Int32Array whose buffers are
 * transferred, never shared.
 */
import type { BackendName } from '../backend.js';
import type { InputLossName } from './losses.js';
import type { WeightLayout } from './replica.js';
import type { ShardParams, ShardPlace } from './shard-tasks.js';

export interface InitRequest {
  readonly op: 'init';
  readonly backend: BackendName;
  readonly fastKernels: boolean;
  /** Module URLs to import before deserialising (custom layers register themselves when imported). */
  readonly modules: readonly string[];
  /** `model.toJSON(null, false)`. */
  readonly topology: unknown;
  /** The main thread's layout; the replica checks that its own matches. */
  readonly layout: WeightLayout;
  /** All weights, packed as by `packWeights`. */
  readonly weights: Float32Array;
}

export interface SetWeightsRequest {
  readonly op: 'setWeights';
  readonly weights: Float32Array;
}

export interface InputGradientRequest {
  readonly op: 'inputGradient';
  readonly x: Float32Array;
  /** [n, ...inputShape] */
  readonly shape: readonly number[];
  readonly labels: Int32Array;
  readonly loss: InputLossName;
  /** Fresh weights to apply first, when the main thread changed them since the last request. */
  readonly weights?: Float32Array;
}

export interface WeightGradientsRequest {
  readonly op: 'weightGradients';
  readonly x: Float32Array;
  readonly shape: readonly number[];
  readonly labels: Int32Array;
  /** Loss is `scale · Σ CE` over the shard (1 / full batch size, so shard results add up). */
  readonly scale: number;
  readonly weights?: Float32Array;
  /** A registered shard loss to use instead of cross-entropy, its parameters and companion input (see `shard-tasks`). */
  readonly objective?: { readonly loss: string; readonly params: ShardParams; readonly companion?: Float32Array };
}

/** Runs a registered shard transform on the shard (see `shard-tasks`). */
export interface TransformRequest {
  readonly op: 'transform';
  readonly name: string;
  readonly x: Float32Array;
  readonly shape: readonly number[];
  readonly labels: Int32Array;
  readonly params: ShardParams;
  readonly place: ShardPlace;
  readonly weights?: Float32Array;
}

export interface PingRequest {
  readonly op: 'ping';
}

export type Request = InitRequest | SetWeightsRequest | InputGradientRequest | WeightGradientsRequest | TransformRequest | PingRequest;

export interface InitResult {
  readonly backend: string;
  readonly fastKernels: boolean;
}

export interface InputGradientResult {
  readonly grad: Float32Array;
  readonly loss: Float32Array;
  readonly logits: Float32Array;
  /** Milliseconds the worker spent on the request (compute and copies, not the message passing). */
  readonly ms: number;
}

export interface WeightGradientsResult {
  readonly loss: number;
  readonly correct: number;
  /** Gradients of the trainable weights, packed in `model.trainableWeights` order. */
  readonly grads: Float32Array;
  /** Batch-norm moving averages after the step, packed as by `packBatchNormState` (empty without batch norm). */
  readonly batchNorm: Float32Array;
  readonly ms: number;
}

export interface TransformResult {
  /** The transformed shard, laid out as the input. */
  readonly x: Float32Array;
  readonly ms: number;
}

export interface ResultOf {
  init: InitResult;
  setWeights: null;
  inputGradient: InputGradientResult;
  weightGradients: WeightGradientsResult;
  transform: TransformResult;
  ping: null;
}

export type Envelope<T> = T & { readonly id: number };

export type Reply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { readonly name: string; readonly message: string; readonly stack?: string } };
