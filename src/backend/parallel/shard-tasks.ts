/**
 * Computations on a shard that other modules add to data-parallel execution without this folder knowing them:
 * an input transform (a shard of inputs in, a tensor of the same shape out, e.g. adversarial training inputs)
 * and a training loss other than cross-entropy (e.g. TRADES). A module registers its tasks by name when it is
 * imported; `DataParallel.create({ workerModules: [url] })` makes every worker import it before its first shard,
 * so the main thread and the workers run the same code, selected by name across threads.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { tf } from '../tf.js';

/** Plain values that travel with a request (structured-clone safe). */
export type ShardParams = Readonly<Record<string, number | string | boolean>>;

/** Where a shard sits in the batch. */
export interface ShardPlace {
  /** Index in the batch of the shard's first sample. */
  readonly offset: number;
  /** Samples in the whole batch. */
  readonly batchSize: number;
}

/**
 * Maps a shard of inputs `[n, ...inputShape]` to a new tensor of the same shape (inference mode). Allocates only
 * the returned tensor.
 */
export type ShardTransform = (model: tfl.LayersModel, x: tf.Tensor, labels: tf.Tensor1D, params: ShardParams, place: ShardPlace) => tf.Tensor;

/**
 * A per-sample training loss `[n]` (training mode) and the logits whose predictions the training accuracy counts.
 * `companion` is a second input of x's shape that travels with the shard (null when the step has none).
 */
export type ShardLoss = (
  model: tfl.LayersModel,
  x: tf.Tensor,
  labels: tf.Tensor1D,
  companion: tf.Tensor | null,
  params: ShardParams,
) => { readonly perSample: tf.Tensor1D; readonly logits: tf.Tensor2D };

/** A training step's loss when it is not plain cross-entropy: a registered loss, its parameters and companion input. */
export interface TrainingObjective {
  readonly loss: string;
  readonly params: ShardParams;
  /** A second input of the batch's shape (e.g. the adversarial inputs); the caller keeps ownership. */
  readonly companion?: tf.Tensor;
}

const transforms = new Map<string, ShardTransform>();
const losses = new Map<string, ShardLoss>();

export function registerShardTransform(name: string, fn: ShardTransform): void {
  transforms.set(name, fn);
}

export function registerShardLoss(name: string, fn: ShardLoss): void {
  losses.set(name, fn);
}

export function shardTransform(name: string): ShardTransform {
  const fn = transforms.get(name);
  if (!fn) throw new Error(`no shard transform '${name}' is registered on this thread (is its module in workerModules?)`);
  return fn;
}

export function shardLoss(name: string): ShardLoss {
  const fn = losses.get(name);
  if (!fn) throw new Error(`no shard loss '${name}' is registered on this thread (is its module in workerModules?)`);
  return fn;
}
