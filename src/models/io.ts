/**
 * Saving and loading models in the TF.js layers format (`model.json` + `weights.bin`), readable by
 * `tf.loadLayersModel` in a browser or in Node, plus qrobust's own `qrobust.json` beside them.
 * Written with plain `fs` so that no native TF.js package is needed.
 */
import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { readMetadata, writeMetadata, type ModelMetadata } from './metadata.js';
import './normalize-layer.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export interface LoadedModel {
  readonly model: tfl.LayersModel;
  readonly meta: ModelMetadata;
  readonly dir: string;
}

export async function saveModel(dir: string, model: tfl.LayersModel, meta: ModelMetadata): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      const buffers = weightData === undefined ? [] : Array.isArray(weightData) ? weightData : [weightData];
      const bytes = Buffer.concat(buffers.map((b) => Buffer.from(b)));
      const modelJson = {
        format: 'layers-model',
        generatedBy: `qrobust (TensorFlow.js tfjs-layers ${tfl.version_layers})`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(join(dir, WEIGHTS_BIN), bytes);
      await writeFile(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.length } };
    }),
  );
  await writeMetadata(dir, meta);
}

/**
 * Loads a model directory's TF.js model and its `qrobust.json`; a caller that has read the metadata already
 * passes it (`known`), so one load reads the file once.
 */
export async function loadModel(dir: string, known?: ModelMetadata): Promise<LoadedModel> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new QrobustError('not_a_model', `${dir} is not a directory (expected a qrobust model directory)`);
  } catch (e) {
    if (e instanceof QrobustError) throw e;
    throw new QrobustError('not_a_model', `${dir}: no such model directory`);
  }
  const meta = known ?? (await readMetadata(dir));
  if (typeof meta['ensemble'] === 'object' && meta['ensemble'] !== null) {
    throw new QrobustError('not_a_model', `${dir} is an ensemble of model directories (qrobust.json "ensemble"), not one network: this command needs one of its members`);
  }
  const jsonPath = join(dir, MODEL_JSON);
  let modelJson: { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    modelJson = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (e) {
    throw new QrobustError('not_a_model', `${jsonPath}: cannot read the TF.js model (${(e as Error).message})`);
  }
  if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new QrobustError('not_a_model', `${jsonPath}: not a TF.js layers model (modelTopology or weightsManifest missing)`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Buffer[] = [];
  for (const group of modelJson.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      try {
        chunks.push(await readFile(join(dir, p)));
      } catch {
        throw new QrobustError('not_a_model', `${join(dir, p)}: weight file listed in ${MODEL_JSON} is missing`);
      }
    }
  }
  const data = Buffer.concat(chunks);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (data.length !== expected) {
    throw new QrobustError('not_a_model', `${dir}: weights are ${data.length} bytes, ${MODEL_JSON} describes ${expected}`);
  }
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology as object, weightSpecs: specs, weightData }),
  );
  const inShape = model.inputs[0]!.shape.slice(1);
  if (JSON.stringify(inShape) !== JSON.stringify(meta.inputShape)) {
    throw new QrobustError(
      'shape_mismatch',
      `${dir}: model input shape [${inShape.join(',')}] differs from qrobust.json inputShape [${meta.inputShape.join(',')}]`,
    );
  }
  return { model, meta, dir };
}
