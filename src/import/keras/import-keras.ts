/**
 * Keras HDF5 files → `ModelGraph`. A file with a `model_config` attribute is a full model (Sequential or
 * functional, Keras 1 or 2) and carries its own topology; a weights-only file (Keras 1 `save_weights`, or a
 * Keras 2 / TF2 subclassed model's weights) takes it from `--arch`.
 */
import { QrobustError } from '../../core/errors.js';
import type { ImportedNetwork, ImportRequest } from '../types.js';
import { parseArch } from './arch.js';
import { fullModelGraph } from './full-model.js';
import { readHdf5Tree, stringAttr } from './hdf5-tree.js';
import { provenanceOf } from './keras-version.js';
import { weightsOnlyLayout } from './layout.js';
import { parseModelConfig } from './model-config.js';
import { readLayerWeights, weightsGroup } from './weights.js';
import { weightsOnlyGraph } from './weights-only.js';

function outputWidth(graph: ImportedNetwork['graph']): number {
  const op = graph.nodes.find((n) => n.name === graph.output)?.op;
  return op?.kind === 'dense' ? op.kernelShape[1] : op?.kind === 'conv2d' ? op.kernelShape[3] : NaN;
}

/**
 * Imports a Keras HDF5 file (see the module comment).
 * @throws QrobustError: 'invalid_model' (not HDF5, truncated, not a Keras file), 'unknown_arch' / 'invalid_argument'
 *   (a weights-only file without a usable `--arch` or `--layout`), 'weights_mismatch' (weights that do not fit
 *   the topology), 'unsupported_layer' (a layer qrobust cannot express), 'shape_mismatch' (an input that does not
 *   hold the dataset's images); each message is one line naming the file.
 */
export async function importKerasH5(req: ImportRequest): Promise<ImportedNetwork> {
  const root = await readHdf5Tree(req.file, req.bytes);
  const provenance = provenanceOf(root);
  const layers = readLayerWeights(req.file, weightsGroup(root));
  const config = stringAttr(root, 'model_config');
  const common = {
    kerasVersion: provenance.kerasVersion ?? 'not recorded (Keras 1)',
    ...(provenance.backend ? { backend: provenance.backend } : {}),
    weightLayers: layers.filter((l) => l.weights.length > 0).map((l) => l.layer),
  };
  if (config !== undefined) {
    const spec = parseModelConfig(req.file, config);
    const r = fullModelGraph(req.file, spec, layers, provenance, req.imageShape, req.layout);
    return {
      format: 'keras-h5',
      graph: r.graph,
      layout: r.layout,
      details: { ...common, contents: 'model', modelClass: spec.modelClass, dataFormat: r.format, layers: r.layerCounts, softmaxStripped: r.strippedSoftmax, outputs: outputWidth(r.graph) },
    };
  }
  if (req.arch === undefined) {
    throw new QrobustError('invalid_argument', `${req.file}: a weights-only Keras file (no model_config): give its topology with --arch (a zoo name or dense:N,N,...)`);
  }
  const arch = parseArch(req.file, req.arch, req.numClasses);
  const layout = weightsOnlyLayout(req.file, req.layout, req.imageShape, arch[0]?.kind === 'conv');
  const graph = weightsOnlyGraph({ file: req.file, archText: req.arch, arch, layers, imageShape: req.imageShape, layout, provenance });
  return { format: 'keras-h5', graph, layout, details: { ...common, contents: 'weights', arch: req.arch, outputs: outputWidth(graph) } };
}
