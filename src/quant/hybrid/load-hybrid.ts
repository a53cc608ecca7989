/**
 * Classifiers with a source's own run-time quantization (`SourceQuantization`: dynamic-range or full-integer),
 * from the two places such a network comes from: an `ImportedNetwork` still in memory (its graph is built into a
 * TF.js model first, which puts the declared preprocessing in front and turns a `chw` flatten into reordered
 * kernel rows), and a model directory whose `qrobust.json` holds the record under `sourceQuantization`.
 */
import { QrobustError } from '../../core/errors.js';
import { buildLayersModel, type FrontEnd } from '../../import/build-layers.js';
import type { ImportedNetwork, SourceQuantization } from '../../import/types.js';
import type { Classifier } from '../../models/classifier.js';
import { graphFromModel, type LayerGraph } from '../../models/graph.js';
import { loadModel } from '../../models/io.js';
import type { ModelMetadata } from '../../models/metadata.js';
import type { QuantGradient } from '../fake-quant.js';
import type { RequantRounding } from '../integer/fixed-point.js';
import { fullIntegerClassifier } from './full-integer.js';
import { hybridClassifier } from './hybrid-classifier.js';
import { hybridFakeQuantClassifier } from './hybrid-fake-quant-classifier.js';

export interface SourceClassifierOptions {
  /** The deployed path (integer accumulation, no gradient) instead of the fake-quant one. */
  readonly integer?: boolean;
  /** Gradient of the fake-quant path (default 'ste'). */
  readonly gradient?: QuantGradient;
  /** Requantization rounding of a full-integer network's deployed path (default 'double'). */
  readonly rounding?: RequantRounding;
  readonly bounds?: readonly [number, number];
}

/** The deployed or fake-quant classifier of a layer graph and its record. */
export function sourceQuantizedClassifier(graph: LayerGraph, record: SourceQuantization, options: SourceClassifierOptions = {}): Classifier {
  const bounds = options.bounds ?? [0, 1];
  if (record.kind === 'full-integer') return fullIntegerClassifier(graph, record, { ...options, bounds });
  return options.integer
    ? hybridClassifier(graph, record, { bounds })
    : hybridFakeQuantClassifier(graph, record, { bounds, ...(options.gradient ? { gradient: options.gradient } : {}) });
}

/**
 * The classifier of a freshly imported quantized network.
 * @throws QrobustError('invalid_argument') when the import has no quantization record.
 */
export function sourceQuantizedClassifierFromImport(imported: ImportedNetwork, front: FrontEnd | undefined, options: SourceClassifierOptions = {}): Classifier {
  const record = imported.sourceQuantization;
  if (!record) throw new QrobustError('invalid_argument', 'the imported network has no quantization record (it computes in float)');
  const model = buildLayersModel(imported.graph, front);
  try {
    return sourceQuantizedClassifier(graphFromModel(model), record, options);
  } finally {
    model.dispose();
  }
}

/** The classifier of a model directory (its TF.js files hold the dequantized weights). */
export async function loadSourceQuantizedClassifier(dir: string, record: SourceQuantization, options: SourceClassifierOptions = {}, meta?: ModelMetadata): Promise<Classifier> {
  const { model } = await loadModel(dir, meta);
  try {
    return sourceQuantizedClassifier(graphFromModel(model), record, options);
  } finally {
    model.dispose();
  }
}
