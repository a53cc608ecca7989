/**
 * Expansion of an experiment config into tasks. A task is one unit of work with a normalized config (every
 * default filled in, upstream models named by their own task ids) and an id hashed from it, so the same work
 * has the same id in every run and on every machine, and changing anything upstream (a training epoch, a
 * quantizer) changes the ids of everything that depends on it.
 *
 * Order: data slices, models (trained or loaded), quantized variants, clean evaluation, gradient statistics,
 * attacks (per entry, model and gradient mode), the large-ε checks, transfer attacks, the comparisons of each
 * full-precision model with its variants, formal verification, and the adaptive evaluations. Model and variant tasks produce directories (artifacts); every
 * other task only reads them and produces a result record.
 */
import { getAttack } from '../attacks/registry.js';
import type { Norm } from '../attacks/types.js';
import type { QuantSpec } from '../quant/spec.js';
import { inputPathQuantized, type AdaptiveConfig, type AttackOptionValues, type ExperimentConfig, type GradMode, type QatConfig, type TrainConfig } from './config.js';
import { configHash, taskId } from './stable-json.js';

export type TaskKind = 'data' | 'train' | 'load' | 'quantize' | 'eval' | 'gradients' | 'attack' | 'transfer' | 'compare' | 'verify' | 'adaptive';

/** Kinds whose task builds a model directory. */
export const MODEL_KINDS: readonly TaskKind[] = ['train', 'load', 'quantize'];

/** A model as tasks refer to it: its name and the id of the task that makes it. */
export interface ModelRef {
  readonly name: string;
  readonly task: string;
  readonly quantized: boolean;
}

/** The seeded slice of a test split a per-sample task runs on. Slices of one seed are nested: a smaller n is a prefix set. */
export interface DataRef {
  readonly dataset: string;
  readonly split: 'test';
  readonly n: number;
  readonly seed: number;
}

export interface AttackRef {
  readonly name: string;
  readonly norm: Norm;
  readonly options: AttackOptionValues;
}

export type TaskConfig =
  | { readonly kind: 'data'; readonly data: DataRef; readonly examples: number }
  | { readonly kind: 'train'; readonly model: string; readonly train: TrainConfig }
  | { readonly kind: 'load'; readonly model: string; readonly path: string; readonly quantized: boolean }
  | {
      readonly kind: 'quantize';
      readonly model: string;
      readonly parent: ModelRef;
      readonly variant: string;
      readonly spec: QuantSpec;
      readonly qat: QatConfig | null;
      readonly calibrationN: number;
      readonly seed: number;
    }
  | { readonly kind: 'eval'; readonly model: ModelRef; readonly data: DataRef }
  | { readonly kind: 'gradients'; readonly model: ModelRef; readonly grad: GradMode | null; readonly data: DataRef }
  | {
      readonly kind: 'attack';
      /** 'curve': a point of robust accuracy vs ε; 'large-eps': Athalye et al.'s unbounded-attack check. */
      readonly role: 'curve' | 'large-eps';
      readonly model: ModelRef;
      /** Gradient mode through the quantizers; null for full-precision models and gradient-free attacks. */
      readonly grad: GradMode | null;
      readonly attack: AttackRef;
      readonly eps: readonly number[];
      readonly integerCheck: boolean;
      readonly data: DataRef;
      readonly examples: number;
      readonly seed: number;
    }
  | {
      readonly kind: 'transfer';
      readonly source: ModelRef;
      readonly grad: GradMode | null;
      readonly targets: readonly ModelRef[];
      readonly attack: AttackRef;
      readonly eps: readonly number[];
      readonly data: DataRef;
      readonly seed: number;
    }
  | { readonly kind: 'compare'; readonly fp: ModelRef; readonly q: ModelRef; readonly eps: number; readonly data: DataRef; readonly seed: number }
  | {
      readonly kind: 'verify';
      readonly model: ModelRef;
      /** L∞ radius in pixel units. */
      readonly eps: number;
      readonly method: string;
      readonly timeout: number;
      /** Requested semantics for a quantized model; a model without an integer form is verified as fake-quant. */
      readonly semantics: 'integer' | 'fake-quant';
      readonly data: DataRef;
      readonly seed: number;
    }
  | {
      readonly kind: 'adaptive';
      readonly model: ModelRef;
      /** The full-precision parent of a variant: the transfer member's source (null: no transfer member). */
      readonly parent: ModelRef | null;
      readonly eps: readonly number[];
      readonly norm: Norm;
      readonly knobs: Pick<AdaptiveConfig, 'steps' | 'restarts' | 'maxQueries' | 'targetClasses' | 'eot'>;
      readonly data: DataRef;
      readonly seed: number;
    };

export interface Task {
  readonly id: string;
  readonly config: TaskConfig;
  /** One line for progress output, e.g. `attack pgd on cnn-w4 (ste)`. */
  readonly label: string;
  /** Ids of the model tasks whose directories this task reads. */
  readonly deps: readonly string[];
}

/** A model of the experiment, full-precision or a quantized variant. */
export interface ExperimentModel extends ModelRef {
  readonly dataset: string;
  /** The full-precision model a variant was quantized from (null for a model of its own). */
  readonly parent: string | null;
  /** Quantizers on the input or activations: exact and straight-through gradients differ. */
  readonly inputPathQuantized: boolean;
}

export interface ExperimentPlan {
  /** SHA-256 of the normalized config: shards of one experiment share it. */
  readonly configHash: string;
  readonly models: readonly ExperimentModel[];
  readonly tasks: readonly Task[];
}

function make(config: TaskConfig, label: string, deps: readonly string[]): Task {
  return { id: taskId(config), config, label, deps };
}

function gradLabel(grad: GradMode | null): string {
  return grad ? ` (${grad})` : '';
}

/**
 * The gradient modes an attack runs with on a model: each configured mode for a gradient attack on a model with
 * quantizers on its input path; otherwise one run (null) with the model's true gradient, or none at all.
 */
function gradModes(attack: string | null, model: ExperimentModel, configured: readonly GradMode[]): (GradMode | null)[] {
  return model.inputPathQuantized && (attack === null || getAttack(attack).access === 'gradient') ? [...configured] : [null];
}

/** Expands a validated config into its tasks. */
export function expandTasks(config: ExperimentConfig): ExperimentPlan {
  const tasks: Task[] = [];
  const models: ExperimentModel[] = [];
  const slice = (dataset: string, n = config.data.n): DataRef => ({ dataset, split: 'test', n, seed: config.data.seed });

  const datasets = new Set<string>();
  for (const m of config.models) datasets.add(m.source.kind === 'train' ? m.source.train.dataset : m.source.dataset);
  for (const dataset of datasets) tasks.push(make({ kind: 'data', data: slice(dataset), examples: config.data.examples }, `data ${dataset} test (n = ${config.data.n})`, []));

  for (const m of config.models) {
    const t =
      m.source.kind === 'train'
        ? make({ kind: 'train', model: m.name, train: m.source.train }, `train ${m.name} (${m.source.train.arch} on ${m.source.train.dataset})`, [])
        : make({ kind: 'load', model: m.name, path: m.source.path, quantized: m.source.quantized }, `load ${m.name}`, []);
    tasks.push(t);
    const loaded = m.source.kind === 'load' ? m.source : null;
    models.push({
      name: m.name,
      task: t.id,
      quantized: loaded?.quantized ?? false,
      dataset: loaded?.dataset ?? (m.source.kind === 'train' ? m.source.train.dataset : ''),
      parent: null,
      inputPathQuantized: loaded?.inputPathQuantized ?? false,
    });
  }
  const fpModels = models.filter((m) => !m.quantized);
  for (const q of config.quantize) {
    for (const parent of fpModels.filter((m) => !q.models || q.models.includes(m.name))) {
      const name = `${parent.name}-${q.name}`;
      const ref: ModelRef = { name: parent.name, task: parent.task, quantized: false };
      const t = make(
        { kind: 'quantize', model: name, parent: ref, variant: q.name, spec: q.spec, qat: q.qat, calibrationN: q.calibrationN, seed: config.seed },
        `quantize ${name}${q.qat ? ` (QAT ${q.qat.epochs} epoch${q.qat.epochs === 1 ? '' : 's'})` : ''}`,
        [parent.task],
      );
      tasks.push(t);
      models.push({ name, task: t.id, quantized: true, dataset: parent.dataset, parent: parent.name, inputPathQuantized: inputPathQuantized(q.spec) });
    }
  }
  const ref = (m: ExperimentModel): ModelRef => ({ name: m.name, task: m.task, quantized: m.quantized });

  for (const m of models) tasks.push(make({ kind: 'eval', model: ref(m), data: slice(m.dataset) }, `eval ${m.name}`, [m.task]));

  const diag = config.diagnostics;
  if (diag) {
    for (const m of models) {
      for (const grad of gradModes(null, m, ['exact', 'ste'])) {
        tasks.push(make({ kind: 'gradients', model: ref(m), grad, data: slice(m.dataset, diag.n) }, `gradients ${m.name}${gradLabel(grad)}`, [m.task]));
      }
    }
  }

  const attackTask = (role: 'curve' | 'large-eps', m: ExperimentModel, grad: GradMode | null, attack: AttackRef, eps: readonly number[], integerCheck: boolean): Task =>
    make(
      { kind: 'attack', role, model: ref(m), grad, attack, eps, integerCheck: integerCheck && m.quantized, data: slice(m.dataset), examples: config.data.examples, seed: config.seed },
      `${role === 'large-eps' ? 'large-ε ' : ''}attack ${attack.name} on ${m.name}${gradLabel(grad)}`,
      [m.task],
    );
  for (const a of config.attacks) {
    const attack: AttackRef = { name: a.attack, norm: a.norm, options: a.options };
    for (const m of models.filter((x) => !a.models || a.models.includes(x.name))) {
      for (const grad of gradModes(a.attack, m, a.grad)) tasks.push(attackTask('curve', m, grad, attack, a.eps, a.integerCheck));
    }
  }
  if (diag?.largeEps) {
    const l = diag.largeEps;
    const attack: AttackRef = { name: l.attack, norm: l.norm, options: l.options };
    for (const m of models) for (const grad of gradModes(l.attack, m, l.grad)) tasks.push(attackTask('large-eps', m, grad, attack, [l.eps], false));
  }

  for (const tr of config.transfer) {
    const attack: AttackRef = { name: tr.attack, norm: tr.norm, options: tr.options };
    for (const source of models.filter((m) => !tr.sources || tr.sources.includes(m.name))) {
      const targets = models.filter((m) => m.name !== source.name && m.dataset === source.dataset && (!tr.targets || tr.targets.includes(m.name)));
      if (targets.length === 0) continue;
      const grad = gradModes(tr.attack, source, [tr.grad])[0]!;
      tasks.push(
        make(
          { kind: 'transfer', source: ref(source), grad, targets: targets.map(ref), attack, eps: tr.eps, data: slice(source.dataset), seed: config.seed },
          `transfer ${tr.attack} from ${source.name}${gradLabel(grad)} to ${targets.length} model${targets.length === 1 ? '' : 's'}`,
          [source.task, ...targets.map((t) => t.task)],
        ),
      );
    }
  }

  if (config.compare) {
    for (const q of models.filter((m) => m.parent !== null)) {
      const fp = models.find((m) => m.name === q.parent)!;
      tasks.push(
        make(
          { kind: 'compare', fp: ref(fp), q: ref(q), eps: config.compare.eps, data: slice(q.dataset, config.compare.n), seed: config.seed },
          `compare ${fp.name} with ${q.name}`,
          [fp.task, q.task],
        ),
      );
    }
  }
  if (config.verify) {
    const v = config.verify;
    for (const m of models.filter((x) => !v.models || v.models.includes(x.name))) {
      for (const eps of v.eps) {
        tasks.push(
          make(
            { kind: 'verify', model: ref(m), eps, method: v.method, timeout: v.timeout, semantics: v.semantics, data: slice(m.dataset, v.n), seed: config.data.seed },
            `verify ${m.name} at ε=${eps} (${v.method})`,
            [m.task],
          ),
        );
      }
    }
  }
  if (config.adaptive) {
    const a = config.adaptive;
    for (const m of models.filter((x) => !a.models || a.models.includes(x.name))) {
      const parent = m.parent === null ? null : models.find((p) => p.name === m.parent)!;
      const knobs = { steps: a.steps, restarts: a.restarts, maxQueries: a.maxQueries, targetClasses: a.targetClasses, eot: a.eot };
      tasks.push(
        make(
          { kind: 'adaptive', model: ref(m), parent: parent ? ref(parent) : null, eps: a.eps, norm: a.norm, knobs, data: slice(m.dataset, a.n), seed: config.seed },
          `adaptive evaluation of ${m.name}${parent ? ` (transfer from ${parent.name})` : ''}`,
          parent ? [m.task, parent.task] : [m.task],
        ),
      );
    }
  }
  return { configHash: configHash(config), models, tasks };
}
