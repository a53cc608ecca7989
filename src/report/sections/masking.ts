/**
 * Gradient-masking diagnostics (Athalye, Carlini & Wagner 2018, arXiv 1802.00420) per model and gradient mode:
 * the evidence is gathered from the attack, transfer, large-ε and gradient records of the model, and
 * `maskingChecks` turns it into flags.
 */
import { getAttack } from '../../attacks/registry.js';
import { maskingChecks, type AccuracyAt, type MaskingCheckName, type MaskingEvidence } from '../../metrics/gradient-masking.js';
import { robustAccuracy } from '../../metrics/robust-accuracy.js';
import type { Section } from '../section.js';
import type { CellValue } from '../table.js';
import { threatLabel, type AttackEntry, type ExperimentView, type ModelEntry } from '../view.js';
import { curveOf } from './robust-accuracy.js';

const CHECKS: readonly { readonly name: MaskingCheckName; readonly label: string }[] = [
  { name: 'single-step', label: 'single-step beats iterative' },
  { name: 'black-box', label: 'black-box beats white-box' },
  { name: 'transfer', label: 'transfer beats white-box' },
  { name: 'large-eps', label: 'large ε not broken' },
  { name: 'zero-gradients', label: 'zero gradients' },
  { name: 'monotonic', label: 'accuracy rises with ε' },
];

function accessOf(name: string): string {
  try {
    return getAttack(name).access;
  } catch {
    return 'gradient';
  }
}

/** The lowest accuracy per ε over the given runs (L∞ only, so that budgets compare). */
function lowest(entries: readonly AttackEntry[], by: (e: AttackEntry) => string): AccuracyAt[] {
  const best = new Map<number, AccuracyAt>();
  for (const e of entries) {
    if (e.config.attack.norm !== 'linf') continue;
    for (const p of e.result.points) {
      const cur = best.get(p.eps);
      if (!cur || p.robustAccuracy < cur.accuracy) best.set(p.eps, { eps: p.eps, accuracy: p.robustAccuracy, by: by(e) });
    }
  }
  return [...best.values()].sort((a, b) => a.eps - b.eps);
}

function evidence(view: ExperimentView, model: ModelEntry, grad: 'exact' | 'ste' | null): MaskingEvidence {
  const own = view.attacks.filter((e) => e.model.name === model.name);
  const white = own.filter((e) => accessOf(e.config.attack.name) === 'gradient' && e.config.grad === grad);
  const black = own.filter((e) => accessOf(e.config.attack.name) !== 'gradient');
  const name = (e: AttackEntry): string => e.config.attack.name.toUpperCase();
  const labels = view.labels(model.dataset);
  const transfer = new Map<number, AccuracyAt>();
  for (const t of view.transfers) {
    const clean = t.result.targetCleanPredictions[model.name];
    if (!clean || !labels || t.config.attack.norm !== 'linf') continue;
    for (const p of t.result.points) {
      const adv = p.targets[model.name];
      if (!adv) continue;
      const acc = robustAccuracy(labels, clean, adv);
      const cur = transfer.get(p.eps);
      if (!cur || acc < cur.accuracy) transfer.set(p.eps, { eps: p.eps, accuracy: acc, by: `transfer from ${t.config.source.name}` });
    }
  }
  const large = view.largeEps.find((e) => e.model.name === model.name && e.config.grad === grad);
  const grads = view.gradients.find((g) => g.config.model.name === model.name && g.config.grad === grad);
  return {
    singleStep: lowest(
      white.filter((e) => e.config.attack.name === 'fgsm'),
      name,
    ),
    iterative: lowest(
      white.filter((e) => e.config.attack.name !== 'fgsm'),
      name,
    ),
    whiteBox: lowest(white, name),
    blackBox: lowest(black, name),
    transfer: [...transfer.values()].sort((a, b) => a.eps - b.eps),
    largeEps: large?.result.points[0] ? { eps: large.result.points[0].eps, accuracy: large.result.points[0].robustAccuracy, by: name(large) } : null,
    zeroGradientShare: grads ? grads.result.zeroSamples : null,
    curves: [...white, ...black].map((e) => ({ attack: `${name(e)} (${e.threat})`, points: curveOf(e) })),
  };
}

/** The gradient modes a model was attacked or inspected with (null: its true gradient, one mode only). */
function gradModesOf(view: ExperimentView, m: ModelEntry): ('exact' | 'ste' | null)[] {
  const modes = new Set<'exact' | 'ste' | null>();
  for (const e of [...view.attacks, ...view.largeEps]) if (e.model.name === m.name && accessOf(e.config.attack.name) === 'gradient') modes.add(e.config.grad);
  for (const g of view.gradients) if (g.config.model.name === m.name) modes.add(g.config.grad);
  const order = [null, 'exact', 'ste'];
  return modes.size ? [...modes].sort((a, b) => order.indexOf(a) - order.indexOf(b)) : [null];
}

export function maskingSection(view: ExperimentView): Section {
  const rows: Record<string, CellValue>[] = [];
  for (const m of view.models) {
    for (const grad of gradModesOf(view, m)) {
      const ev = evidence(view, m, grad);
      const measured = ev.whiteBox.length + ev.blackBox.length + ev.transfer.length > 0 || ev.largeEps !== null || ev.zeroGradientShare !== null;
      if (!measured) continue;
      const row: Record<string, CellValue> = { model: m.name, precision: m.precision, gradient: threatLabel('fgsm', grad) };
      let flags = 0;
      for (const c of maskingChecks(ev)) {
        row[c.name] = c.status;
        row[`${c.name}:detail`] = c.detail;
        if (c.status === 'flag') flags++;
      }
      row['flags'] = flags;
      rows.push(row);
    }
  }
  return {
    id: 'gradient-masking',
    title: 'Gradient-masking diagnostics',
    intro:
      'Signs that a model only looks robust because its gradients are useless to the attacker (Athalye et al. 2018): a one-step ' +
      'attack doing better than iterative ones, black-box or transfer attacks doing better than white-box ones, an attack with a ' +
      'budget large enough to reach any input leaving accuracy above 1%, input gradients that are exactly zero, robust accuracy ' +
      'that rises with ε. Comparisons use L∞ attacks at common ε on the same samples. A flag on the exact-gradient row of a ' +
      'quantized model that disappears on its STE row is the gradient masking quantization causes (Bernhard et al. 2019).',
    figures: [],
    tables: [
      {
        id: 'gradient-masking',
        title: 'Gradient-masking checks',
        columns: [
          { key: 'model', label: 'model' },
          { key: 'precision', label: 'precision' },
          { key: 'gradient', label: 'gradient' },
          { key: 'flags', label: 'flags', format: 'integer' },
          ...CHECKS.flatMap((c) => [
            { key: c.name, label: c.label, format: 'status' as const, detailKey: `${c.name}:detail` },
            { key: `${c.name}:detail`, label: `${c.label}: detail`, csvOnly: true },
          ]),
        ],
        rows,
      },
    ],
    ...(rows.length ? {} : { empty: 'no attack or gradient record yet' }),
  };
}
