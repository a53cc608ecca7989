/**
 * Attack runs grouped by attack configuration (name, norm and options): within a group every run used the same
 * attack and ε grid on the same samples, so their robust accuracies can be compared point by point.
 */
import { stableStringify } from '../experiments/stable-json.js';
import type { AttackRef } from '../experiments/tasks.js';
import type { AttackEntry, ExperimentView } from './view.js';

export interface AttackGroup {
  readonly key: string;
  /** e.g. `pgd, L∞, steps=20`. */
  readonly title: string;
  readonly attack: string;
  readonly norm: string;
  readonly eps: readonly number[];
  readonly entries: readonly AttackEntry[];
}

export function attackKey(a: AttackRef): string {
  return stableStringify({ name: a.name, norm: a.norm, options: a.options });
}

export function attackTitle(a: AttackRef): string {
  const opts = Object.entries(a.options)
    .sort(([x], [y]) => (x < y ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`);
  return [a.name, a.norm === 'linf' ? 'L∞' : 'L2', ...opts].join(', ');
}

export function attackGroups(view: ExperimentView): AttackGroup[] {
  const groups = new Map<string, AttackEntry[]>();
  for (const e of view.attacks) {
    const key = attackKey(e.config.attack);
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups.entries()].map(([key, entries]) => {
    const a = entries[0]!.config.attack;
    const eps = [...new Set(entries.flatMap((e) => e.config.eps))].sort((x, y) => x - y);
    return { key, title: attackTitle(a), attack: a.name, norm: a.norm, eps, entries };
  });
}

/** The file-name-safe form of a title, for table ids. */
export function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/∞/g, 'inf')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
}
