/**
 * The library function behind `qrobust attack`: load a model directory (float or quantized), attack a seeded
 * subset of its dataset's test split over an ε list, and return a JSON-ready report. For quantized models,
 * `integerCheck` re-classifies every adversarial example on the integer-exact classifier.
 */
import { initBackend, type BackendName } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { versions } from '../core/versions.js';
import { describeDataset, loadDataset, toTensors, type DatasetDescription } from '../data/index.js';
import type { Classifier } from '../models/classifier.js';
import { loadClassifier } from '../quant/load-classifier.js';
import { getAttack } from './registry.js';
import { predict, runAttack } from './run.js';
import type { LossName, Norm } from './types.js';

export interface AttackDirOptions {
  readonly dir: string;
  readonly attack: string;
  readonly epsilons: readonly number[];
  readonly norm?: Norm;
  readonly loss?: LossName;
  readonly steps?: number;
  readonly stepSize?: number;
  readonly restarts?: number;
  /** Test images to attack, a seeded subset (default 500). */
  readonly n?: number;
  readonly seed?: number;
  /** Gradient through quantizers (quantized models; default 'ste'). */
  readonly gradient?: 'exact' | 'ste';
  readonly integerCheck?: boolean;
  readonly batchSize?: number;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  /** Called after each ε. */
  readonly onEpsilon?: (row: AttackDirRow) => void;
}

export interface IntegerCheck {
  /** Robust accuracy of the integer-exact classifier on the same adversarial examples. */
  readonly robustAccuracy: number;
  readonly cleanAccuracy: number;
  /** Adversarial examples the integer and fake-quant classifiers label differently. */
  readonly disagreements: number;
}

export interface AttackDirRow {
  readonly eps: number;
  readonly cleanAccuracy: number;
  readonly robustAccuracy: number;
  readonly successRate: number;
  readonly meanPerturbation: number | null;
  readonly meanQueries: number;
  readonly seconds: number;
  readonly integer?: IntegerCheck;
}

export interface AttackDirReport {
  readonly attack: string;
  readonly model: string;
  /** Which computation was attacked. */
  readonly path: 'float32' | 'fake-quant';
  readonly results: readonly AttackDirRow[];
  readonly config: {
    readonly norm: Norm;
    /** null for attacks that take no loss (DeepFool). */
    readonly loss: LossName | null;
    readonly steps: number | null;
    readonly stepSize: number | null;
    readonly restarts: number | null;
    readonly gradient: 'exact' | 'ste' | null;
    readonly n: number;
    readonly seed: number;
    readonly dataset: DatasetDescription;
    readonly classifier: string;
    readonly versions: Record<string, string>;
  };
}

/**
 * Attacks a model directory at every ε and returns the report `qrobust attack` prints and writes.
 * @throws QrobustError for unknown attacks, bad options, a shape mismatch, `--grad` or `integerCheck` on a float model.
 */
export async function attackModelDir(o: AttackDirOptions): Promise<AttackDirReport> {
  const spec = getAttack(o.attack);
  const backend = await initBackend(o.backend);
  const { classifier, meta, quantized } = await loadClassifier(o.dir, o.gradient ? { gradient: o.gradient } : {});
  const integer = o.integerCheck ? await loadIntegerOrDispose(o.dir, quantized, classifier) : null;
  try {
    if (o.gradient && !quantized) throw new QrobustError('invalid_option', `${o.dir} is a full-precision model; --grad applies to quantized models only`);
    const seed = o.seed ?? 0;
    const n = o.n ?? 500;
    const data = await loadDataset(meta.dataset, 'test', { dataDir: o.dataDir, n, seed });
    if (JSON.stringify(data.shape) !== JSON.stringify(meta.inputShape)) {
      throw new QrobustError('shape_mismatch', `${o.dir} takes inputs of shape [${meta.inputShape.join(',')}] but ${meta.dataset} images are [${data.shape.join(',')}]`);
    }
    const { x, y } = toTensors(data);
    const labels = Int32Array.from(y.dataSync());
    y.dispose();
    const uses = new Set<string>(spec.uses);
    const pick = <T>(key: string, v: T | undefined): T | undefined => {
      if (v !== undefined && !uses.has(key)) throw new QrobustError('invalid_option', `${spec.name} takes no ${key} option`);
      return v;
    };
    const options = {
      ...(o.norm ? { norm: o.norm } : {}),
      ...(o.loss ? { loss: o.loss } : {}),
      steps: pick('steps', o.steps),
      stepSize: pick('stepSize', o.stepSize),
      restarts: pick('restarts', o.restarts),
      seed,
      ...(o.batchSize ? { batchSize: o.batchSize } : {}),
    };
    const rows: AttackDirRow[] = [];
    try {
      const intClean = integer ? predict(integer, x) : null;
      for (const eps of o.epsilons) {
        const run = runAttack(spec, classifier, x, labels, { ...options, epsilons: [eps] });
        const r = run.results[0]!;
        let check: IntegerCheck | undefined;
        if (integer && intClean) {
          const intAdv = predict(integer, r.adversarial);
          let robust = 0;
          let clean = 0;
          let disagreements = 0;
          for (let i = 0; i < labels.length; i++) {
            if (intClean[i] === labels[i]) clean++;
            if (intClean[i] === labels[i] && intAdv[i] === labels[i]) robust++;
            if (intAdv[i] !== r.predictions[i]) disagreements++;
          }
          check = { robustAccuracy: robust / labels.length, cleanAccuracy: clean / labels.length, disagreements };
        }
        run.dispose();
        const row: AttackDirRow = {
          eps,
          cleanAccuracy: run.cleanAccuracy,
          robustAccuracy: r.robustAccuracy,
          successRate: r.successRate,
          meanPerturbation: r.meanPerturbation,
          meanQueries: r.meanQueries,
          seconds: r.seconds,
          ...(check ? { integer: check } : {}),
        };
        rows.push(row);
        o.onEpsilon?.(row);
      }
    } finally {
      x.dispose();
    }
    const steps = uses.has('steps') ? (o.steps ?? (spec.defaults.steps as number)) : null;
    return {
      attack: spec.name,
      model: o.dir,
      path: quantized ? 'fake-quant' : 'float32',
      results: rows,
      config: {
        norm: o.norm ?? spec.norms[0]!,
        loss: uses.has('loss') ? (o.loss ?? spec.defaults.loss ?? 'ce') : null,
        steps,
        stepSize: o.stepSize ?? null,
        restarts: uses.has('restarts') ? (o.restarts ?? spec.defaults.restarts ?? 1) : null,
        gradient: quantized ? (o.gradient ?? 'ste') : null,
        n: data.count,
        seed,
        dataset: describeDataset(data),
        classifier: classifier.description,
        versions: { ...versions(), backend: backend.name },
      },
    };
  } finally {
    classifier.dispose();
    integer?.dispose();
  }
}

async function loadIntegerOrDispose(dir: string, quantized: boolean, other: Classifier): Promise<Classifier> {
  try {
    if (!quantized) throw new QrobustError('invalid_option', `${dir} is a full-precision model; --integer-check needs a quantized model`);
    return (await loadClassifier(dir, { integer: true })).classifier;
  } catch (e) {
    other.dispose();
    throw e;
  }
}
