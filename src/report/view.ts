/**
 * A typed view of an experiment's records for the report: the models (full precision and variants, in the
 * order the experiment lists them), the test slice's labels, and the records of every task kind. Only records
 * of the experiment's current task list are used (when `experiment.json` is present); later stages read the
 * view, never the raw lines.
 */
import { getAttack } from '../attacks/registry.js';
import type { ExperimentFile, ResultRecord } from '../experiments/results-file.js';
import type {
  AttackTaskResult,
  CompareResult,
  DataResult,
  EvalResult,
  GradientsResult,
  ModelResult,
  QuantizeResult,
  TransferResult,
  VerifyResult,
} from '../experiments/result-types.js';
import type { TaskConfig } from '../experiments/tasks.js';

type Cfg<K extends TaskConfig['kind']> = Extract<TaskConfig, { kind: K }>;

export interface ModelEntry {
  readonly name: string;
  readonly dataset: string;
  readonly quantized: boolean;
  /** The full-precision parent of a variant. */
  readonly parent: string | null;
  /** 'FP32' or the quantizer's label (`w4-pc-a8-in8`), with '-qat' after quantization-aware training. */
  readonly precision: string;
  readonly arch: string | null;
  readonly model: ModelResult | QuantizeResult | null;
}

export interface Entry<K extends TaskConfig['kind'], R> {
  readonly record: ResultRecord<R>;
  readonly config: Cfg<K>;
  readonly result: R;
}

export type AttackEntry = Entry<'attack', AttackTaskResult> & {
  readonly model: ModelEntry;
  /** How the attack reached the model: 'white-box', 'white-box exact', 'white-box STE', 'black-box (scores)', ... */
  readonly threat: string;
};

/** The threat model of an attack run, as the report names it. */
export function threatLabel(attack: string, grad: 'exact' | 'ste' | null): string {
  let access: string;
  try {
    access = getAttack(attack).access;
  } catch {
    access = 'gradient';
  }
  if (access !== 'gradient') return `black-box (${access})`;
  return grad === 'exact' ? 'white-box exact' : grad === 'ste' ? 'white-box STE' : 'white-box';
}

export class ExperimentView {
  readonly name: string;
  readonly configHash: string | null;
  readonly totalTasks: number;
  readonly records: readonly ResultRecord[];
  readonly ignored: number;
  readonly models: readonly ModelEntry[];
  readonly attacks: readonly AttackEntry[];
  readonly largeEps: readonly AttackEntry[];
  readonly transfers: readonly Entry<'transfer', TransferResult>[];
  readonly gradients: readonly Entry<'gradients', GradientsResult>[];
  readonly compares: readonly Entry<'compare', CompareResult>[];
  readonly verifications: readonly Entry<'verify', VerifyResult>[];
  private readonly data: ReadonlyMap<string, DataResult>;
  private readonly evals: ReadonlyMap<string, EvalResult>;

  constructor(all: readonly ResultRecord[], experiment: ExperimentFile | null) {
    const ids = experiment ? new Set(experiment.tasks.map((t) => t.id)) : null;
    const order = experiment ? new Map(experiment.tasks.map((t, i) => [t.id, i])) : null;
    const records = all.filter((r) => !ids || ids.has(r.id));
    if (order) records.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    this.records = records;
    this.ignored = all.length - records.length;
    this.name = experiment?.name ?? 'experiment';
    this.configHash = experiment?.configHash ?? null;
    this.totalTasks = experiment?.tasks.length ?? records.length;
    const of = <K extends TaskConfig['kind'], R>(kind: K): Entry<K, R>[] =>
      records.filter((r) => r.kind === kind).map((r) => ({ record: r as ResultRecord<R>, config: r.config as Cfg<K>, result: r.result as R }));

    this.data = new Map(of<'data', DataResult>('data').map((e) => [e.config.data.dataset, e.result]));
    this.evals = new Map(of<'eval', EvalResult>('eval').map((e) => [e.config.model.name, e.result]));
    this.models = this.collectModels(records);
    const entry = (name: string): ModelEntry => this.models.find((m) => m.name === name)!;
    const attacks = of<'attack', AttackTaskResult>('attack').map((e) => ({ ...e, model: entry(e.config.model.name), threat: threatLabel(e.config.attack.name, e.config.grad) }));
    this.attacks = attacks.filter((a) => a.config.role === 'curve');
    this.largeEps = attacks.filter((a) => a.config.role === 'large-eps');
    this.transfers = of('transfer');
    this.gradients = of('gradients');
    this.compares = of('compare');
    this.verifications = of('verify');
  }

  /** Models from their own records, plus any model other records name whose record is missing. */
  private collectModels(records: readonly ResultRecord[]): ModelEntry[] {
    const out = new Map<string, ModelEntry>();
    for (const r of records) {
      if (r.kind === 'train' || r.kind === 'load') {
        const m = r.result as ModelResult;
        const c = r.config as Cfg<'train'> | Cfg<'load'>;
        out.set(c.model, { name: c.model, dataset: m.dataset, quantized: m.quantized, parent: null, precision: m.quantized ? 'quantized' : 'FP32', arch: m.arch, model: m });
      } else if (r.kind === 'quantize') {
        const m = r.result as QuantizeResult;
        const c = r.config as Cfg<'quantize'>;
        out.set(c.model, { name: c.model, dataset: m.dataset, quantized: true, parent: c.parent.name, precision: m.label + (m.qat ? '-qat' : ''), arch: m.arch, model: m });
      }
    }
    for (const r of records) {
      const refs =
        r.kind === 'eval' || r.kind === 'attack' || r.kind === 'gradients' || r.kind === 'verify'
          ? [{ ref: (r.config as Cfg<'eval'>).model, dataset: (r.config as Cfg<'eval'>).data.dataset }]
          : r.kind === 'transfer'
            ? [(r.config as Cfg<'transfer'>).source, ...(r.config as Cfg<'transfer'>).targets].map((ref) => ({ ref, dataset: (r.config as Cfg<'transfer'>).data.dataset }))
            : [];
      for (const { ref, dataset } of refs) {
        if (!out.has(ref.name)) out.set(ref.name, { name: ref.name, dataset, quantized: ref.quantized, parent: null, precision: ref.quantized ? 'quantized' : 'FP32', arch: null, model: null });
      }
    }
    return [...out.values()];
  }

  labels(dataset: string): readonly number[] | null {
    return this.data.get(dataset)?.labels ?? null;
  }

  dataResult(dataset: string): DataResult | null {
    return this.data.get(dataset) ?? null;
  }

  datasets(): string[] {
    return [...new Set(this.models.map((m) => m.dataset))];
  }

  evalOf(model: string): EvalResult | null {
    return this.evals.get(model) ?? null;
  }

  model(name: string): ModelEntry | undefined {
    return this.models.find((m) => m.name === name);
  }
}
