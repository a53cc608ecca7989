/**
 * `defend --method boundary`: Song et al.'s boundary-based retraining of a weight-quantized model by
 * quantization-aware fine-tuning (`boundaryQatObjective`): a quantized parent under its own spec, or a float
 * parent quantized first at each of `bits` (weights only, uniform, symmetric, per tensor), as for adversarial QAT.
 */
import { initBackend } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { readMetadata } from '../models/metadata.js';
import type { QatOptions } from '../quant/qat.js';
import { isQuantizedMeta } from '../quant/quantized-dir.js';
import { boundaryQatObjective, resolveBoundaryRetraining } from '../defenses/boundary-retraining.js';
import { refuseInputMap } from '../defenses/input-map-guard.js';
import type { DefendOptions, DefendResult } from './defend.js';
import { fineTuneSetup, qatDefense } from './defend-qat.js';

export async function defendBoundary(o: DefendOptions): Promise<DefendResult> {
  if (o.dir === undefined) throw new QrobustError('invalid_argument', 'defend --method boundary: missing DIR (the model to retrain)');
  if (o.epsilon !== undefined || o.stepSize !== undefined || o.beta !== undefined) {
    throw new QrobustError('invalid_option', `--${o.epsilon !== undefined ? 'eps' : o.stepSize !== undefined ? 'step-size' : 'beta'} is for adversarial training, not --method boundary`);
  }
  await initBackend(o.backend);
  const parentMeta = await readMetadata(o.dir);
  refuseInputMap(parentMeta, o.dir, 'defend --method boundary');
  const quantizedParent = isQuantizedMeta(parentMeta);
  if (quantizedParent && o.bits?.length) throw new QrobustError('invalid_option', `--bits: ${o.dir} is quantized already; it is retrained under its own spec (leave out --bits)`);
  if (!quantizedParent && !o.bits?.length) throw new QrobustError('invalid_option', `--method boundary retrains a weight-quantized model: give a quantized DIR, or --bits to quantize ${o.dir} first`);
  const recipe = resolveBoundaryRetraining({
    ...(o.boundaryAttack !== undefined ? { attack: o.boundaryAttack } : {}),
    ...(o.norm !== undefined ? { norm: o.norm } : {}),
    ...(o.steps !== undefined ? { steps: o.steps } : {}),
    ...(o.overshoot !== undefined ? { overshoot: o.overshoot } : {}),
    ...(o.bisectionSteps !== undefined ? { bisectionSteps: o.bisectionSteps } : {}),
    ...(o.lambda !== undefined ? { lambda: o.lambda } : {}),
    ...(o.regenerate !== undefined ? { regenerate: o.regenerate } : {}),
  });
  const { seed, epochs, batchSize, learningRate, train, test } = await fineTuneSetup(o, parentMeta.dataset);
  const qat: QatOptions = {
    epochs,
    batchSize,
    learningRate,
    seed,
    objective: boundaryQatObjective(recipe, seed),
    ...(o.onStep ? { onStep: o.onStep } : {}),
    ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
  };
  const started = (label: string): void => o.onStart?.({ label, dataset: train.name, trainCount: train.count, epochs, stepsPerEpoch: Math.ceil(train.count / batchSize) });
  const models = await qatDefense({
    options: o,
    quantizedParent,
    train,
    test,
    qat,
    started,
    record: (seconds, label) => ({
      method: 'boundary',
      parent: o.dir!,
      seed,
      boundaryAttack: recipe.attack,
      norm: recipe.norm,
      steps: recipe.steps,
      overshoot: recipe.overshoot,
      bisectionSteps: recipe.bisectionSteps,
      lambda: recipe.lambda,
      regenerate: recipe.regenerate,
      epochs,
      batchSize,
      learningRate,
      trainCount: train.count,
      seconds,
      training: `qat ${label}`,
    }),
  });
  return { method: 'boundary', models };
}
