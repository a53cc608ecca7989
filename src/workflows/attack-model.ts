/**
 * The library function behind `qrobust attack`: load a model directory (float or quantized), attack a seeded
 * subset of its dataset's test split over an ε list, and return a JSON-ready report. Threat models:
 * - white-box on the model itself (quantized models: fake-quant path, `gradient` 'exact' or 'ste');
 * - transfer (`source`): craft on another model directory, evaluate on this one; both are reported;
 * - black-box on the deployed arithmetic (`query: 'integer'`): score- and decision-based attacks query only
 *   the integer-exact path of a quantized model;
 * - `integerCheck`: examples found on the fake-quant path re-classified on the integer-exact path;
 * - `eot`, `pixelGrid`, `targeted` as in `runAttack`.
 */
import { initBackend, type BackendName } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { versions } from '../core/versions.js';
import { describeDataset, loadDataset, toTensors, type DatasetDescription } from '../data/index.js';
import type { Classifier } from '../models/classifier.js';
import type { ModelMetadata } from '../models/metadata.js';
import { accuracyOf } from '../models/prediction.js';
import { loadClassifier } from '../quant/load-classifier.js';
import { writeExamples, type ExamplesAtEpsilon } from '../attacks/examples-file.js';
import { getAttack } from '../attacks/registry.js';
import { predict, runAttack, type EpsilonResult } from '../attacks/run.js';
import type { TargetMode } from '../attacks/target-modes.js';
import { chooseTargets } from '../attacks/targets.js';
import { evaluateTransfer } from '../attacks/transfer.js';
import type { AttackOptionName, AttackOptions, LossName, Norm } from '../attacks/types.js';
import { flagOf, tunableOption, tunableTypeError, type TunableValues } from '../attacks/tunable-options.js';

export interface AttackDirOptions {
  readonly dir: string;
  readonly attack: string;
  readonly epsilons: readonly number[];
  readonly norm?: Norm;
  /** The attack's tunable options (attacks/tunable-options.ts); each must be one the attack uses. */
  readonly options?: TunableValues;
  /** Test images to attack, a seeded subset (default 500). */
  readonly n?: number;
  readonly seed?: number;
  /** Gradient through quantizers of the attacked model (quantized models; default 'ste'). */
  readonly gradient?: 'exact' | 'ste';
  readonly integerCheck?: boolean;
  /** Craft the examples on this model directory and evaluate them on `dir` (a transfer attack). */
  readonly source?: string;
  /** Which computation the attack queries: the model ('model', default) or its integer-exact path. */
  readonly query?: 'model' | 'integer';
  /** Make the attack targeted, at a random class or the least likely one (seeded). */
  readonly targeted?: TargetMode;
  /** Round adversarial inputs onto the lattice of this many levels (255: 8-bit) inside the ε-ball. */
  readonly pixelGrid?: number;
  /** Write the adversarial examples of every ε to this file. */
  readonly saveExamples?: string;
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

/** The attacked (source) model's own figures in a transfer attack. */
export interface SourceFigures {
  readonly cleanAccuracy: number;
  readonly robustAccuracy: number;
  readonly successRate: number;
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
  readonly source?: SourceFigures;
  readonly pixelGrid?: { readonly levels: number; readonly lostToRounding: number };
  /** Ensembles: how many samples each member broke ('clean': adversarial before any attack). */
  readonly brokenBy?: Record<string, number>;
}

export type ComputationPath = 'float32' | 'fake-quant' | 'integer';

export interface AttackDirReport {
  readonly attack: string;
  readonly model: string;
  /** Which computation of `model` the examples were evaluated on. */
  readonly path: ComputationPath;
  /** Transfer attacks: the model the examples were crafted on. */
  readonly source: { readonly model: string; readonly path: ComputationPath } | null;
  readonly results: readonly AttackDirRow[];
  readonly config: {
    readonly norm: Norm;
    /** null for attacks that take no loss (DeepFool). */
    readonly loss: LossName | null;
    readonly steps: number | null;
    /** The absolute step size when one was given. */
    readonly stepSize: number | null;
    /** Otherwise the step as a multiple of ε (given, the attack's default, or 2.5 / steps). */
    readonly relStepSize: number | null;
    readonly restarts: number | null;
    readonly gradient: 'exact' | 'ste' | null;
    readonly n: number;
    readonly seed: number;
    readonly epsilons: readonly number[];
    /** Every option the attack ran with, its defaults included. */
    readonly options: Record<string, unknown>;
    readonly targeted: TargetMode | null;
    readonly query: 'model' | 'integer';
    readonly pixelGrid: number | null;
    readonly integerCheck: boolean;
    readonly batchSize: number;
    readonly dataset: DatasetDescription;
    readonly classifier: string;
    readonly sourceClassifier: string | null;
    readonly versions: Record<string, string>;
  };
}

/** The classifiers one run needs, loaded once and disposed together. */
interface Models {
  /** The model under test, as evaluated. */
  readonly target: Classifier;
  readonly targetQuantized: boolean;
  readonly targetMeta: ModelMetadata;
  /** The classifier the attack queries (the target itself unless transferring). */
  readonly attacked: Classifier;
  readonly attackedQuantized: boolean;
  readonly integer: Classifier | null;
  dispose(): void;
}

async function loadModels(o: AttackDirOptions): Promise<Models> {
  const owned: Classifier[] = [];
  const dispose = (): void => owned.forEach((c) => c.dispose());
  try {
    const query = o.query ?? 'model';
    if (query === 'integer' && o.source) throw new QrobustError('invalid_option', '--query integer and --source exclude each other (a transfer attack queries only the source)');
    if (query === 'integer' && o.integerCheck) throw new QrobustError('invalid_option', '--integer-check is implied by --query integer (the examples are found on the integer path)');
    if (query === 'integer' && o.gradient) throw new QrobustError('invalid_option', '--grad does not apply with --query integer (the integer path has no gradients)');
    const gradient = o.gradient && !o.source ? { gradient: o.gradient } : {};
    const main = await loadClassifier(o.dir, query === 'integer' ? { integer: true } : gradient);
    owned.push(main.classifier);
    let attacked = main.classifier;
    let attackedQuantized = main.quantized;
    let srcMeta: typeof main.meta | undefined;
    if (o.source) {
      const src = await loadClassifier(o.source, o.gradient ? { gradient: o.gradient } : {});
      owned.push(src.classifier);
      if (src.meta.dataset !== main.meta.dataset || JSON.stringify(src.meta.inputShape) !== JSON.stringify(main.meta.inputShape)) {
        throw new QrobustError('shape_mismatch', `--source ${o.source} was trained on ${src.meta.dataset} [${src.meta.inputShape.join(',')}] but ${o.dir} on ${main.meta.dataset} [${main.meta.inputShape.join(',')}]`);
      }
      attacked = src.classifier;
      attackedQuantized = src.quantized;
      srcMeta = src.meta;
    }
    const attackedMeta = o.source ? srcMeta! : main.meta;
    if (o.gradient && !attackedQuantized && attackedMeta['inputMap'] === undefined) {
      throw new QrobustError('invalid_option', `${o.source ?? o.dir} is a full-precision model; --grad applies to quantized models and input maps only`);
    }
    let integer: Classifier | null = null;
    if (o.integerCheck) {
      if (!main.quantized) throw new QrobustError('invalid_option', `${o.dir} is a full-precision model; --integer-check needs a quantized model`);
      integer = (await loadClassifier(o.dir, { integer: true })).classifier;
      owned.push(integer);
    }
    return { target: main.classifier, targetQuantized: main.quantized, targetMeta: main.meta, attacked, attackedQuantized, integer, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}

function pathOf(quantized: boolean, integer: boolean): ComputationPath {
  return integer ? 'integer' : quantized ? 'fake-quant' : 'float32';
}

/**
 * Attacks a model directory at every ε and returns the report `qrobust attack` prints and writes.
 * @throws QrobustError for unknown attacks, bad options, a shape mismatch, `--grad` or `integerCheck` on a float
 *   model, a gradient attack with `query: 'integer'`, or incompatible source and target models.
 */
export async function attackModelDir(o: AttackDirOptions): Promise<AttackDirReport> {
  const spec = getAttack(o.attack);
  const uses = new Set<string>(spec.uses);
  const given: TunableValues = {};
  for (const [key, v] of Object.entries(o.options ?? {})) {
    if (v === undefined) continue;
    const t = tunableOption(key);
    if (!t) throw new QrobustError('invalid_option', `${spec.name}: unknown option '${key}'`);
    if (!uses.has(key)) throw new QrobustError('invalid_option', `${spec.name} takes no ${key} option (--${flagOf(t)})`);
    const wrong = tunableTypeError(t, v);
    if (wrong) throw new QrobustError('invalid_option', `${spec.name}: --${flagOf(t)}: ${wrong}`);
    given[key as AttackOptionName] = v;
  }
  const loss = given.loss as LossName | undefined;
  const steps = given.steps as number | undefined;
  if (o.targeted && !spec.targeted) throw new QrobustError('invalid_option', `${spec.name} has no targeted mode`);
  const backend = await initBackend(o.backend);
  const models = await loadModels(o);
  try {
    const seed = o.seed ?? 0;
    const n = o.n ?? 500;
    const query = o.query ?? 'model';
    const batchSize = o.batchSize ?? 256;
    const meta = models.targetMeta;
    const data = await loadDataset(meta.dataset, 'test', { dataDir: o.dataDir, n, seed });
    if (JSON.stringify(data.shape) !== JSON.stringify(meta.inputShape)) {
      throw new QrobustError('shape_mismatch', `${o.dir} takes inputs of shape [${meta.inputShape.join(',')}] but ${meta.dataset} images are [${data.shape.join(',')}]`);
    }
    const { x, y } = toTensors(data);
    const labels = Int32Array.from(y.dataSync());
    y.dispose();
    const rows: AttackDirRow[] = [];
    const saved: ExamplesAtEpsilon[] = [];
    let targets: Int32Array | null = null;
    try {
      // The target classes come from their own stream, so the attack's stream is the same targeted or not.
      targets = o.targeted ? chooseTargets(models.attacked, x, labels, o.targeted, new Rng((seed ^ 0x7a3d5f1b) >>> 0), batchSize) : null;
      const options = {
        ...(o.norm ? { norm: o.norm } : {}),
        ...given,
        targets,
        seed,
      } as Omit<AttackOptions, 'epsilon'>;
      const transfer = models.attacked !== models.target;
      const targetClean = transfer ? predict(models.target, x, batchSize) : null;
      const intClean = models.integer ? predict(models.integer, x, batchSize) : null;
      const attackedClean = accuracyOf(predict(models.attacked, x, batchSize), labels).accuracy;
      const context: RowContext = { models, labels, targets, targetClean, intClean, batchSize, attackedClean };
      // Each ε's adversarial tensor is consumed and disposed in onEpsilon, so the returned run holds no tensors.
      runAttack(spec, models.attacked, x, labels, {
        ...options,
        epsilons: o.epsilons,
        batchSize,
        ...(o.pixelGrid !== undefined ? { pixelGrid: o.pixelGrid } : {}),
        onEpsilon: (r) => {
          const row = makeRow(r, context);
          if (o.saveExamples) saved.push({ eps: r.epsilon, pixels: Float32Array.from(r.adversarial.dataSync() as Float32Array), success: r.success, predictions: r.predictions });
          r.adversarial.dispose();
          rows.push(row);
          o.onEpsilon?.(row);
        },
      });
    } finally {
      x.dispose();
    }
    const report: AttackDirReport = {
      attack: spec.name,
      model: o.dir,
      path: pathOf(models.targetQuantized, query === 'integer'),
      source: o.source ? { model: o.source, path: pathOf(models.attackedQuantized, false) } : null,
      results: rows,
      config: {
        norm: o.norm ?? spec.norms[0]!,
        loss: uses.has('loss') ? (loss ?? spec.defaults.loss ?? 'ce') : null,
        steps: uses.has('steps') ? (steps ?? (spec.defaults.steps as number)) : null,
        stepSize: (given.stepSize as number | undefined) ?? null,
        relStepSize: uses.has('stepSize') && given.stepSize === undefined ? ((given.relStepSize as number | undefined) ?? spec.defaults.relStepSize ?? 2.5 / (steps ?? spec.defaults.steps ?? 1)) : null,
        restarts: uses.has('restarts') ? ((given.restarts as number | undefined) ?? spec.defaults.restarts ?? 1) : null,
        gradient: models.attackedQuantized && query === 'model' ? (o.gradient ?? 'ste') : null,
        n: data.count,
        seed,
        epsilons: o.epsilons,
        options: { ...spec.defaults, ...given, norm: o.norm ?? spec.norms[0]! },
        targeted: o.targeted ?? null,
        query,
        pixelGrid: o.pixelGrid ?? null,
        integerCheck: !!o.integerCheck,
        batchSize,
        dataset: describeDataset(data),
        classifier: models.target.description,
        sourceClassifier: o.source ? models.attacked.description : null,
        versions: { ...versions(), backend: backend.name },
      },
    };
    if (o.saveExamples) {
      await writeExamples(o.saveExamples, {
        attack: spec.name,
        model: o.dir,
        norm: report.config.norm,
        seed,
        dataset: report.config.dataset,
        sourceIndices: data.sourceIndices ? [...data.sourceIndices] : null,
        shape: [data.count, ...data.shape],
        labels: [...labels],
        targets: targets ? [...targets] : null,
        results: saved,
      });
    }
    return report;
  } finally {
    models.dispose();
  }
}

/** What every ε row is computed against. */
interface RowContext {
  readonly models: Models;
  readonly labels: Int32Array;
  readonly targets: Int32Array | null;
  /** Clean predictions of the target (transfer attacks) and of its integer path (integer check). */
  readonly targetClean: Int32Array | null;
  readonly intClean: Int32Array | null;
  readonly batchSize: number;
  /** Clean accuracy of the attacked classifier. */
  readonly attackedClean: number;
}

/** One ε row: the attacked model's figures, or for a transfer attack the target's with the source's beside. */
function makeRow(r: EpsilonResult, c: RowContext): AttackDirRow {
  const { models, labels, targets, targetClean, intClean, batchSize } = c;
  const n = labels.length;
  const own = { cleanAccuracy: c.attackedClean, robustAccuracy: r.robustAccuracy, successRate: r.successRate };
  let main = own;
  let source: SourceFigures | undefined;
  if (targetClean) {
    const t = evaluateTransfer(models.target, r.adversarial, labels, targets, targetClean, batchSize);
    main = { cleanAccuracy: t.cleanAccuracy, robustAccuracy: t.robustAccuracy, successRate: t.successRate };
    source = own;
  }
  let integer: IntegerCheck | undefined;
  if (models.integer && intClean) {
    const fakePred = targetClean ? predict(models.target, r.adversarial, batchSize) : r.predictions;
    const t = evaluateTransfer(models.integer, r.adversarial, labels, targets, intClean, batchSize);
    let disagreements = 0;
    for (let i = 0; i < n; i++) if (t.predictions[i] !== fakePred[i]) disagreements++;
    integer = { robustAccuracy: t.robustAccuracy, cleanAccuracy: t.cleanAccuracy, disagreements };
  }
  let brokenBy: Record<string, number> | undefined;
  if (r.brokenBy) {
    brokenBy = {};
    for (const b of r.brokenBy) if (b !== null) brokenBy[b] = (brokenBy[b] ?? 0) + 1;
  }
  return {
    eps: r.epsilon,
    cleanAccuracy: main.cleanAccuracy,
    robustAccuracy: main.robustAccuracy,
    successRate: main.successRate,
    meanPerturbation: r.meanPerturbation,
    meanQueries: r.meanQueries,
    seconds: r.seconds,
    ...(integer ? { integer } : {}),
    ...(source ? { source } : {}),
    ...(r.pixelGrid ? { pixelGrid: r.pixelGrid } : {}),
    ...(brokenBy ? { brokenBy } : {}),
  };
}
