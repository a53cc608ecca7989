/**
 * One loader for every model directory: a plain directory gives the TF.js layers model as a `Classifier`, a
 * quantized directory gives its fake-quant classifier or, with `integer`, its integer-exact classifier; an imported
 * quantized network (`sourceQuantization` in qrobust.json: TFLite dynamic-range or full-integer) gives its
 * fake-quant or, with `integer`, its deployed classifier; an ensemble directory (`ensemble` in qrobust.json) gives
 * the ensemble of its members, each loaded here with the same options (with `integer`, full-precision members
 * stay float: they have no integer form). A directory with an `inputMap` (Song et al.'s non-linear mapping,
 * `qrobust defend --method nonlinear-map`) gives that classifier behind its map.
 */
import { stat } from 'node:fs/promises';
import { QrobustError } from '../core/errors.js';
import { LayersClassifier, type Classifier } from '../models/classifier.js';
import { loadModel } from '../models/io.js';
import { readMetadata, type ModelMetadata } from '../models/metadata.js';
import type { QuantGradient } from './fake-quant.js';
import type { RequantRounding } from './integer/fixed-point.js';
import { isEnsembleMeta, loadEnsembleClassifier } from '../defenses/ensemble-dir.js';
import { MappedClassifier } from '../defenses/mapped-classifier.js';
import { inputMapOf } from '../defenses/nonlinear-map.js';
import { loadSourceQuantizedClassifier } from './hybrid/load-hybrid.js';
import { sourceQuantizationOf } from './hybrid/record.js';
import { boundsOf, fakeQuantClassifier, integerClassifier } from './ptq.js';
import { isQuantizedMeta, loadQuantizedModel, type QuantizationRecord } from './quantized-dir.js';

/** @throws QrobustError('not_a_model') unless `dir` is an existing directory. */
export async function assertDirectory(dir: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch {
    throw new QrobustError('not_a_model', `${dir}: no such model directory`);
  }
  if (!isDir) throw new QrobustError('not_a_model', `${dir} is not a directory (expected a qrobust model directory)`);
}

export interface LoadClassifierOptions {
  /** Run the integer-exact path (quantized directories only). */
  readonly integer?: boolean;
  /**
   * Gradient through quantizers on the fake-quant path (default 'ste'), and through an input map: 'ste' is its
   * BPDA (identity) gradient, otherwise its exact derivative.
   */
  readonly gradient?: QuantGradient;
  /** Requantization rounding on the integer path (default: the model's deployed runtime's; TFLite's 'double' unless recorded). */
  readonly rounding?: RequantRounding;
}

export interface LoadedClassifier {
  readonly classifier: Classifier;
  readonly meta: ModelMetadata;
  readonly quantized: boolean;
}

/**
 * Loads a model directory as a `Classifier`.
 * @throws QrobustError('invalid_argument') for `integer` on a model that is not quantized,
 *   QrobustError('not_integer_executable') when the quantized model has no integer form.
 */
export async function loadClassifier(dir: string, options: LoadClassifierOptions = {}): Promise<LoadedClassifier> {
  await assertDirectory(dir);
  const meta = await readMetadata(dir);
  const map = inputMapOf(meta, dir);
  const loaded = await loadUnmapped(dir, meta, options);
  if (!map) return loaded;
  return { ...loaded, classifier: new MappedClassifier(loaded.classifier, map, options.gradient === 'ste' ? 'bpda' : 'exact') };
}

async function loadUnmapped(dir: string, meta: ModelMetadata, options: LoadClassifierOptions): Promise<LoadedClassifier> {
  if (isEnsembleMeta(meta)) {
    const { classifier, quantized } = await loadEnsembleClassifier(dir, meta, async (member) => {
      const memberMeta = await readMetadata(member);
      const floatMember = !isQuantizedMeta(memberMeta) && !sourceQuantizationOf(memberMeta, member);
      return loadClassifier(member, floatMember ? { ...options, integer: false } : options);
    });
    return { classifier, meta, quantized };
  }
  const sourceQuantization = isQuantizedMeta(meta) ? undefined : sourceQuantizationOf(meta, dir);
  if (sourceQuantization) {
    // An imported quantized network: its own deployed semantics, or their fake-quant counterpart.
    const classifier = await loadSourceQuantizedClassifier(dir, sourceQuantization, {
      bounds: boundsOf(meta),
      ...(options.integer ? { integer: true } : {}),
      ...(options.gradient ? { gradient: options.gradient } : {}),
      ...(options.rounding ? { rounding: options.rounding } : {}),
    }, meta);
    return { classifier, meta, quantized: true };
  }
  if (!isQuantizedMeta(meta)) {
    if (options.integer) {
      throw new QrobustError('invalid_argument', `${dir} is a full-precision model; the integer path needs a quantized model (see qrobust quantize)`);
    }
    const loaded = await loadModel(dir, meta);
    return { classifier: new LayersClassifier(loaded.model, boundsOf(meta)), meta, quantized: false };
  }
  const qm = await loadQuantizedModel(dir, meta);
  const rounding = options.rounding ?? (meta['quantization'] as QuantizationRecord).deployedRounding;
  const classifier = options.integer
    ? integerClassifier(qm, rounding ? { rounding } : {})
    : fakeQuantClassifier(qm, options.gradient ? { gradient: options.gradient } : {});
  return { classifier, meta, quantized: true };
}
