/**
 * Quantized model directories. A quantized directory holds a byte-for-byte copy of the parent's TF.js files
 * (`model.json` + weights, float32) and a `qrobust.json` whose `quantization` field records the spec, the
 * parent (directory and SHA-256 of its weight bytes), the calibration and every quantizer's parameters (scales,
 * zero points, ternary thresholds). The integer weight codes are not stored: they are a deterministic function
 * of the float weights and the recorded parameters, recomputed on load, and the SHA-256 check guarantees the
 * float weights are the ones the parameters were computed from.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QrobustError } from '../core/errors.js';
import { graphFromModel } from '../models/graph.js';
import { loadModel, MODEL_JSON } from '../models/io.js';
import { readMetadata, writeMetadata, type EvaluationRecord, type ModelMetadata } from '../models/metadata.js';
import type { CalibrationRecord, QuantizedModel } from './ptq.js';
import type { QuantPlan } from './plan.js';
import { specLabel, validateQuantSpec, type QuantSpec } from './spec.js';

export const QUANTIZATION_RECORD_VERSION = 1;

/** The `quantization` field of a quantized model's `qrobust.json`. */
export interface QuantizationRecord {
  readonly version: number;
  readonly label: string;
  readonly spec: QuantSpec;
  readonly parent: {
    readonly dir: string;
    /** SHA-256 of the weight files' bytes, in manifest order. */
    readonly weightsSha256: string;
    readonly testAccuracy?: EvaluationRecord;
  };
  readonly calibration: CalibrationRecord | null;
  readonly params: QuantPlan;
  /** Whether the integer-exact path can run the model. */
  readonly integerExecutable: boolean;
  readonly accuracy?: { readonly fakeQuant?: EvaluationRecord; readonly integer?: EvaluationRecord };
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
  /** The parent model directory (its TF.js files are copied). */
  readonly parentDir: string;
  readonly integerExecutable: boolean;
  readonly accuracy?: { readonly fakeQuant?: EvaluationRecord; readonly integer?: EvaluationRecord };
}

/** Writes a quantized model directory (see the module comment). `testAccuracy` is the fake-quant accuracy. */
export async function saveQuantizedModel(out: string, qm: QuantizedModel, o: SaveQuantizedOptions): Promise<QuantizationRecord> {
  await mkdir(out, { recursive: true });
  for (const f of [MODEL_JSON, ...(await weightFiles(o.parentDir))]) await copyFile(join(o.parentDir, f), join(out, f));
  const { testAccuracy: parentAccuracy, ...parentMeta } = qm.meta;
  const record: QuantizationRecord = {
    version: QUANTIZATION_RECORD_VERSION,
    label: qm.label,
    spec: qm.spec,
    parent: { dir: o.parentDir, weightsSha256: await weightsSha256(o.parentDir), ...(parentAccuracy ? { testAccuracy: parentAccuracy } : {}) },
    calibration: qm.calibration,
    params: qm.plan,
    integerExecutable: o.integerExecutable,
    ...(o.accuracy ? { accuracy: o.accuracy } : {}),
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
 * Loads a quantized model directory: the float graph from its TF.js files and the recorded parameters.
 * @throws QrobustError('not_a_model') when the directory is not quantized or its record is malformed,
 *   QrobustError('weights_mismatch') when the weights differ from those the parameters were computed from.
 */
export async function loadQuantizedModel(dir: string): Promise<QuantizedModel> {
  const meta = await readMetadata(dir);
  if (!isQuantizedMeta(meta)) throw new QrobustError('not_a_model', `${dir} is not a quantized model (qrobust.json has no "quantization" field)`);
  const rec = meta['quantization'] as Partial<QuantizationRecord>;
  if (rec.version !== QUANTIZATION_RECORD_VERSION) throw badRecord(dir, `version ${JSON.stringify(rec.version)}, expected ${QUANTIZATION_RECORD_VERSION}`);
  const params = rec.params;
  if (!params || !Array.isArray(params.layers) || params.input === undefined) throw badRecord(dir, 'params.input or params.layers missing');
  const spec = validateQuantSpec(rec.spec);
  const sha = await weightsSha256(dir);
  if (rec.parent?.weightsSha256 !== sha) {
    throw new QrobustError(
      'weights_mismatch',
      `${dir}: the weights' SHA-256 is ${sha.slice(0, 12)}…, the quantization parameters were computed for ${String(rec.parent?.weightsSha256).slice(0, 12)}…`,
    );
  }
  const loaded = await loadModel(dir);
  try {
    const graph = graphFromModel(loaded.model);
    const { quantization: _omit, ...parentMeta } = meta;
    return { graph, spec, plan: params, meta: parentMeta as ModelMetadata, calibration: rec.calibration ?? null, label: rec.label ?? specLabel(spec) };
  } finally {
    loaded.model.dispose();
  }
}
