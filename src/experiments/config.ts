/**
 * The experiment config: one JSON file naming the models (trained or loaded), their quantized variants, the
 * attacks with their ε grids and threat models, the transfer pairs, and the measurements that compare a
 * full-precision model with its variants. `loadExperimentConfig` validates it and fills in every default, so
 * the value it returns is the normalized config the task ids are hashed from. Every error is one line naming
 * the file and the JSON path of the field (`exp.json: $.attacks[0].eps[2]: expected a number >= 0, got -1`).
 * The shape (fields, types, ranges, choices) is a zod schema (`config-schema.ts` holds its builders); what
 * depends on other fields is checked after the parse, below.
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
import { z } from 'zod';
import { array, boolean, configError, looseObject, number, object, optional, parseConfigPart, string } from './config-schema.js';

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

const seedSchema = number({ integer: true, min: 0 });
const countSchema = number({ integer: true, min: 1 });
const rateSchema = number({ min: 0, exclusiveMin: true });
const epsListSchema = array(number({ min: 0 }), { nonEmpty: true });
const modelListSchema = array(string(), { nonEmpty: true });
const gradListSchema = array(string({ choices: GRAD_MODES }), { nonEmpty: true });

const dataSchema = object({ n: optional(countSchema), seed: optional(seedSchema), examples: optional(number({ integer: true, min: 0, max: 64 })) });

const trainSchema = object({
  dataset: string({ choices: DATASET_NAMES }),
  arch: string({ choices: ARCH_NAMES }),
  epochs: countSchema,
  seed: optional(seedSchema),
  n: optional(countSchema),
  batchSize: optional(countSchema),
  learningRate: optional(rateSchema),
});

const modelSchema = object({ name: string({ pattern: NAME_PATTERN, patternHint: NAME_HINT }), train: trainSchema.optional(), load: string().optional() });

const specPart = z.unknown().optional();

const quantizeSchema = object({
  name: optional(string({ pattern: NAME_PATTERN, patternHint: NAME_HINT })),
  // The values are the quantization spec's, checked by makeQuantSpec.
  spec: object({ weights: specPart, activations: specPart, inputs: specPart, rounding: specPart, firstLast: specPart }),
  qat: optional(object({ epochs: countSchema, n: optional(countSchema), learningRate: optional(rateSchema), batchSize: optional(countSchema) })),
  calibrationN: optional(countSchema),
  models: optional(modelListSchema),
});

/** The fields every attack entry has; its other fields are the attack's own options, checked against the attack. */
const attackFields = { attack: string(), eps: epsListSchema, norm: optional(string()) };
const attackSchema = looseObject({ ...attackFields, grad: gradListSchema.optional(), models: optional(modelListSchema), integerCheck: optional(boolean()) });
const transferSchema = looseObject({ ...attackFields, grad: optional(string({ choices: GRAD_MODES })), sources: optional(modelListSchema), targets: optional(modelListSchema) });
const largeEpsSchema = looseObject({ ...attackFields, eps: number({ min: 0, exclusiveMin: true }), grad: gradListSchema.optional() });

/** The whole shape; the per-sample counts are bounded by the experiment's test subset (`data.n`). */
function configSchema(dataN: number) {
  const sampleCount = optional(number({ integer: true, min: 1, max: dataN }));
  return object({
    name: string(),
    seed: optional(seedSchema),
    data: dataSchema.optional(),
    models: array(modelSchema, { nonEmpty: true }),
    quantize: optional(array(quantizeSchema)),
    attacks: optional(array(attackSchema)),
    transfer: optional(array(transferSchema)),
    compare: optional(object({ n: sampleCount, eps: rateSchema })),
    diagnostics: optional(object({ n: sampleCount, largeEps: optional(largeEpsSchema) })),
    verify: optional(
      object({
        eps: epsListSchema,
        n: sampleCount,
        method: optional(string({ choices: VERIFY_METHODS })),
        timeout: optional(rateSchema),
        semantics: optional(string({ choices: ['integer', 'fake-quant'] })),
        models: optional(modelListSchema),
      }),
    ),
    adaptive: optional(
      object({
        eps: epsListSchema,
        norm: optional(string({ choices: ['linf', 'l2'] })),
        n: sampleCount,
        steps: optional(countSchema),
        restarts: optional(countSchema),
        maxQueries: optional(countSchema),
        targetClasses: optional(countSchema),
        eot: optional(countSchema),
        models: optional(modelListSchema),
      }),
    ),
  });
}

type RawConfig = z.output<ReturnType<typeof configSchema>>;
type RawModel = z.output<typeof modelSchema>;
type RawQuantize = z.output<typeof quantizeSchema>;
type RawAttackEntry = Readonly<Record<string, unknown>> & { readonly attack: string; readonly norm?: string | null | undefined };
type Path = readonly (string | number)[];

/** Checks of one config that need more than a field's own value, with errors naming the file and the field. */
class Checker {
  constructor(readonly source: ConfigSource) {}

  fail(path: Path, message: string): never {
    throw configError(this.source.file, path, message);
  }

  unique(path: Path, names: readonly string[], what: string): void {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) this.fail(path, `duplicate ${what} '${n}'`);
      seen.add(n);
    }
  }

  modelList(path: Path, names: readonly string[] | null | undefined, known: readonly string[]): string[] | null {
    if (names === null || names === undefined) return null;
    names.forEach((n, i) => {
      if (!known.includes(n)) this.fail([...path, i], `unknown model '${n}' (models: ${known.join(', ')})`);
    });
    this.unique(path, names, 'model');
    return [...names];
  }

  increasing(path: Path, eps: readonly number[]): void {
    const sorted = [...eps].sort((a, b) => a - b);
    if (sorted.some((e, i) => e !== eps[i] || (i > 0 && e === sorted[i - 1]))) this.fail(path, 'expected increasing values without repeats');
  }
}

/** Validates a parsed config and fills in its defaults. */
export async function validateExperimentConfig(value: unknown, source: ConfigSource): Promise<ExperimentConfig> {
  // The bound of the per-sample counts: data.n when it is valid (when it is not, the parse says so first).
  const givenN = (value as { data?: { n?: unknown } } | null)?.data?.n;
  const raw: RawConfig = parseConfigPart(configSchema(Number.isSafeInteger(givenN) && (givenN as number) >= 1 ? (givenN as number) : 500), value, source.file);
  const c = new Checker(source);
  const seed = raw.seed ?? 0;
  const data: DataConfig = { n: raw.data?.n ?? 500, seed: raw.data?.seed ?? seed, examples: raw.data?.examples ?? 6 };
  const models: ModelConfig[] = [];
  for (const [i, m] of raw.models.entries()) models.push(await readModel(c, ['models', i], m, seed));
  c.unique(['models'], models.map((m) => m.name), 'model name');
  const fpNames = models.filter((m) => !(m.source.kind === 'load' && m.source.quantized)).map((m) => m.name);
  const quantize = (raw.quantize ?? []).map((q, i) => readQuantize(c, ['quantize', i], q, (value as { quantize: { spec: unknown }[] }).quantize[i]!.spec, fpNames));
  const allNames = [...models.map((m) => m.name)];
  quantize.forEach((q) => (q.models ?? fpNames).forEach((m) => allNames.push(`${m}-${q.name}`)));
  c.unique(['quantize'], allNames, 'model name (a variant is named <model>-<variant>)');
  const datasets = new Map<string, string>();
  for (const m of models) datasets.set(m.name, datasetOf(m));
  for (const q of quantize) for (const m of q.models ?? fpNames) datasets.set(`${m}-${q.name}`, datasets.get(m)!);
  const attacks = (raw.attacks ?? []).map((a, i) => readAttack(c, ['attacks', i], a, allNames, datasets));
  const transfer = (raw.transfer ?? []).map((t, i) => readTransfer(c, ['transfer', i], t, allNames, datasets));
  const compare = raw.compare ? { n: raw.compare.n ?? Math.min(100, data.n), eps: raw.compare.eps } : null;
  const diagnostics = raw.diagnostics ? readDiagnostics(c, raw.diagnostics, data.n, datasets) : null;
  const verify = raw.verify ? readVerify(c, raw.verify, data.n, allNames) : null;
  const adaptive = raw.adaptive ? readAdaptive(c, raw.adaptive, data.n, allNames) : null;
  return { name: raw.name, seed, data, models, quantize, attacks, transfer, compare, diagnostics, verify, adaptive };
}

/**
 * Whether a spec puts quantizers on the path from the input to the logits (input or activations). Only then do
 * exact and straight-through gradients differ; with quantized weights alone both are the true gradient.
 */
export function inputPathQuantized(spec: QuantSpec): boolean {
  return spec.inputs !== null || spec.activations !== null;
}

function datasetOf(m: ModelConfig): string {
  return m.source.kind === 'train' ? m.source.train.dataset : m.source.dataset;
}

async function readModel(c: Checker, path: Path, m: RawModel, seed: number): Promise<ModelConfig> {
  if ((m.train === undefined) === (m.load === undefined)) c.fail(path, "expected exactly one of 'train' (train a model) or 'load' (a model directory)");
  if (m.load !== undefined) {
    const meta = await readMetadata(resolve(c.source.baseDir, m.load)).catch((e: Error) => c.fail([...path, 'load'], e.message));
    const spec = isQuantizedMeta(meta) ? (meta['quantization'] as { spec?: QuantSpec }).spec : undefined;
    return {
      name: m.name,
      source: { kind: 'load', path: m.load, dataset: meta.dataset, quantized: isQuantizedMeta(meta), inputPathQuantized: spec ? inputPathQuantized(spec) : false },
    };
  }
  const t = m.train!;
  return {
    name: m.name,
    source: {
      kind: 'train',
      train: { dataset: t.dataset, arch: t.arch, epochs: t.epochs, seed: t.seed ?? seed, n: t.n ?? null, batchSize: t.batchSize ?? null, learningRate: t.learningRate ?? null },
    },
  };
}

function readQuantize(c: Checker, path: Path, q: RawQuantize, specInput: unknown, fpNames: readonly string[]): QuantizeConfig {
  const spec = ((): QuantSpec => {
    try {
      return makeQuantSpec(specInput as QuantSpecInit);
    } catch (e) {
      return c.fail([...path, 'spec'], (e as Error).message);
    }
  })();
  if (spec.rounding === 'stochastic') c.fail([...path, 'spec', 'rounding'], "'stochastic' rounding is for training only; variants are evaluated with 'nearest'");
  const qat = q.qat ? { epochs: q.qat.epochs, n: q.qat.n ?? null, learningRate: q.qat.learningRate ?? null, batchSize: q.qat.batchSize ?? null } : null;
  const label = specLabel(spec) + (qat ? '-qat' : '');
  return {
    name: q.name ?? label,
    spec,
    qat,
    calibrationN: q.calibrationN ?? 1000,
    models: c.modelList([...path, 'models'], q.models, fpNames),
  };
}

/** Keys of an attack entry that are not options of the attack itself. */
const ATTACK_KEYS = ['attack', 'eps', 'norm', 'grad', 'models', 'integerCheck'] as const;
const TRANSFER_KEYS = ['attack', 'eps', 'norm', 'grad', 'sources', 'targets'] as const;
const LARGE_EPS_KEYS = ['attack', 'eps', 'norm', 'grad'] as const;

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

/** The attack, ε list, norm and the attack's own options of an entry, validated by the attack registry. */
function readAttackParts(c: Checker, path: Path, entry: RawAttackEntry, eps: readonly number[], ownKeys: readonly string[], numClasses: number): AttackParts {
  const spec = (() => {
    try {
      return getAttack(entry.attack);
    } catch {
      return c.fail([...path, 'attack'], `unknown attack '${entry.attack}' (attacks: ${ATTACK_NAMES.join(', ')})`);
    }
  })();
  const allowed = [...ownKeys, ...spec.uses];
  for (const key of Object.keys(entry)) if (!allowed.includes(key)) c.fail([...path, key], `unknown field (expected one of: ${allowed.join(', ')})`);
  c.increasing([...path, 'eps'], eps);
  const norm = entry.norm ?? spec.norms[0]!;
  if (!spec.norms.includes(norm as Norm)) c.fail([...path, 'norm'], `expected one of ${spec.norms.join(', ')}, got ${JSON.stringify(norm)}`);
  const options: Record<string, number | string | boolean> = {};
  for (const key of Object.keys(entry)) {
    if (ownKeys.includes(key)) continue;
    const v = entry[key];
    const t = tunableOption(key);
    const wrong = t ? tunableTypeError(t, v) : `not a tunable attack option`;
    if (wrong) c.fail([...path, key], wrong);
    options[key] = v as number | string | boolean;
  }
  for (const epsilon of eps) {
    try {
      resolveOptions(spec, optionProbe(numClasses), 1, { ...options, norm: norm as Norm, epsilon });
    } catch (e) {
      c.fail(path, (e as Error).message);
    }
  }
  return { spec, eps: [...eps], norm: norm as Norm, options };
}

function classCount(names: readonly string[], datasets: ReadonlyMap<string, string>): number {
  return Math.min(...names.map((n) => getDatasetSpec(datasets.get(n)!).classNames.length));
}

function readGradList(c: Checker, path: Path, grad: readonly string[] | undefined, spec: AttackSpec): GradMode[] {
  if (grad === undefined) return spec.access === 'gradient' ? ['ste'] : [];
  if (spec.access !== 'gradient') c.fail(path, `'${spec.name}' queries ${spec.access} only; grad applies to gradient attacks`);
  c.unique(path, grad, 'gradient mode');
  return grad as GradMode[];
}

function readAttack(c: Checker, path: Path, a: z.output<typeof attackSchema>, allNames: readonly string[], datasets: ReadonlyMap<string, string>): AttackConfig {
  const models = c.modelList([...path, 'models'], a.models, allNames);
  const parts = readAttackParts(c, path, a, a.eps, ATTACK_KEYS, classCount(models ?? allNames, datasets));
  return {
    attack: parts.spec.name,
    eps: parts.eps,
    norm: parts.norm,
    options: parts.options,
    grad: readGradList(c, [...path, 'grad'], a.grad, parts.spec),
    models,
    integerCheck: a.integerCheck ?? false,
  };
}

function readTransfer(c: Checker, path: Path, t: z.output<typeof transferSchema>, allNames: readonly string[], datasets: ReadonlyMap<string, string>): TransferConfig {
  const sources = c.modelList([...path, 'sources'], t.sources, allNames);
  const targets = c.modelList([...path, 'targets'], t.targets, allNames);
  const parts = readAttackParts(c, path, t, t.eps, TRANSFER_KEYS, classCount(allNames, datasets));
  if (t.grad !== undefined && t.grad !== null && parts.spec.access !== 'gradient') {
    c.fail([...path, 'grad'], `'${parts.spec.name}' queries ${parts.spec.access} only; grad applies to gradient attacks`);
  }
  return { attack: parts.spec.name, eps: parts.eps, norm: parts.norm, options: parts.options, grad: (t.grad ?? 'ste') as GradMode, sources, targets };
}

function readDiagnostics(c: Checker, d: NonNullable<RawConfig['diagnostics']>, dataN: number, datasets: ReadonlyMap<string, string>): DiagnosticsConfig {
  const largeEps = ((): DiagnosticsConfig['largeEps'] => {
    const x = d.largeEps;
    if (x === undefined || x === null) return null;
    const path = ['diagnostics', 'largeEps'];
    const parts = readAttackParts(c, path, x, [x.eps], LARGE_EPS_KEYS, classCount([...datasets.keys()], datasets));
    if (parts.spec.access !== 'gradient') c.fail([...path, 'attack'], `the large-ε check needs a gradient attack (e.g. pgd), got '${parts.spec.name}'`);
    const grad = x.grad !== undefined ? readGradList(c, [...path, 'grad'], x.grad, parts.spec) : [...GRAD_MODES];
    return { attack: parts.spec.name, eps: parts.eps[0]!, norm: parts.norm, options: parts.options, grad };
  })();
  return { n: d.n ?? Math.min(100, dataN), largeEps };
}

function readVerify(c: Checker, v: NonNullable<RawConfig['verify']>, dataN: number, allNames: readonly string[]): VerifyConfig {
  c.increasing(['verify', 'eps'], v.eps);
  return {
    eps: v.eps,
    n: v.n ?? Math.min(20, dataN),
    method: v.method ?? 'auto',
    timeout: v.timeout ?? 10,
    semantics: (v.semantics ?? 'integer') as 'integer' | 'fake-quant',
    models: c.modelList(['verify', 'models'], v.models, allNames),
  };
}

function readAdaptive(c: Checker, a: NonNullable<RawConfig['adaptive']>, dataN: number, allNames: readonly string[]): AdaptiveConfig {
  c.increasing(['adaptive', 'eps'], a.eps);
  return {
    eps: a.eps,
    norm: (a.norm ?? 'linf') as Norm,
    n: a.n ?? Math.min(100, dataN),
    steps: a.steps ?? null,
    restarts: a.restarts ?? null,
    maxQueries: a.maxQueries ?? null,
    targetClasses: a.targetClasses ?? null,
    eot: a.eot ?? null,
    models: c.modelList(['adaptive', 'models'], a.models, allNames),
  };
}
