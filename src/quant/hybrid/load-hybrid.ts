/**
 * Hybrid classifiers from the two places a dynamic-range network comes from: an `ImportedNetwork` still in
 * memory (its graph is built into a TF.js model first, which puts the declared preprocessing in front and turns
 * a `chw` flatten into reordered kernel rows), and a model directory whose `qrobust.json` holds the record under
 * `sourceQuantization`.
 */
import { QrobustError } from '../../core/errors.js';
import { buildLayersModel, type FrontEnd } from '../../import/build-layers.js';
import type { ImportedNetwork, SourceQuantization } from '../../import/types.js';
import type { Classifier } from '../../models/classifier.js';
import { graphFromModel, type LayerGraph } from '../../models/graph.js';
import { loadModel } from '../../models/io.js';
import type { QuantGradient } from '../fake-quant.js';
import { hybridClassifier } from './hybrid-classifier.js';
import { hybridFakeQuantClassifier } from './hybrid-fake-quant-classifier.js';

export interface HybridLoadOptions {
  /** The deployed path (integer accumulation, no gradient) instead of the fake-quant one. */
  readonly integer?: boolean;
  /** Gradient of the fake-quant path (default 'ste'). */
  readonly gradient?: QuantGradient;
  readonly bounds?: readonly [number, number];
}

/** The deployed or fake-quant classifier of a layer graph and its record. */
export function hybridClassifierFromGraph(graph: LayerGraph, record: SourceQuantization, options: HybridLoadOptions = {}): Classifier {
  const bounds = options.bounds ?? [0, 1];
  return options.integer
    ? hybridClassifier(graph, record, { bounds })
    : hybridFakeQuantClassifier(graph, record, { bounds, ...(options.gradient ? { gradient: options.gradient } : {}) });
}

/**
 * The hybrid classifier of a freshly imported network.
 * @throws QrobustError('invalid_argument') when the import has no dynamic-range record.
 */
export function hybridClassifierFromImport(imported: ImportedNetwork, front: FrontEnd | undefined, options: HybridLoadOptions = {}): Classifier {
  const record = imported.sourceQuantization;
  if (!record) throw new QrobustError('invalid_argument', 'the imported network has no dynamic-range quantization record');
  const model = buildLayersModel(imported.graph, front);
  try {
    return hybridClassifierFromGraph(graphFromModel(model), record, options);
  } finally {
    model.dispose();
  }
}

/** The hybrid classifier of a model directory (its TF.js files hold the dequantized weights). */
export async function loadHybridClassifier(dir: string, record: SourceQuantization, options: HybridLoadOptions = {}): Promise<Classifier> {
  const { model } = await loadModel(dir);
  try {
    return hybridClassifierFromGraph(graphFromModel(model), record, options);
  } finally {
    model.dispose();
  }
}
