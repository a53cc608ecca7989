/**
 * The shard tasks of adversarial training, registered on whichever thread imports this module: the main thread
 * (through `training-hooks.ts`) and every training worker (its URL is in the hook's `workerModules`). Each
 * thread crafts the adversarial inputs of its own shard on its replica, so PGD, which costs `steps` forward and
 * backward passes per training step, runs on all threads like the training step itself.
 *
 * - transform `adversarial-inputs`: `craftTrainingInputs` on the shard; the shard's random start is seeded
 *   from the batch seed and the shard's place in the batch.
 * - loss `trades`: CE(f(x), y) + β·KL(f(x) ‖ f(x')) with x' the companion input; x and x' go through the
 *   model as one batch of 2n, so batch-norm layers take one step of statistics over both.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { registerShardLoss, registerShardTransform, type ShardParams } from '../backend/parallel/shard-tasks.js';
import { Rng } from '../core/rng.js';
import { LayersClassifier } from '../models/classifier.js';
import { adversarialTrainingLoss, craftTrainingInputs, isAdversarialTrainingMethod, type AdversarialTraining } from './adversarial-training.js';

export const ADVERSARIAL_INPUTS_TASK = 'adversarial-inputs';
export const TRADES_LOSS_TASK = 'trades';
/** This module, for `workerModules`. */
export const ADVERSARIAL_SHARD_TASKS_URL = import.meta.url;

/** The parameters that travel with a shard: the recipe, the classifier's bounds and the batch seed. */
export function adversarialShardParams(recipe: AdversarialTraining, bounds: readonly [number, number], seed: number): ShardParams {
  return { ...recipe, lower: bounds[0], upper: bounds[1], seed };
}

function recipeOf(p: ShardParams): AdversarialTraining {
  const method = String(p['method']);
  if (!isAdversarialTrainingMethod(method)) throw new Error(`unknown adversarial training '${method}'`);
  return { method, epsilon: Number(p['epsilon']), steps: Number(p['steps']), stepSize: Number(p['stepSize']), beta: Number(p['beta']) };
}

/** A shard's seed: the batch seed mixed with the shard's offset (the main shard, offset 0, keeps it). */
export function shardSeed(seed: number, offset: number): number {
  return (seed ^ Math.imul(offset, 0x9e3779b1)) >>> 0;
}

/** A replica (or the main model) as a classifier that leaves the model alone when released. */
function viewOf(model: tfl.LayersModel, p: ShardParams): LayersClassifier {
  return new LayersClassifier(model, [Number(p['lower']), Number(p['upper'])]);
}

registerShardTransform(ADVERSARIAL_INPUTS_TASK, (model, x, labels, params, place) => {
  const y = Int32Array.from(labels.dataSync());
  return craftTrainingInputs(viewOf(model, params), x as tf.Tensor4D, y, recipeOf(params), new Rng(shardSeed(Number(params['seed']), place.offset)));
});

registerShardLoss(TRADES_LOSS_TASK, (model, x, labels, companion, params) => {
  if (!companion) throw new Error('the TRADES loss needs the adversarial inputs as its companion');
  const n = x.shape[0]!;
  const both = model.apply(tf.concat([x, companion], 0), { training: true }) as tf.Tensor2D;
  const clean = tf.slice(both, [0, 0], [n, -1]) as tf.Tensor2D;
  const adversarial = tf.slice(both, [n, 0], [n, -1]) as tf.Tensor2D;
  return { perSample: adversarialTrainingLoss(recipeOf(params), clean, adversarial, labels), logits: clean };
});
