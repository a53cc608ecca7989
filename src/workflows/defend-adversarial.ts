/**
 * `defend --method pgd-at|trades`: adversarial fine-tuning of a parent model directory.
 * - A float parent without `bits`: `trainModel` with the adversarial step hook (all threads); the result is a
 *   float directory (quantize it afterwards for "train adversarially, then quantize").
 * - A float parent with `bits`: adversarial quantization-aware training at each width, inputs crafted on the
 *   fake-quant network through the STE (one directory per width, named by its label when there are several).
 * - A quantized parent: adversarial QAT from its latent weights under its own spec ("quantize, then fine-tune
 *   adversarially").
 */
import { initBackend } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { versions } from '../core/versions.js';
import { LayersClassifier } from '../models/classifier.js';
import { loadModel, saveModel } from '../models/io.js';
import { readMetadata, type ModelMetadata } from '../models/metadata.js';
import { trainModel } from '../models/train.js';
import { boundsOf } from '../quant/ptq.js';
import type { QatOptions } from '../quant/qat.js';
import { isQuantizedMeta } from '../quant/quantized-dir.js';
import { refuseInputMap } from '../defenses/input-map-guard.js';
import { resolveAdversarialTraining, type AdversarialTraining, type AdversarialTrainingMethod } from '../defenses/adversarial-training.js';
import { adversarialQatObjective, adversarialTrainingHook } from '../defenses/training-hooks.js';
import { defaultEpsilon, type DefendedModel, type DefendOptions, type DefendResult, type DefenseRecord } from './defend.js';
import { evaluateOn, fineTuneSetup, qatDefense } from './defend-qat.js';


function record(recipe: AdversarialTraining, o: DefendOptions, extra: { epochs: number; batchSize: number; learningRate: number; trainCount: number; seconds: number; training: string }): DefenseRecord {
  return {
    method: recipe.method,
    parent: o.dir!,
    seed: o.seed ?? 0,
    epsilon: recipe.epsilon,
    norm: 'linf',
    steps: recipe.steps,
    stepSize: recipe.stepSize,
    ...(recipe.method === 'trades' ? { beta: recipe.beta } : {}),
    ...extra,
  };
}

export async function defendAdversarially(o: DefendOptions & { method: AdversarialTrainingMethod }): Promise<DefendResult> {
  if (o.dir === undefined) throw new QrobustError('invalid_argument', `defend --method ${o.method}: missing DIR (the model to train adversarially)`);
  const backend = await initBackend(o.backend);
  const parentMeta = await readMetadata(o.dir);
  refuseInputMap(parentMeta, o.dir, `defend --method ${o.method}`);
  const quantizedParent = isQuantizedMeta(parentMeta);
  if (quantizedParent && o.bits?.length) {
    throw new QrobustError('invalid_option', `--bits: ${o.dir} is quantized already; it is fine-tuned under its own spec (leave out --bits)`);
  }
  const epsilon = o.epsilon ?? defaultEpsilon(parentMeta.dataset);
  if (epsilon === undefined) throw new QrobustError('invalid_option', `--eps: no default radius for dataset '${parentMeta.dataset}'; give --eps`);
  const recipe = resolveAdversarialTraining({ method: o.method, epsilon, ...(o.steps !== undefined ? { steps: o.steps } : {}), ...(o.stepSize !== undefined ? { stepSize: o.stepSize } : {}), ...(o.beta !== undefined ? { beta: o.beta } : {}) });
  const { seed, epochs, batchSize, learningRate, train, test } = await fineTuneSetup(o, parentMeta.dataset);
  const common = { epochs, batchSize, learningRate };
  const started = (label: string): void => o.onStart?.({ label, dataset: train.name, trainCount: train.count, epochs, stepsPerEpoch: Math.ceil(train.count / batchSize) });
  const models: DefendedModel[] = [];

  if (!quantizedParent && !o.bits?.length) {
    // Float adversarial training.
    const start = performance.now();
    const loaded = await loadModel(o.dir);
    try {
      started('float');
      const report = await trainModel(loaded.model, train, {
        ...common,
        seed,
        stepHook: adversarialTrainingHook(recipe, boundsOf(loaded.meta), seed),
        ...(o.workers !== undefined ? { workers: o.workers } : {}),
        ...(o.onStep ? { onStep: o.onStep } : {}),
        ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
      });
      const testAccuracy = test ? evaluateOn(new LayersClassifier(loaded.model, boundsOf(loaded.meta)), test) : undefined;
      // The parent's test accuracy is not this model's: drop it, and record the new one when evaluated.
      const { testAccuracy: _parentAccuracy, ...parentFields } = loaded.meta;
      const meta: ModelMetadata = {
        ...parentFields,
        training: {
          epochs,
          batchSize,
          optimizer: 'adam',
          learningRate,
          schedule: 'cosine',
          augmentation: 'none',
          trainCount: train.count,
          seconds: report.seconds,
          imagesPerSecond: report.imagesPerSecond,
          workers: report.workers,
        },
        ...(testAccuracy ? { testAccuracy } : {}),
        defense: record(recipe, o, { ...common, trainCount: train.count, seconds: report.seconds, training: 'float' }),
        versions: { ...versions(), backend: backend.name },
        createdAt: new Date().toISOString(),
      };
      await saveModel(o.out, loaded.model, meta);
      models.push({ dir: o.out, label: 'float', ...(testAccuracy ? { testAccuracy } : {}), seconds: (performance.now() - start) / 1000 });
    } finally {
      loaded.model.dispose();
    }
    return { method: recipe.method, models };
  }

  // Adversarial quantization-aware training: from the float parent at each width, or the quantized parent's spec.
  const qat: QatOptions = {
    ...common,
    seed,
    objective: adversarialQatObjective(recipe, seed),
    ...(o.onStep ? { onStep: o.onStep } : {}),
    ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
  };
  models.push(...(await qatDefense({ options: o, quantizedParent, train, test, qat, started, record: (seconds, label) => record(recipe, o, { ...common, trainCount: train.count, seconds, training: `qat ${label}` }) })));
  return { method: recipe.method, models };
}
