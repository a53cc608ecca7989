/**
 * A model directory as an ONNX file: `onnx` is the float model (for a quantized directory, its float (latent)
 * weights, without its quantizers), `onnx-int8` the integer QOperator model of a quantized directory with an
 * integer form. By default a quantized directory with an integer form gives `onnx-int8`, any other `onnx`.
 */
import { basename } from 'node:path';
import { QrobustError } from '../core/errors.js';
import { graphFromModel, type LayerGraph } from '../models/graph.js';
import { loadModel } from '../models/io.js';
import { readMetadata, type ModelMetadata } from '../models/metadata.js';
import { refuseInputMap } from '../defenses/input-map-guard.js';
import { layerGraphToOnnx } from '../models/onnx-export.js';
import { writeOnnxModel, type OnnxModel } from '../onnx/index.js';
import { integerProgramToOnnx } from './integer/onnx-export.js';
import type { IntegerProgram } from './integer/program.js';
import { boundsOf, integerClassifier, type QuantizedModel } from './ptq.js';
import { isQuantizedMeta, loadQuantizedModel } from './quantized-dir.js';

import type { ExportFormat } from './export-formats.js';

export { EXPORT_FORMATS, parseExportFormat, type ExportFormat } from './export-formats.js';

/** Which weights an exported file holds. */
export type ExportedWeights = 'float' | 'float-latent' | 'int8';

export interface OnnxExport {
  readonly format: ExportFormat;
  readonly weights: ExportedWeights;
  /** The serialized ONNX model. */
  readonly bytes: Uint8Array;
  /** The graph outputs, in order. */
  readonly outputs: readonly string[];
  /** The quantized variant's label (`w8-a8-in8`), or null for a float directory. */
  readonly label: string | null;
  /** The pixel range the input `pixels` takes (`preprocessing.inputRange` of `qrobust.json`). */
  readonly inputRange: readonly [number, number];
}

/** The integer program of a quantized model in ONNX Runtime's rounding mode, or null when it has no integer form. */
function integerProgramOf(qm: QuantizedModel): IntegerProgram | null {
  try {
    return integerClassifier(qm, { rounding: 'onnxruntime' }).program;
  } catch (e) {
    if (e instanceof QrobustError && e.code === 'not_integer_executable') return null;
    throw e;
  }
}

/** The layer graph of a float model directory; graph errors name the directory. */
async function floatGraph(dir: string): Promise<LayerGraph> {
  const { model } = await loadModel(dir);
  try {
    return graphFromModel(model);
  } catch (e) {
    if (e instanceof QrobustError) throw new QrobustError(e.code, `${dir}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    model.dispose();
  }
}

function result(format: ExportFormat, weights: ExportedWeights, model: OnnxModel, label: string | null, meta: ModelMetadata): OnnxExport {
  return { format, weights, bytes: writeOnnxModel(model), outputs: model.graph.outputs.map((o) => o.name), label, inputRange: boundsOf(meta) };
}

/**
 * Exports a model directory to ONNX (see the module comment); `format` defaults as described there.
 * @throws QrobustError('not_a_model') when `dir` is not a model directory, QrobustError('invalid_argument') for
 *   `onnx-int8` on a float directory, QrobustError('not_integer_executable') for `onnx-int8` on a quantized
 *   directory without an integer form, QrobustError('unsupported_layer') naming the directory and the layer the
 *   layer graph cannot hold.
 */
export async function exportModelDir(dir: string, format?: ExportFormat): Promise<OnnxExport> {
  const meta = await readMetadata(dir);
  refuseInputMap(meta, dir, 'export');
  const name = basename(dir);
  if (!isQuantizedMeta(meta)) {
    if (format === 'onnx-int8') {
      throw new QrobustError('invalid_argument', `${dir} is a full-precision model; --format onnx-int8 needs a quantized model with an integer form (see qrobust quantize)`);
    }
    return result('onnx', 'float', layerGraphToOnnx(await floatGraph(dir), name), null, meta);
  }
  const qm = await loadQuantizedModel(dir);
  const program = format === 'onnx' ? null : integerProgramOf(qm);
  if (format === 'onnx-int8' && program === null) {
    throw new QrobustError('not_integer_executable', `${dir}: quantized model ${qm.label} has no integer form, so no onnx-int8 export; --format onnx writes its float (latent) weights`);
  }
  if (program === null) return result('onnx', 'float-latent', layerGraphToOnnx(qm.graph, name), qm.label, meta);
  return result('onnx-int8', 'int8', integerProgramToOnnx(program, name), qm.label, meta);
}
