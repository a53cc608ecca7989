/**
 * Transfer of adversarial examples between every pair of models (Duncan et al. 2020; Bernhard et al. 2019):
 * a heat map per transfer attack and ε of the share of transferred examples that fool the target, and the full
 * kept / same wrong label / other label split per pair.
 */
import { transferBreakdown } from '../../metrics/transfer.js';
import { attackTitle } from '../attack-groups.js';
import { heatmap } from '../charts/heatmap.js';
import type { Section } from '../section.js';
import type { CellValue, Table } from '../table.js';
import type { ExperimentView } from '../view.js';

interface PairRow {
  readonly attack: string;
  readonly eps: number;
  readonly source: string;
  readonly target: string;
  readonly n: number;
  readonly kept: number;
  readonly same: number;
  readonly other: number;
  readonly rate: number | null;
  readonly untargeted: number | null;
}

export function transferPairs(view: ExperimentView): PairRow[] {
  const rows: PairRow[] = [];
  for (const t of view.transfers) {
    const labels = view.labels(t.config.data.dataset);
    if (!labels) continue;
    const attack = attackTitle(t.config.attack);
    for (const p of t.result.points) {
      for (const target of t.config.targets) {
        const adv = p.targets[target.name];
        const clean = t.result.targetCleanPredictions[target.name];
        if (!adv || !clean) continue;
        const b = transferBreakdown(labels, t.result.sourceCleanPredictions, p.sourcePredictions, clean, adv);
        rows.push({ attack, eps: p.eps, source: t.config.source.name, target: target.name, n: b.n, kept: b.kept, same: b.sameWrong, other: b.otherWrong, rate: b.transferRate, untargeted: b.untargetedTransferRate });
      }
    }
  }
  return rows;
}

export function transferSection(view: ExperimentView): Section {
  const rows = transferPairs(view);
  const figures: string[] = [];
  const names = view.models.map((m) => m.name);
  const keys = [...new Set(rows.map((r) => `${r.attack}\u0000${r.eps}`))];
  for (const key of keys) {
    const [attack, epsText] = key.split('\u0000') as [string, string];
    const eps = Number(epsText);
    const sel = rows.filter((r) => r.attack === attack && r.eps === eps);
    const sources = names.filter((n) => sel.some((r) => r.source === n));
    const targets = names.filter((n) => sel.some((r) => r.target === n));
    const find = (s: string, t: string): PairRow | undefined => sel.find((r) => r.source === s && r.target === t);
    figures.push(
      heatmap({
        title: `Transfer: ${attack}, ε=${eps}`,
        rowLabel: 'source (examples crafted on)',
        columnLabel: 'target (examples evaluated on)',
        rows: sources,
        columns: targets,
        values: sources.map((s) => targets.map((t) => find(s, t)?.untargeted ?? null)),
        tooltips: sources.map((s) =>
          targets.map((t) => {
            const r = find(s, t);
            return r ? `n=${r.n}: kept ${r.kept}, same wrong label ${r.same}, other label ${r.other}` : null;
          }),
        ),
      }),
    );
  }
  const table: Table = {
    id: 'transfer',
    title: 'Transfer between every pair of models',
    note: "Counted over the samples both models classify correctly when clean and whose source example fools the source. Transfer rate = same wrong label / n (Duncan et al.'s transferred examples); fooled = (same + other) / n.",
    columns: [
      { key: 'attack', label: 'attack' },
      { key: 'eps', label: 'ε', format: 'number' },
      { key: 'source', label: 'source' },
      { key: 'target', label: 'target' },
      { key: 'n', label: 'n', format: 'integer' },
      { key: 'kept', label: 'kept label', format: 'integer' },
      { key: 'same', label: 'same wrong label', format: 'integer' },
      { key: 'other', label: 'other label', format: 'integer' },
      { key: 'rate', label: 'transfer rate', format: 'percent' },
      { key: 'untargeted', label: 'fooled', format: 'percent' },
    ],
    rows: rows.map((r) => ({ ...r }) as Record<string, CellValue>),
  };
  return {
    id: 'transfer',
    title: 'Transfer between models',
    intro:
      'Adversarial examples crafted on a source model, classified by a target model: the attacker knows one model, another is ' +
      'deployed. Each cell is the share of the examples that fool the source which also fool the target; hover a cell for the ' +
      'split into kept label, same wrong label and other label (Duncan et al. 2020).',
    figures,
    tables: [table],
    ...(rows.length ? {} : { empty: 'no transfer attack has finished (or the data slice record is missing)' }),
  };
}
