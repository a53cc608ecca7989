/**
 * The library function behind `qrobust quantize`: post-training quantization of a model directory into one
 * quantized directory per weight width, each evaluated on the test split (fake-quant and, where the spec
 * allows, integer-exact) and saved with its record.
 *
 * Layout: one width writes `out` itself; several widths write `out/<label>` per variant, the label naming the
 * variant (`w8`, `w4-pc`, `wbin`, `wter`, `w4-a8-in8`, ...).
 */
import { join } from 'node:path';
import { initBackend, type BackendName } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { loadDataset } from '../data/index.js';
import { argmaxRows, classifierLogits, type Classifier } from '../models/classifier.js';
import { loadModel } from '../models/io.js';
import type { EvaluationRecord } from '../models/metadata.js';
import { fakeQuantClassifier, integerClassifier, quantizeModel, type QuantizedModel } from './ptq.js';
import { saveQuantizedModel } from './quantized-dir.js';
import type { QuantSpec } from './spec.js';
import type { ImageDataset } from '../data/index.js';

export interface QuantizeDirOptions {
  readonly dir: string;
  readonly out: string;
  /** One spec per variant (e.g. one per weight width). */
  readonly specs: readonly QuantSpec[];
  /** Calibration images drawn from the training split (default 1000). */
  readonly calibN?: number;
  /** Seed for the calibration subset (default 0). */
  readonly seed?: number;
  /** Evaluate on a seeded subset of N test images (default all; 0 skips evaluation). */
  readonly evalN?: number;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  /** Called after each variant is saved. */
  readonly onVariant?: (v: QuantizedVariant) => void;
}

export interface QuantizedVariant {
  readonly label: string;
  readonly dir: string;
  readonly spec: QuantSpec;
  readonly fakeQuant?: EvaluationRecord;
  readonly integer?: EvaluationRecord;
  /** Fraction of test images on which the integer and fake-quant paths predict the same class. */
  readonly agreement?: number;
  readonly integerExecutable: boolean;
  readonly seconds: number;
}

export interface QuantizeDirResult {
  readonly parent: { readonly dir: string; readonly testAccuracy?: EvaluationRecord };
  readonly variants: readonly QuantizedVariant[];
}

function evaluate(c: Classifier, data: ImageDataset): { record: EvaluationRecord; pred: Int32Array } {
  const pred = argmaxRows(classifierLogits(c, data), c.numClasses);
  let correct = 0;
  for (let i = 0; i < data.count; i++) if (pred[i] === data.labels[i]) correct++;
  return { record: { split: 'test', variant: data.variant, n: data.count, accuracy: data.count ? correct / data.count : 0 }, pred };
}

function tryInteger(qm: QuantizedModel): Classifier | null {
  try {
    return integerClassifier(qm);
  } catch (e) {
    if (e instanceof QrobustError && e.code === 'not_integer_executable') return null;
    throw e;
  }
}

export async function quantizeDir(o: QuantizeDirOptions): Promise<QuantizeDirResult> {
  if (o.specs.length === 0) throw new QrobustError('invalid_argument', 'quantize: no variant to write');
  await initBackend(o.backend);
  const loaded = await loadModel(o.dir);
  try {
    const needsCalibration = o.specs.some((s) => s.activations !== null);
    const seed = o.seed ?? 0;
    const calibN = o.calibN ?? 1000;
    const calib = needsCalibration
      ? await loadDataset(loaded.meta.dataset, 'train', { dataDir: o.dataDir, n: calibN, seed })
      : undefined;
    const evalN = o.evalN;
    const test =
      evalN === 0 ? undefined : await loadDataset(loaded.meta.dataset, 'test', evalN !== undefined ? { dataDir: o.dataDir, n: evalN, seed } : { dataDir: o.dataDir });
    const variants: QuantizedVariant[] = [];
    for (const spec of o.specs) {
      const start = performance.now();
      const qm = quantizeModel(loaded, spec, calib, { source: { dataset: loaded.meta.dataset, split: 'train', n: calibN, seed } });
      const dir = o.specs.length === 1 ? o.out : join(o.out, qm.label);
      const ic = tryInteger(qm);
      let fakeQuant: EvaluationRecord | undefined;
      let integer: EvaluationRecord | undefined;
      let agreement: number | undefined;
      if (test) {
        const fc = fakeQuantClassifier(qm);
        const f = evaluate(fc, test);
        fc.dispose();
        fakeQuant = f.record;
        if (ic) {
          const i = evaluate(ic, test);
          integer = i.record;
          let same = 0;
          for (let k = 0; k < test.count; k++) if (i.pred[k] === f.pred[k]) same++;
          agreement = test.count ? same / test.count : 1;
        }
      }
      const accuracy = fakeQuant ? { fakeQuant, ...(integer ? { integer } : {}) } : undefined;
      await saveQuantizedModel(dir, qm, { parentDir: o.dir, integerExecutable: ic !== null, ...(accuracy ? { accuracy } : {}) });
      const v: QuantizedVariant = {
        label: qm.label,
        dir,
        spec,
        ...(fakeQuant ? { fakeQuant } : {}),
        ...(integer ? { integer } : {}),
        ...(agreement !== undefined ? { agreement } : {}),
        integerExecutable: ic !== null,
        seconds: (performance.now() - start) / 1000,
      };
      variants.push(v);
      o.onVariant?.(v);
    }
    return { parent: { dir: o.dir, ...(loaded.meta.testAccuracy ? { testAccuracy: loaded.meta.testAccuracy } : {}) }, variants };
  } finally {
    loaded.model.dispose();
  }
}
