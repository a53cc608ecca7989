/**
 * Adversarial training plugged into the two training loops: a `TrainingStepHook` for `trainModel` (float
 * models, data-parallel: each thread crafts its shard's inputs) and a `QatStepObjective` for quantization-aware
 * training (inputs crafted on the fake-quant network through its straight-through gradients, on the main
 * thread, since QAT runs there).
 */
import { tf } from '../backend/tf.js';
import { Rng } from '../core/rng.js';
import type { TrainingStepHook } from '../models/train.js';
import type { QatStepObjective } from '../quant/qat.js';
import { adversarialTrainingLoss, craftTrainingInputs, type AdversarialTraining } from './adversarial-training.js';
import { ADVERSARIAL_INPUTS_TASK, ADVERSARIAL_SHARD_TASKS_URL, TRADES_LOSS_TASK, adversarialShardParams } from './adversarial-shard-tasks.js';

/**
 * The hook that makes `trainModel` train adversarially. Every batch draws a seed from `seed`'s stream, so a run
 * is reproducible for a given seed, backend and thread count.
 * @param bounds the model's input range (where adversarial inputs are clipped).
 */
export function adversarialTrainingHook(recipe: AdversarialTraining, bounds: readonly [number, number], seed: number): TrainingStepHook {
  const rng = new Rng(seed);
  return {
    workerModules: [ADVERSARIAL_SHARD_TASKS_URL],
    // Each PGD step is a forward and backward pass; TRADES adds the clean half to the training pass.
    workFactor: recipe.steps + (recipe.method === 'trades' ? 2 : 1),
    async makeStep(batch, { parallel }) {
      const params = adversarialShardParams(recipe, bounds, rng.nextUint32());
      const crafted = (await parallel.transform(ADVERSARIAL_INPUTS_TASK, batch.x, batch.labels, params)) as tf.Tensor4D;
      if (recipe.method === 'pgd-at') return { x: crafted, labels: batch.labels.clone() };
      return { x: batch.x.clone(), labels: batch.labels.clone(), objective: { loss: TRADES_LOSS_TASK, params, companion: crafted } };
    },
  };
}

/** The objective that makes QAT train adversarially (seeded like `adversarialTrainingHook`, on one thread). */
export function adversarialQatObjective(recipe: AdversarialTraining, seed: number): QatStepObjective {
  const rng = new Rng(seed);
  return {
    prepare(network, batch) {
      const labels = Int32Array.from(batch.labels.dataSync());
      const crafted = craftTrainingInputs(network, batch.x, labels, recipe, rng);
      return {
        loss(forward) {
          // TRADES: the clean pass first, so that EMA activation ranges follow the clean inputs.
          const clean = recipe.method === 'trades' ? forward(batch.x) : null;
          const adversarial = forward(crafted);
          const perSample = adversarialTrainingLoss(recipe, clean, adversarial, batch.labels);
          return { loss: tf.mean(perSample) as tf.Scalar, logits: clean ?? adversarial };
        },
        dispose: () => crafted.dispose(),
      };
    },
  };
}
