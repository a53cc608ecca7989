/**
 * Quantized model directories. A quantized directory holds the model's TF.js files (`model.json` + weights,
 * float32) and a `qrobust.json` whose `quantization` field records the spec, the parent (directory and SHA-256
 * of its weight bytes), the calibration and every quantizer's parameters (scales, zero points, ternary
 * thresholds, DoReFa maxima). After post-training quantization the TF.js files are a byte-for-byte copy of the
 * parent's; after quantization-aware training they hold the trained latent weights (`weightsSha256` is then
 * their own hash and `qat` records the run; a model trained from scratch has no parent). The integer weight
 * codes are not stored: they are a deterministic function of the float weights and the recorded parameters,
 * recomputed on load, and the SHA-256 check guarantees the float weights are the ones the parameters were
 * computed from.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { QrobustError } from '../core/errors.js';
import { graphFromModel, isWeightStep, type LayerGraph } from '../models/graph.js';
import { loadModel, MODEL_JSON, saveModel } from '../models/io.js';
import { readMetadata, writeMetadata, type EvaluationRecord, type ModelMetadata } from '../models/metadata.js';
import type { RequantRounding } from './integer/fixed-point.js';
import type { CalibrationRecord, QuantizedModel } from './ptq.js';
import type { QuantPlan } from './plan.js';
import type { QatRecord } from './qat.js';
import { specLabel, validateQuantSpec, type QuantSpec } from './spec.js';

export const QUANTIZATION_RECORD_VERSION = 1;

/** The `quantization` field of a quantized model's `qrobust.json`. */
export interface QuantizationRecord {
  readonly version: number;
  readonly label: string;
  readonly spec: QuantSpec;
  /** The float model this one was quantized from; null for a model trained from scratch (QAT). */
  readonly parent: {
    readonly dir: string;
    /** SHA-256 of the weight files' bytes, in manifest order. */
    readonly weightsSha256: string;
    readonly testAccuracy?: EvaluationRecord;
  } | null;
  /** SHA-256 of this directory's own weight bytes when they are not the parent's (after QAT). */
  readonly weightsSha256?: string;
  /** The quantization-aware training run that produced the weights, if any. */
  readonly qat?: QatRecord;
  readonly calibration: CalibrationRecord | null;
  readonly params: QuantPlan;
  /** Whether the integer-exact path can run the model. */
  readonly integerExecutable: boolean;
  readonly accuracy?: { readonly fakeQuant?: EvaluationRecord; readonly integer?: EvaluationRecord };
  /** For a model imported already quantized (no parent): where its parameters came from. */
  readonly imported?: ImportedQuantization;
  /** The requantization rounding of the runtime the model was made for (default: TFLite's 'double'). */
  readonly deployedRounding?: RequantRounding;
}

/** Provenance of the parameters of a model that was quantized elsewhere and imported. */
export interface ImportedQuantization {
  /** e.g. 'onnx-qdq', 'onnx-qoperator', 'tflite-int8'. */
  readonly form: string;
  /** The source file's SHA-256. */
  readonly sha256: string;
}

/** True when a model's metadata says it is quantized. */
export function isQuantizedMeta(meta: ModelMetadata): boolean {
  return typeof meta['quantization'] === 'object' && meta['quantization'] !== null;
}

async function weightFiles(dir: string): Promise<string[]> {
  const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as { weightsManifest?: { paths: string[] }[] };
  return (json.weightsManifest ?? []).flatMap((g) => g.paths);
}

/** SHA-256 (hex) of a model directory's weight bytes, in manifest order. */
export async function weightsSha256(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const p of await weightFiles(dir)) hash.update(await readFile(join(dir, p)));
  return hash.digest('hex');
}

export interface SaveQuantizedOptions {
  /**
   * The parent model directory: its TF.js files are copied (after QAT, with the trained weights written over
   * them). Null for a model trained from scratch, which needs `topology`.
   */
  readonly parentDir: string | null;
  readonly integerExecutable: boolean;
  readonly accuracy?: { readonly fakeQuant?: EvaluationRecord; readonly integer?: EvaluationRecord };
  /** The QAT run; the weights written are then those of `qm.graph` (the trained latent weights). */
  readonly qat?: QatRecord;
  /** Without a parent: a layers model of the architecture whose topology is written (weights from `qm.graph`). */
  readonly topology?: tfl.LayersModel;
  /** A model imported already quantized: its parameters' provenance (then no parent and no QAT record). */
  readonly imported?: ImportedQuantization;
  readonly deployedRounding?: RequantRounding;
}

/**
 * Writes a graph's kernels and biases over the weight files of a TF.js model directory, in manifest order
 * (`<layer>/kernel`, `<layer>/bias`); other weights keep their bytes.
 * @throws QrobustError('not_a_model') when a weight step of the graph has no float32 entry of its size.
 */
export async function writeGraphWeights(dir: string, graph: LayerGraph): Promise<void> {
  const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as {
    weightsManifest?: { paths: string[]; weights: { name: string; shape: number[]; dtype?: string }[] }[];
  };
  const values = new Map<string, Float32Array>();
  for (const s of graph.steps) {
    if (!isWeightStep(s)) continue;
    values.set(`${s.name}/kernel`, s.kernel);
    values.set(`${s.name}/bias`, s.bias);
  }
  const written = new Set<string>();
  for (const group of json.weightsManifest ?? []) {
    const old = Buffer.concat(await Promise.all(group.paths.map((p) => readFile(join(dir, p)))));
    const bytes = Buffer.from(old);
    let offset = 0;
    for (const w of group.weights) {
      const size = w.shape.reduce((a, b) => a * b, 1) * 4;
      const v = values.get(w.name);
      if (v) {
        if ((w.dtype ?? 'float32') !== 'float32' || v.length * 4 !== size) {
          throw new QrobustError('not_a_model', `${dir}: weight '${w.name}' is ${w.dtype} [${w.shape.join(',')}], the graph has ${v.length} float32 values`);
        }
        Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(bytes, offset);
        written.add(w.name);
      }
      offset += size;
    }
    let start = 0;
    for (let i = 0; i < group.paths.length; i++) {
      const len = i === group.paths.length - 1 ? bytes.length - start : (await readFile(join(dir, group.paths[i]!))).length;
      await writeFile(join(dir, group.paths[i]!), bytes.subarray(start, start + len));
      start += len;
    }
  }
  // A layer without bias has no bias entry (its graph bias is zeros): only a nonzero bias needs one.
  const missing = [...values.entries()].filter(([k, v]) => !written.has(k) && (k.endsWith('/kernel') || v.some((b) => b !== 0))).map(([k]) => k);
  if (missing.length) throw new QrobustError('not_a_model', `${dir}: no weight entry for ${missing.join(', ')} in ${MODEL_JSON}`);
}

/**
 * Writes a quantized model directory (see the module comment). `testAccuracy` is the fake-quant accuracy.
 * @throws QrobustError('invalid_argument') when neither a parent directory nor a topology is given.
 */
export async function saveQuantizedModel(out: string, qm: QuantizedModel, o: SaveQuantizedOptions): Promise<QuantizationRecord> {
  await mkdir(out, { recursive: true });
  const { testAccuracy: parentAccuracy, ...parentMeta } = qm.meta;
  if (o.parentDir !== null) {
    for (const f of [MODEL_JSON, ...(await weightFiles(o.parentDir))]) await copyFile(join(o.parentDir, f), join(out, f));
    if (o.qat) await writeGraphWeights(out, qm.graph);
  } else {
    if (!o.topology || !(o.qat || o.imported)) {
      throw new QrobustError('invalid_argument', 'a quantized model without a parent needs a topology and its QAT record or import provenance to save');
    }
    await saveModel(out, o.topology, qm.meta);
    await writeGraphWeights(out, qm.graph);
  }
  const ownSha = await weightsSha256(out);
  const parent =
    o.parentDir === null
      ? null
      : { dir: o.parentDir, weightsSha256: o.qat ? await weightsSha256(o.parentDir) : ownSha, ...(parentAccuracy ? { testAccuracy: parentAccuracy } : {}) };
  const record: QuantizationRecord = {
    version: QUANTIZATION_RECORD_VERSION,
    label: qm.label,
    spec: qm.spec,
    parent,
    ...(o.qat || o.parentDir === null ? { weightsSha256: ownSha } : {}),
    calibration: qm.calibration,
    params: qm.plan,
    integerExecutable: o.integerExecutable,
    ...(o.accuracy ? { accuracy: o.accuracy } : {}),
    ...(o.qat ? { qat: o.qat } : {}),
    ...(o.imported ? { imported: o.imported } : {}),
    ...(o.deployedRounding ? { deployedRounding: o.deployedRounding } : {}),
  };
  const meta: ModelMetadata = {
    ...parentMeta,
    createdAt: new Date().toISOString(),
    ...(o.accuracy?.fakeQuant ? { testAccuracy: o.accuracy.fakeQuant } : {}),
    quantization: record,
  } as ModelMetadata;
  await writeMetadata(out, meta);
  return record;
}

function badRecord(dir: string, why: string): QrobustError {
  return new QrobustError('not_a_model', `${dir}: invalid quantization record in qrobust.json: ${why}`);
}

/**
 * Loads a quantized model directory: the float graph from its TF.js files and the recorded parameters
 * (`known`: its metadata, when the caller has read it).
 * @throws QrobustError('not_a_model') when the directory is not quantized or its record is malformed,
 *   QrobustError('weights_mismatch') when the weights differ from those the parameters were computed from.
 */
export async function loadQuantizedModel(dir: string, known?: ModelMetadata): Promise<QuantizedModel> {
  const meta = known ?? (await readMetadata(dir));
  if (!isQuantizedMeta(meta)) throw new QrobustError('not_a_model', `${dir} is not a quantized model (qrobust.json has no "quantization" field)`);
  const rec = meta['quantization'] as Partial<QuantizationRecord>;
  if (rec.version !== QUANTIZATION_RECORD_VERSION) throw badRecord(dir, `version ${JSON.stringify(rec.version)}, expected ${QUANTIZATION_RECORD_VERSION}`);
  const params = rec.params;
  if (!params || !Array.isArray(params.layers) || params.input === undefined) throw badRecord(dir, 'params.input or params.layers missing');
  const spec = validateQuantSpec(rec.spec);
  const sha = await weightsSha256(dir);
  const expected = rec.weightsSha256 ?? rec.parent?.weightsSha256;
  if (expected !== sha) {
    throw new QrobustError(
      'weights_mismatch',
      `${dir}: the weights' SHA-256 is ${sha.slice(0, 12)}…, the quantization parameters were computed for ${String(expected).slice(0, 12)}…`,
    );
  }
  const loaded = await loadModel(dir, meta);
  try {
    const graph = graphFromModel(loaded.model);
    const { quantization: _omit, ...parentMeta } = meta;
    return { graph, spec, plan: params, meta: parentMeta as ModelMetadata, calibration: rec.calibration ?? null, label: rec.label ?? specLabel(spec) };
  } finally {
    loaded.model.dispose();
  }
}
