/**
 * `defend --method nonlinear-map`: puts Song et al.'s non-linear input map (`nonlinear-map.ts`) in front of a
 * model directory. The map is a fixed transform with no weights, so it lives in `qrobust.json` (`inputMap`),
 * and `loadClassifier` puts it in front of the network for every command that loads a classifier.
 * - Without `epochs`: the parent directory (float, quantized or imported) is copied as it is, with the map added.
 * - With `epochs`: the network is fine-tuned behind the map, on mapped training images: a float parent by
 *   `trainModel`, a quantized parent (or a float one with `bits`) by quantization-aware training.
 */
import { cp } from 'node:fs/promises';
import { initBackend } from '../backend/backend.js';
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { versions } from '../core/versions.js';
import { loadDataset, type ImageDataset } from '../data/index.js';
import type { Classifier } from '../models/classifier.js';
import { loadModel, saveModel } from '../models/io.js';
import { readMetadata, writeMetadata, type ModelMetadata } from '../models/metadata.js';
import { trainModel } from '../models/train.js';
import { loadClassifier } from '../quant/load-classifier.js';
import { boundsOf } from '../quant/ptq.js';
import type { QatOptions, QatStepObjective } from '../quant/qat.js';
import { isQuantizedMeta } from '../quant/quantized-dir.js';
import { isEnsembleMeta } from '../defenses/ensemble-dir.js';
import { refuseInputMap } from '../defenses/input-map-guard.js';
import { MappedClassifier } from '../defenses/mapped-classifier.js';
import { applyNonlinearMap, resolveNonlinearMap, type NonlinearMapRecord } from '../defenses/nonlinear-map.js';
import { FINE_TUNE_DEFAULTS } from './defend-qat.js';
import type { DefendedModel, DefendOptions, DefendResult, DefenseRecord } from './defend.js';
import { evaluateOn, qatDefense } from './defend-qat.js';

/** QAT on mapped inputs: the cross-entropy of the network on m(x). */
function mappedQatObjective(map: NonlinearMapRecord): QatStepObjective {
  return {
    prepare(_network, batch) {
      const mapped = applyNonlinearMap(batch.x, map);
      return {
        loss(forward) {
          const logits = forward(mapped);
          return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(batch.labels, logits.shape[1]), logits) as tf.Scalar, logits };
        },
        dispose: () => mapped.dispose(),
      };
    },
  };
}

async function withMap(dir: string, map: NonlinearMapRecord, defense: DefenseRecord, test: ImageDataset | undefined): Promise<DefendedModel['testAccuracy']> {
  const meta = await readMetadata(dir);
  const withField: ModelMetadata = { ...meta, inputMap: map, defense };
  await writeMetadata(dir, withField);
  if (!test) return undefined;
  const { classifier } = await loadClassifier(dir);
  try {
    const testAccuracy = evaluateOn(classifier, test);
    await writeMetadata(dir, { ...withField, testAccuracy });
    return testAccuracy;
  } finally {
    classifier.dispose();
  }
}

export async function defendNonlinearMap(o: DefendOptions): Promise<DefendResult> {
  if (o.dir === undefined) throw new QrobustError('invalid_argument', 'defend --method nonlinear-map: missing DIR (the model to put the map in front of)');
  const stray = (['epsilon', 'steps', 'stepSize', 'beta'] as const).find((k) => o[k] !== undefined);
  if (stray) throw new QrobustError('invalid_option', `--${{ epsilon: 'eps', steps: 'steps', stepSize: 'step-size', beta: 'beta' }[stray]} is not an option of --method nonlinear-map`);
  const backend = await initBackend(o.backend);
  const parentMeta = await readMetadata(o.dir);
  if (isEnsembleMeta(parentMeta)) throw new QrobustError('invalid_argument', `defend --method nonlinear-map: ${o.dir} is an ensemble; map its members instead`);
  refuseInputMap(parentMeta, o.dir, 'defend --method nonlinear-map');
  const quantizedParent = isQuantizedMeta(parentMeta);
  if (quantizedParent && o.bits?.length) throw new QrobustError('invalid_option', `--bits: ${o.dir} is quantized already (leave out --bits)`);
  if (o.bits?.length && o.epochs === undefined) throw new QrobustError('invalid_option', '--bits with --method nonlinear-map needs --epochs (quantization-aware fine-tuning behind the map); or quantize first, then add the map');
  const map = resolveNonlinearMap({ ...(o.levels !== undefined ? { levels: o.levels } : {}), ...(o.steepness !== undefined ? { steepness: o.steepness } : {}) }, boundsOf(parentMeta));
  const seed = o.seed ?? 0;
  const test = o.evalN === 0 ? undefined : await loadDataset(parentMeta.dataset, 'test', o.evalN !== undefined ? { dataDir: o.dataDir, n: o.evalN, seed } : { dataDir: o.dataDir });
  const base = { method: 'nonlinear-map' as const, parent: o.dir, seed, map: map.kind, levels: map.levels, steepness: map.steepness, range: map.range };
  const start = performance.now();

  if (o.epochs === undefined) {
    await cp(o.dir, o.out, { recursive: true });
    const testAccuracy = await withMap(o.out, map, { ...base, epochs: 0 }, test);
    const label = quantizedParent ? String((parentMeta['quantization'] as { label?: string }).label ?? 'quantized') : parentMeta['sourceQuantization'] !== undefined ? 'imported' : 'float';
    return { method: 'nonlinear-map', models: [{ dir: o.out, label, ...(testAccuracy ? { testAccuracy } : {}), seconds: (performance.now() - start) / 1000 }] };
  }

  const epochs = o.epochs;
  const batchSize = o.batchSize ?? FINE_TUNE_DEFAULTS.batchSize;
  const learningRate = o.learningRate ?? FINE_TUNE_DEFAULTS.learningRate;
  const train = await loadDataset(parentMeta.dataset, 'train', o.n !== undefined ? { dataDir: o.dataDir, n: o.n, seed } : { dataDir: o.dataDir });
  const common = { epochs, batchSize, learningRate };
  const started = (label: string): void => o.onStart?.({ label, dataset: train.name, trainCount: train.count, epochs, stepsPerEpoch: Math.ceil(train.count / batchSize) });
  const record = (seconds: number, training: string): DefenseRecord => ({ ...base, ...common, trainCount: train.count, seconds, training });

  if (!quantizedParent && !o.bits?.length) {
    const loaded = await loadModel(o.dir);
    try {
      started('float');
      const report = await trainModel(loaded.model, train, {
        ...common,
        seed,
        stepHook: { makeStep: async (batch) => ({ x: applyNonlinearMap(batch.x, map), labels: batch.labels.clone() }) },
        ...(o.workers !== undefined ? { workers: o.workers } : {}),
        ...(o.onStep ? { onStep: o.onStep } : {}),
        ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
      });
      const { testAccuracy: _parentAccuracy, ...parentFields } = loaded.meta;
      const meta: ModelMetadata = {
        ...parentFields,
        training: { epochs, batchSize, optimizer: 'adam', learningRate, schedule: 'cosine', augmentation: 'none', trainCount: train.count, seconds: report.seconds, imagesPerSecond: report.imagesPerSecond, workers: report.workers },
        versions: { ...versions(), backend: backend.name },
        createdAt: new Date().toISOString(),
      };
      await saveModel(o.out, loaded.model, meta);
      const testAccuracy = await withMap(o.out, map, record(report.seconds, 'float'), test);
      return { method: 'nonlinear-map', models: [{ dir: o.out, label: 'float', ...(testAccuracy ? { testAccuracy } : {}), seconds: (performance.now() - start) / 1000 }] };
    } finally {
      loaded.model.dispose();
    }
  }

  const qat: QatOptions = { ...common, seed, objective: mappedQatObjective(map), ...(o.onStep ? { onStep: o.onStep } : {}), ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}) };
  const models = await qatDefense({ options: o, quantizedParent, train, test, qat, started, record: (seconds, label) => record(seconds, `qat ${label}`), through: (c: Classifier) => new MappedClassifier(c, map) });
  for (const m of models) {
    const meta = await readMetadata(m.dir);
    await writeMetadata(m.dir, { ...meta, inputMap: map });
  }
  return { method: 'nonlinear-map', models };
}


