/**
 * The library function behind `qrobust import`: read a model file made elsewhere (ONNX, TFLite, Keras HDF5),
 * put the declared preprocessing in front, and write a model directory that every command reads exactly like
 * a trained one (TF.js files + `qrobust.json` with the source file's SHA-256, format, layout, preprocessing
 * and the clean test accuracy). Everything is checked before anything is written.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { initBackend, type BackendName } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { versions } from '../core/versions.js';
import { isGzip, maybeGunzip } from '../data/gzip.js';
import { loadDataset } from '../data/index.js';
import { buildLayersModel } from '../import/build-layers.js';
import { detectModelFormat } from '../import/detect.js';
import { importerFor } from '../import/importers.js';
import { checkPreprocessing, frontEndOf, IDENTITY_PREPROCESSING } from '../import/preprocessing.js';
import type { DeclaredPreprocessing, ImportedNetwork, InputLayout, ModelFormat, SourceQuantization } from '../import/types.js';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageDataset } from '../data/index.js';
import { planFromStripped } from '../import/onnx-quant/plan.js';
import { isDynamicallyQuantized, stripDynamicQuantization } from '../import/onnx-quant/dynamic.js';
import { isQuantizedOnnx, stripQuantization, type StrippedModel } from '../import/onnx-quant/strip.js';
import type { ImportPreset } from '../import/preset-names.js';
import { HENZINGER_ARCH, HENZINGER_PREPROCESSING, henzingerGraph, henzingerPlan } from '../import/presets/henzinger2021.js';
import type { QuantPlan } from '../quant/plan.js';
import type { QuantSpec } from '../quant/spec.js';
import { classifierAccuracy } from '../models/classifier.js';
import { evaluateAccuracy } from '../models/evaluate.js';
import type { AccuracyResult } from '../models/prediction.js';
import { graphFromModel } from '../models/graph.js';
import { saveModel } from '../models/io.js';
import { METADATA_FORMAT, METADATA_VERSION, readMetadata, type EvaluationRecord, type ModelMetadata } from '../models/metadata.js';
import { readOnnxModel, writeOnnxModel } from '../onnx/codec.js';
import type { RequantRounding } from '../quant/integer/fixed-point.js';
import { fakeQuantClassifier, integerClassifier, type QuantizedModel } from '../quant/ptq.js';
import { sourceQuantizedClassifier } from '../quant/hybrid/load-hybrid.js';
import { saveQuantizedModel, type QuantizationRecord } from '../quant/quantized-dir.js';

export interface ImportModelOptions {
  readonly file: string;
  /** The dataset the network classifies: gives the image shape, the class count and the test images. */
  readonly dataset: string;
  readonly out: string;
  readonly layout?: InputLayout;
  readonly preprocessing?: Partial<DeclaredPreprocessing>;
  /** Topology for weights-only files (a zoo name or a layer list such as `dense:256,256,10`). */
  readonly arch?: string;
  /** A name for reports (default: the file's base name). */
  readonly name?: string;
  /** Evaluate on a seeded subset of this many test images (default: the whole test split). */
  readonly n?: number;
  readonly seed?: number;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  /**
   * A published network's own semantics: `henzinger2021` (Henzinger et al.'s fixed-point MLPs, see
   * import/presets/henzinger2021.ts) sets the topology, the preprocessing and the quantization.
   */
  readonly preset?: ImportPreset;
}

export { IMPORT_PRESETS, type ImportPreset } from '../import/preset-names.js';

/** What `qrobust.json` records under `source` for an imported model. */
export interface ImportSourceRecord {
  readonly format: ModelFormat;
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly gzipped: boolean;
  readonly layout: InputLayout;
  readonly preprocessing: DeclaredPreprocessing;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface ImportModelResult {
  readonly dir: string;
  readonly source: ImportSourceRecord;
  /** Clean accuracy of the deployed semantics: the float model, or a quantized import's integer path. */
  readonly testAccuracy: EvaluationRecord;
  readonly meta: ModelMetadata;
  /** For a quantized source: the quantization record written to qrobust.json. */
  readonly quantized: QuantizationRecord | null;
}

async function readModelFile(file: string): Promise<{ bytes: Uint8Array; raw: Buffer; gzipped: boolean }> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new QrobustError('io_error', `${file}: cannot read the model file (${code === 'ENOENT' ? 'no such file' : (e as Error).message})`);
  }
  if (!isGzip(raw)) return { bytes: raw, raw, gzipped: false };
  const { content } = await maybeGunzip(raw, file);
  return { bytes: content, raw, gzipped: true };
}

/** A quantized ONNX file: its float part goes through the float importer, its grids become a plan. */
interface QuantizedSource {
  readonly stripped: StrippedModel;
}

interface SplitOnnx {
  readonly bytes: Uint8Array;
  /** Static quantization (QDQ, QOperator): a quantized model directory. */
  readonly quantized: QuantizedSource | null;
  /** Dynamic quantization: a float model directory with the run-time record. */
  readonly dynamic: SourceQuantization | null;
}

function splitQuantizedOnnx(file: string, bytes: Uint8Array): SplitOnnx {
  const model = readOnnxModel(bytes, file);
  if (isDynamicallyQuantized(model)) {
    const { float, layers } = stripDynamicQuantization(model, file);
    return { bytes: writeOnnxModel(float), quantized: null, dynamic: { kind: 'dynamic-range', version: 1, runtime: 'onnxruntime', layers } };
  }
  if (!isQuantizedOnnx(model)) return { bytes, quantized: null, dynamic: null };
  const stripped = stripQuantization(model, file);
  return { bytes: writeOnnxModel(stripped.float), quantized: { stripped }, dynamic: null };
}

/**
 * Imports a model file into a model directory (see the module comment).
 * @throws QrobustError for an unreadable or unsupported file, preprocessing that does not fit the images,
 *   or a dataset that cannot be loaded; nothing is written then.
 */
export async function importModel(o: ImportModelOptions): Promise<ImportModelResult> {
  await initBackend(o.backend);
  const { bytes, raw, gzipped } = await readModelFile(o.file);
  const format = detectModelFormat(o.file, bytes);
  const test = await loadDataset(o.dataset, 'test', {
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    ...(o.n !== undefined ? { n: o.n, seed: o.seed ?? 0 } : {}),
  });
  const channels = test.shape[2];
  if (o.preset) checkPreset(o, format);
  const arch = o.arch ?? (o.preset ? HENZINGER_ARCH : undefined);
  const preprocessing = checkPreprocessing({ ...IDENTITY_PREPROCESSING, ...(o.preset ? HENZINGER_PREPROCESSING : o.preprocessing) }, channels);
  const split: SplitOnnx = format === 'onnx' ? splitQuantizedOnnx(o.file, bytes) : { bytes, quantized: null, dynamic: null };
  const importer = await importerFor(format, o.file);
  const imported: ImportedNetwork = await importer({
    file: o.file,
    bytes: split.bytes,
    imageShape: test.shape,
    numClasses: test.numClasses,
    ...(o.layout !== undefined ? { layout: o.layout } : {}),
    ...(arch !== undefined ? { arch } : {}),
  });
  const sourceQuantization = imported.sourceQuantization ?? split.dynamic ?? undefined;
  const front = frontEndOf(preprocessing);
  const model = buildLayersModel(o.preset ? henzingerGraph(imported.graph, o.file) : imported.graph, front);
  try {
    const outShape = model.outputs[0]!.shape;
    // A preset's network may have outputs that are never a label (Henzinger et al.'s argmax runs over 32).
    const outputs = outShape[1] ?? 0;
    if (outShape.length !== 2 || (o.preset ? outputs < test.numClasses : outputs !== test.numClasses)) {
      throw new QrobustError(
        'shape_mismatch',
        `${o.file}: the network has ${outShape.slice(1).join('×')} outputs, dataset ${test.name} has ${test.numClasses} classes`,
      );
    }
    const source: ImportSourceRecord = {
      format,
      file: basename(o.file),
      sha256: createHash('sha256').update(raw).digest('hex'),
      bytes: raw.length,
      gzipped,
      layout: imported.layout,
      preprocessing,
      details: { ...imported.details, ...(split.quantized ? { quantization: split.quantized.stripped.form } : split.dynamic ? { quantization: 'dynamic' } : {}) },
    };
    const meta: ModelMetadata = {
      format: METADATA_FORMAT,
      version: METADATA_VERSION,
      dataset: test.name,
      arch: arch ?? `imported-${format}`,
      name: o.name ?? basename(o.file),
      inputShape: test.shape,
      numClasses: o.preset ? outputs : test.numClasses,
      preprocessing: { inputRange: [0, 1], mean: front?.mean ?? [0], std: front?.std ?? [1], layout: 'NHWC' },
      seed: o.seed ?? 0,
      source,
      // A dynamic-range or full-integer source (TFLite, ONNX Runtime's dynamic quantization): its deployed
      // semantics, read back by loadClassifier.
      ...(sourceQuantization ? { sourceQuantization } : {}),
      versions: versions(),
      createdAt: new Date().toISOString(),
    };
    if (split.quantized) {
      // The float part of a quantized file may lack the ReLUs its output grids imply: only the quantized
      // semantics is measured.
      const recovered = planFromStripped(split.quantized.stripped, graphFromModel(model), o.file);
      const q = await saveImportedQuantized(o.out, model, meta, recovered, { form: `onnx-${split.quantized.stripped.form}`, sha256: source.sha256, rounding: 'onnxruntime' }, test);
      return { dir: o.out, source, testAccuracy: q.testAccuracy, meta: q.meta, quantized: q.record };
    }
    if (o.preset) {
      const q = await saveImportedQuantized(o.out, model, meta, henzingerPlan(graphFromModel(model), o.file), { form: o.preset, sha256: source.sha256, rounding: 'half-away' }, test);
      return { dir: o.out, source, testAccuracy: q.testAccuracy, meta: q.meta, quantized: q.record };
    }
    const testAccuracy = evaluationOf(sourceQuantization ? deployedAccuracy(model, sourceQuantization, test) : evaluateAccuracy(model, test), test);
    const floatMeta: ModelMetadata = { ...meta, testAccuracy };
    await saveModel(o.out, model, floatMeta);
    return { dir: o.out, source, testAccuracy, meta: floatMeta, quantized: null };
  } finally {
    model.dispose();
  }
}

/** The accuracy of a source's own run-time quantization (the deployed path). */
function deployedAccuracy(model: tfl.LayersModel, record: SourceQuantization, test: ImageDataset): AccuracyResult {
  const classifier = sourceQuantizedClassifier(graphFromModel(model), record, { integer: true });
  try {
    return classifierAccuracy(classifier, test);
  } finally {
    classifier.dispose();
  }
}

/**
 * `--preset` fixes the topology, the preprocessing and the quantization: only a Keras weights file, and no
 * `--arch` other than the preset's or preprocessing flags.
 * @throws QrobustError('invalid_option') naming the conflicting flag.
 */
function checkPreset(o: ImportModelOptions, format: ModelFormat): void {
  if (format !== 'keras-h5') throw new QrobustError('invalid_option', `--preset ${o.preset}: expects the authors' Keras weights file (.h5), ${o.file} is ${format}`);
  if (o.arch !== undefined && o.arch !== HENZINGER_ARCH) throw new QrobustError('invalid_option', `--preset ${o.preset} sets --arch ${HENZINGER_ARCH}; leave out --arch ${o.arch}`);
  // The CLI passes its defaults (scale 1): only a value other than the identity is a conflict.
  const declared = (o.preprocessing ?? {}) as Record<string, unknown>;
  const identity = IDENTITY_PREPROCESSING as unknown as Record<string, unknown>;
  const given = Object.keys(declared).filter((k) => declared[k] !== undefined && JSON.stringify(declared[k]) !== JSON.stringify(identity[k]));
  if (given.length) throw new QrobustError('invalid_option', `--preset ${o.preset} sets the preprocessing; leave out --${given[0]}`);
}

/** Where a quantized import's grids came from and whose integer arithmetic its deployed path follows. */
interface ImportedGrids {
  readonly form: string;
  readonly sha256: string;
  readonly rounding: RequantRounding;
}

async function saveImportedQuantized(
  out: string,
  model: tfl.LayersModel,
  floatMeta: ModelMetadata,
  recovered: { plan: QuantPlan; spec: QuantSpec; label: string },
  grids: ImportedGrids,
  test: ImageDataset,
): Promise<{ testAccuracy: EvaluationRecord; meta: ModelMetadata; record: QuantizationRecord }> {
  const graph = graphFromModel(model);
  const { plan, spec, label } = recovered;
  const qm: QuantizedModel = { graph, spec, plan, meta: floatMeta, calibration: null, label };
  const fake = fakeQuantClassifier(qm);
  const fakeQuant = evaluationOf(classifierAccuracy(fake, test), test);
  fake.dispose();
  let integer: EvaluationRecord | undefined;
  let integerExecutable = false;
  try {
    const ic = integerClassifier(qm, { rounding: grids.rounding });
    integerExecutable = true;
    integer = evaluationOf(classifierAccuracy(ic, test), test);
    ic.dispose();
  } catch (e) {
    if (!(e instanceof QrobustError && e.code === 'not_integer_executable')) throw e;
  }
  const record = await saveQuantizedModel(out, qm, {
    parentDir: null,
    topology: model,
    integerExecutable,
    accuracy: { fakeQuant, ...(integer ? { integer } : {}) },
    imported: { form: grids.form, sha256: grids.sha256 },
    deployedRounding: grids.rounding,
  });
  const saved = await readMetadata(out);
  return { testAccuracy: integer ?? fakeQuant, meta: saved, record };
}

function evaluationOf(acc: AccuracyResult, test: ImageDataset): EvaluationRecord {
  return { split: 'test', variant: test.variant, n: acc.n, accuracy: acc.accuracy };
}
