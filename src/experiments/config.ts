/**
 * The experiment config: one JSON file naming the models (trained or loaded), their quantized variants, the
 * attacks with their ε grids and threat models, the transfer pairs, and the measurements that compare a
 * full-precision model with its variants. `loadExperimentConfig` validates it and fills in every default, so
 * the value it returns is the normalized config the task ids are hashed from. Every error is one line naming
 * the file and the JSON path of the field (`exp.json: $.attacks[0].eps[2]: expected a number >= 0, got -1`).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { resolveOptions } from '../attacks/options.js';
import { ATTACK_NAMES } from '../attacks/attack-names.js';
import { getAttack } from '../attacks/registry.js';
import { tunableOption, tunableTypeError } from '../attacks/tunable-options.js';
import type { AttackSpec, Norm } from '../attacks/types.js';
import { QrobustError } from '../core/errors.js';
import { DATASET_NAMES, getDatasetSpec } from '../data/index.js';
import type { Classifier } from '../models/classifier.js';
import { readMetadata } from '../models/metadata.js';
import { ARCH_NAMES } from '../models/arch-names.js';
import { isQuantizedMeta } from '../quant/quantized-dir.js';
import { makeQuantSpec, specLabel, type QuantSpec, type QuantSpecInit } from '../quant/spec.js';
import { VERIFY_METHODS } from '../verify/methods.js';
import { JsonReader } from './json-reader.js';

/** Gradient through the quantizers of a quantized model (see `GradientMode` in models/classifier.ts). */
export type GradMode = 'exact' | 'ste';
export const GRAD_MODES: readonly GradMode[] = ['exact', 'ste'];

export interface TrainConfig {
  readonly dataset: string;
  readonly arch: string;
  readonly epochs: number;
  readonly seed: number;
  /** Train on a seeded subset of this many images (null: the whole training split). */
  readonly n: number | null;
  readonly batchSize: number | null;
  readonly learningRate: number | null;
}

export type ModelSource =
  | { readonly kind: 'train'; readonly train: TrainConfig }
  /** A model directory made elsewhere; `path` as written in the config, relative to the config file. */
  | {
      readonly kind: 'load';
      readonly path: string;
      readonly dataset: string;
      readonly quantized: boolean;
      /** A quantized model with quantizers on its input or activations (so its two gradient modes differ). */
      readonly inputPathQuantized: boolean;
    };

export interface ModelConfig {
  readonly name: string;
  readonly source: ModelSource;
}

export interface QatConfig {
  readonly epochs: number;
  readonly n: number | null;
  readonly learningRate: number | null;
  readonly batchSize: number | null;
}

export interface QuantizeConfig {
  /** The variant's name; the quantized model is called `<model>-<name>`. Default: the spec's label (`w4-pc`). */
  readonly name: string;
  readonly spec: QuantSpec;
  readonly qat: QatConfig | null;
  /** Calibration images drawn from the training split. */
  readonly calibrationN: number;
  /** The full-precision models to quantize (null: all of them). */
  readonly models: readonly string[] | null;
}

/** Options passed to the attack, validated against the attack's own option list. */
export type AttackOptionValues = Readonly<Record<string, number | string | boolean>>;

export interface AttackConfig {
  readonly attack: string;
  readonly eps: readonly number[];
  readonly norm: Norm;
  readonly options: AttackOptionValues;
  /** Gradient modes to attack quantized models with (gradient attacks only; full-precision models: exact). */
  readonly grad: readonly GradMode[];
  readonly models: readonly string[] | null;
  /** Re-classify every adversarial example of a quantized model on its integer-exact path. */
  readonly integerCheck: boolean;
}

export interface TransferConfig {
  readonly attack: string;
  readonly eps: readonly number[];
  readonly norm: Norm;
  readonly options: AttackOptionValues;
  /** Gradient mode when the source is quantized. */
  readonly grad: GradMode;
  /** Models the examples are crafted on (null: every model). */
  readonly sources: readonly string[] | null;
  /** Models they are evaluated on (null: every other model of the same dataset). */
  readonly targets: readonly string[] | null;
}

/** Bernhard et al.'s comparison of a full-precision model with each of its quantized variants. */
export interface CompareConfig {
  readonly n: number;
  /** L∞ size of the FGSM perturbation (crafted on the full-precision model) whose propagation is measured. */
  readonly eps: number;
}

/** Athalye et al.'s checks for gradient masking. */
export interface DiagnosticsConfig {
  /** Images on which input gradients are inspected. */
  readonly n: number;
  /** An attack at a very large ε, which must reach (almost) zero accuracy when gradients are informative. */
  readonly largeEps: { readonly attack: string; readonly eps: number; readonly norm: Norm; readonly options: AttackOptionValues; readonly grad: readonly GradMode[] } | null;
}

/** Formal verification of local robustness (`verifyModelDir`) of chosen models at each ε. */
export interface VerifyConfig {
  readonly eps: readonly number[];
  /** Test images verified: the first of the experiment's seeded subsets (n <= data.n). */
  readonly n: number;
  readonly method: string;
  /** Seconds per sample. */
  readonly timeout: number;
  /** For quantized models: the deployed integer program (default) or the fake-quant float model. */
  readonly semantics: 'integer' | 'fake-quant';
  readonly models: readonly string[] | null;
}

/** The adaptive evaluation (attacks/adaptive.ts) of chosen models at each ε: per-sample worst case and the masking flag. */
export interface AdaptiveConfig {
  readonly eps: readonly number[];
  readonly norm: Norm;
  /** Test images: the first of the experiment's seeded subsets (n <= data.n). */
  readonly n: number;
  readonly steps: number | null;
  readonly restarts: number | null;
  readonly maxQueries: number | null;
  readonly targetClasses: number | null;
  readonly eot: number | null;
  readonly models: readonly string[] | null;
}

export interface DataConfig {
  /** Test images every per-sample measurement uses (a seeded subset of the test split). */
  readonly n: number;
  readonly seed: number;
  /** Images kept in the results for the report's grid of clean and adversarial examples. */
  readonly examples: number;
}

export interface ExperimentConfig {
  readonly name: string;
  readonly seed: number;
  readonly data: DataConfig;
  readonly models: readonly ModelConfig[];
  readonly quantize: readonly QuantizeConfig[];
  readonly attacks: readonly AttackConfig[];
  readonly transfer: readonly TransferConfig[];
  readonly compare: CompareConfig | null;
  readonly diagnostics: DiagnosticsConfig | null;
  readonly verify: VerifyConfig | null;
  readonly adaptive: AdaptiveConfig | null;
}

/** What validation needs to know about the config file. */
export interface ConfigSource {
  /** The file name used in error messages. */
  readonly file: string;
  /** The folder relative `load` paths are resolved against. */
  readonly baseDir: string;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const NAME_HINT = 'a name of letters, digits, _ . - (starting with a letter or digit, at most 64 characters)';

/** Reads and validates an experiment config file. */
export async function loadExperimentConfig(file: string): Promise<ExperimentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new QrobustError('io_error', `${file}: cannot read the config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new QrobustError('invalid_argument', `${file}: not valid JSON (${(e as Error).message})`);
  }
  return validateExperimentConfig(value, { file, baseDir: dirname(resolve(file)) });
}

/** Validates a parsed config and fills in its defaults. */
export async function validateExperimentConfig(value: unknown, source: ConfigSource): Promise<ExperimentConfig> {
  const root = new JsonReader(source.file, '$', value).object(['name', 'seed', 'data', 'models', 'quantize', 'attacks', 'transfer', 'compare', 'diagnostics', 'verify', 'adaptive']);
  const name = root.at('name').string();
  const seed = root.at('seed').optional((r) => r.number({ integer: true, min: 0 }), 0);
  const data = readData(root.at('data'), seed);
  const models: ModelConfig[] = [];
  for (const r of root.at('models').array({ nonEmpty: true })) models.push(await readModel(r, seed, source));
  checkUnique(root.at('models'), models.map((m) => m.name), 'model name');
  const fpNames = models.filter((m) => !(m.source.kind === 'load' && m.source.quantized)).map((m) => m.name);
  const quantize = root.at('quantize').optional((r) => r.array().map((q) => readQuantize(q, fpNames)), []);
  const allNames = [...models.map((m) => m.name)];
  quantize.forEach((q) => (q.models ?? fpNames).forEach((m) => allNames.push(`${m}-${q.name}`)));
  checkUnique(root.at('quantize'), allNames, 'model name (a variant is named <model>-<variant>)');
  const datasets = new Map<string, string>();
  for (const m of models) datasets.set(m.name, datasetOf(m));
  for (const q of quantize) for (const m of q.models ?? fpNames) datasets.set(`${m}-${q.name}`, datasets.get(m)!);
  const attacks = root.at('attacks').optional((r) => r.array().map((a) => readAttack(a, allNames, datasets)), []);
  const transfer = root.at('transfer').optional((r) => r.array().map((t) => readTransfer(t, allNames, datasets)), []);
  const compare = root.at('compare').optional((r) => readCompare(r, data.n), null);
  const diagnostics = root.at('diagnostics').optional((r) => readDiagnostics(r, data.n, datasets), null);
  const verify = root.at('verify').present && root.at('verify').value !== null ? readVerify(root.at('verify'), data.n, allNames) : null;
  const adaptive = root.at('adaptive').present && root.at('adaptive').value !== null ? readAdaptive(root.at('adaptive'), data.n, allNames) : null;
  return { name, seed, data, models, quantize, attacks, transfer, compare, diagnostics, verify, adaptive };
}

/**
 * Whether a spec puts quantizers on the path from the input to the logits (input or activations). Only then do
 * exact and straight-through gradients differ; with quantized weights alone both are the true gradient.
 */
export function inputPathQuantized(spec: QuantSpec): boolean {
  return spec.inputs !== null || spec.activations !== null;
}

function checkUnique(r: JsonReader, names: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) r.fail(`duplicate ${what} '${n}'`);
    seen.add(n);
  }
}

function datasetOf(m: ModelConfig): string {
  return m.source.kind === 'train' ? m.source.train.dataset : m.source.dataset;
}

function readData(r: JsonReader, seed: number): DataConfig {
  if (!r.present) return { n: 500, seed, examples: 6 };
  r.object(['n', 'seed', 'examples']);
  return {
    n: r.at('n').optional((x) => x.number({ integer: true, min: 1 }), 500),
    seed: r.at('seed').optional((x) => x.number({ integer: true, min: 0 }), seed),
    examples: r.at('examples').optional((x) => x.number({ integer: true, min: 0, max: 64 }), 6),
  };
}

async function readModel(r: JsonReader, seed: number, source: ConfigSource): Promise<ModelConfig> {
  r.object(['name', 'train', 'load']);
  const name = r.at('name').string({ pattern: NAME_PATTERN, patternHint: NAME_HINT });
  if (r.at('train').present === r.at('load').present) r.fail("expected exactly one of 'train' (train a model) or 'load' (a model directory)");
  if (r.at('load').present) {
    const path = r.at('load').string();
    const meta = await readMetadata(resolve(source.baseDir, path)).catch((e: Error) => r.at('load').fail(e.message));
    const spec = isQuantizedMeta(meta) ? (meta['quantization'] as { spec?: QuantSpec }).spec : undefined;
    return {
      name,
      source: { kind: 'load', path, dataset: meta.dataset, quantized: isQuantizedMeta(meta), inputPathQuantized: spec ? inputPathQuantized(spec) : false },
    };
  }
  const t = r.at('train').object(['dataset', 'arch', 'epochs', 'seed', 'n', 'batchSize', 'learningRate']);
  const dataset = t.at('dataset').string({ choices: DATASET_NAMES });
  const arch = t.at('arch').string({ choices: ARCH_NAMES });
  return {
    name,
    source: {
      kind: 'train',
      train: {
        dataset,
        arch,
        epochs: t.at('epochs').number({ integer: true, min: 1 }),
        seed: t.at('seed').optional((x) => x.number({ integer: true, min: 0 }), seed),
        n: t.at('n').optional((x) => x.number({ integer: true, min: 1 }), null),
        batchSize: t.at('batchSize').optional((x) => x.number({ integer: true, min: 1 }), null),
        learningRate: t.at('learningRate').optional((x) => x.number({ min: 0, exclusiveMin: true }), null),
      },
    },
  };
}

function readModelList(r: JsonReader, known: readonly string[]): string[] {
  const names = r.array({ nonEmpty: true }).map((x) => {
    const n = x.string();
    if (!known.includes(n)) x.fail(`unknown model '${n}' (models: ${known.join(', ')})`);
    return n;
  });
  checkUnique(r, names, 'model');
  return names;
}

function readQuantize(r: JsonReader, fpNames: readonly string[]): QuantizeConfig {
  r.object(['name', 'spec', 'qat', 'calibrationN', 'models']);
  const specReader = r.at('spec').object(['weights', 'activations', 'inputs', 'rounding', 'firstLast']);
  const spec = ((): QuantSpec => {
    try {
      return makeQuantSpec(specReader.value as QuantSpecInit);
    } catch (e) {
      return specReader.fail((e as Error).message);
    }
  })();
  if (spec.rounding === 'stochastic') r.at('spec').at('rounding').fail("'stochastic' rounding is for training only; variants are evaluated with 'nearest'");
  const qat = r.at('qat').optional((q) => {
    q.object(['epochs', 'n', 'learningRate', 'batchSize']);
    return {
      epochs: q.at('epochs').number({ integer: true, min: 1 }),
      n: q.at('n').optional((x) => x.number({ integer: true, min: 1 }), null),
      learningRate: q.at('learningRate').optional((x) => x.number({ min: 0, exclusiveMin: true }), null),
      batchSize: q.at('batchSize').optional((x) => x.number({ integer: true, min: 1 }), null),
    };
  }, null);
  const label = specLabel(spec) + (qat ? '-qat' : '');
  return {
    name: r.at('name').optional((x) => x.string({ pattern: NAME_PATTERN, patternHint: NAME_HINT }), label),
    spec,
    qat,
    calibrationN: r.at('calibrationN').optional((x) => x.number({ integer: true, min: 1 }), 1000),
    models: r.at('models').optional((x) => readModelList(x, fpNames), null),
  };
}

/** Keys of an attack entry that are not options of the attack itself. */
const ATTACK_KEYS = ['attack', 'eps', 'norm', 'grad', 'models', 'integerCheck'] as const;
const TRANSFER_KEYS = ['attack', 'eps', 'norm', 'grad', 'sources', 'targets'] as const;

/** A stand-in classifier for option validation: `resolveOptions` reads only the class count. */
function optionProbe(numClasses: number): Classifier {
  return {
    inputShape: [1, 1, 1],
    numClasses,
    bounds: [0, 1],
    gradientMode: 'exact',
    description: 'option check',
    logits: () => {
      throw new Error('the option probe has no logits');
    },
    dispose: () => undefined,
  };
}

interface AttackParts {
  readonly spec: AttackSpec;
  readonly eps: number[];
  readonly norm: Norm;
  readonly options: AttackOptionValues;
}

/** The attack name, ε list, norm and the attack's own options of an entry, validated by the attack registry. */
function readAttackParts(r: JsonReader, ownKeys: readonly string[], numClasses: number, epsReader?: (r: JsonReader) => number[]): AttackParts {
  const spec = (() => {
    const name = r.at('attack').string();
    try {
      return getAttack(name);
    } catch {
      return r.at('attack').fail(`unknown attack '${name}' (attacks: ${ATTACK_NAMES.join(', ')})`);
    }
  })();
  r.object([...ownKeys, ...spec.uses]);
  const eps = epsReader ? epsReader(r.at('eps')) : r.at('eps').array({ nonEmpty: true }).map((x) => x.number({ min: 0 }));
  const sorted = [...eps].sort((a, b) => a - b);
  if (sorted.some((e, i) => e !== eps[i] || (i > 0 && e === sorted[i - 1]))) r.at('eps').fail('expected increasing values without repeats');
  const norm = r.at('norm').optional((x) => x.string({ choices: spec.norms }) as Norm, spec.norms[0]!);
  const options: Record<string, number | string | boolean> = {};
  for (const key of r.keys()) {
    if (ownKeys.includes(key)) continue;
    const v = r.at(key).value;
    const t = tunableOption(key);
    const wrong = t ? tunableTypeError(t, v) : `not a tunable attack option`;
    if (wrong) r.at(key).fail(wrong);
    options[key] = v as number | string | boolean;
  }
  for (const epsilon of eps) {
    try {
      resolveOptions(spec, optionProbe(numClasses), 1, { ...options, norm, epsilon });
    } catch (e) {
      r.fail((e as Error).message);
    }
  }
  return { spec, eps, norm, options };
}

function classCount(names: readonly string[], datasets: ReadonlyMap<string, string>): number {
  return Math.min(...names.map((n) => getDatasetSpec(datasets.get(n)!).classNames.length));
}

function readGradList(r: JsonReader, spec: AttackSpec): GradMode[] {
  if (!r.present) return spec.access === 'gradient' ? ['ste'] : [];
  if (spec.access !== 'gradient') r.fail(`'${spec.name}' queries ${spec.access} only; grad applies to gradient attacks`);
  const modes = r.array({ nonEmpty: true }).map((x) => x.string({ choices: GRAD_MODES }) as GradMode);
  checkUnique(r, modes, 'gradient mode');
  return modes;
}

function readAttack(r: JsonReader, allNames: readonly string[], datasets: ReadonlyMap<string, string>): AttackConfig {
  r.anyObject();
  const models = r.at('models').optional((x) => readModelList(x, allNames), null);
  const parts = readAttackParts(r, ATTACK_KEYS, classCount(models ?? allNames, datasets));
  return {
    attack: parts.spec.name,
    eps: parts.eps,
    norm: parts.norm,
    options: parts.options,
    grad: readGradList(r.at('grad'), parts.spec),
    models,
    integerCheck: r.at('integerCheck').optional((x) => x.boolean(), false),
  };
}

function readTransfer(r: JsonReader, allNames: readonly string[], datasets: ReadonlyMap<string, string>): TransferConfig {
  r.anyObject();
  const sources = r.at('sources').optional((x) => readModelList(x, allNames), null);
  const targets = r.at('targets').optional((x) => readModelList(x, allNames), null);
  const parts = readAttackParts(r, TRANSFER_KEYS, classCount(allNames, datasets));
  const grad = r.at('grad').optional((x) => {
    if (parts.spec.access !== 'gradient') x.fail(`'${parts.spec.name}' queries ${parts.spec.access} only; grad applies to gradient attacks`);
    return x.string({ choices: GRAD_MODES }) as GradMode;
  }, 'ste');
  return { attack: parts.spec.name, eps: parts.eps, norm: parts.norm, options: parts.options, grad, sources, targets };
}

function readCompare(r: JsonReader, dataN: number): CompareConfig {
  r.object(['n', 'eps']);
  return {
    n: r.at('n').optional((x) => x.number({ integer: true, min: 1, max: dataN }), Math.min(100, dataN)),
    eps: r.at('eps').number({ min: 0, exclusiveMin: true }),
  };
}

function readDiagnostics(r: JsonReader, dataN: number, datasets: ReadonlyMap<string, string>): DiagnosticsConfig {
  r.object(['n', 'largeEps']);
  const largeEps = r.at('largeEps').optional((x) => {
    x.anyObject();
    const parts = readAttackParts(x, ['attack', 'eps', 'norm', 'grad'], classCount([...datasets.keys()], datasets), (e) => [e.number({ min: 0, exclusiveMin: true })]);
    if (parts.spec.access !== 'gradient') x.at('attack').fail(`the large-ε check needs a gradient attack (e.g. pgd), got '${parts.spec.name}'`);
    const grad = x.at('grad').present ? readGradList(x.at('grad'), parts.spec) : [...GRAD_MODES];
    return { attack: parts.spec.name, eps: parts.eps[0]!, norm: parts.norm, options: parts.options, grad };
  }, null);
  return { n: r.at('n').optional((x) => x.number({ integer: true, min: 1, max: dataN }), Math.min(100, dataN)), largeEps };
}

function readVerify(r: JsonReader, dataN: number, allNames: readonly string[]): VerifyConfig {
  r.object(['eps', 'n', 'method', 'timeout', 'semantics', 'models']);
  const eps = r.at('eps').array({ nonEmpty: true }).map((x) => x.number({ min: 0 }));
  if (eps.some((e, i) => i > 0 && e <= eps[i - 1]!)) r.at('eps').fail('expected increasing values without repeats');
  return {
    eps,
    n: r.at('n').optional((x) => x.number({ integer: true, min: 1, max: dataN }), Math.min(20, dataN)),
    method: r.at('method').optional((x) => x.string({ choices: VERIFY_METHODS }), 'auto'),
    timeout: r.at('timeout').optional((x) => x.number({ min: 0, exclusiveMin: true }), 10),
    semantics: r.at('semantics').optional((x) => x.string({ choices: ['integer', 'fake-quant'] }) as 'integer' | 'fake-quant', 'integer'),
    models: r.at('models').optional((x) => readModelList(x, allNames), null),
  };
}

function readAdaptive(r: JsonReader, dataN: number, allNames: readonly string[]): AdaptiveConfig {
  r.object(['eps', 'norm', 'n', 'steps', 'restarts', 'maxQueries', 'targetClasses', 'eot', 'models']);
  const eps = r.at('eps').array({ nonEmpty: true }).map((x) => x.number({ min: 0 }));
  if (eps.some((e, i) => i > 0 && e <= eps[i - 1]!)) r.at('eps').fail('expected increasing values without repeats');
  const count = (key: string): number | null => r.at(key).optional((x) => x.number({ integer: true, min: 1 }), null);
  return {
    eps,
    norm: r.at('norm').optional((x) => x.string({ choices: ['linf', 'l2'] }) as Norm, 'linf'),
    n: r.at('n').optional((x) => x.number({ integer: true, min: 1, max: dataN }), Math.min(100, dataN)),
    steps: count('steps'),
    restarts: count('restarts'),
    maxQueries: count('maxQueries'),
    targetClasses: count('targetClasses'),
    eot: count('eot'),
    models: r.at('models').optional((x) => readModelList(x, allNames), null),
  };
}
