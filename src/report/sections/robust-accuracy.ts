/**
 * Robust accuracy versus ε per model (bit width) and threat model (Gorsline et al. 2021, arXiv 2105.00227): one
 * chart and one table per attack configuration, the per-point details (success rate, perturbation, queries,
 * integer-exact re-check), and where a variant's curve crosses its full-precision parent's.
 */
import { curveCrossings, type CurvePoint } from '../../metrics/robust-accuracy.js';
import { attackGroups, slug, type AttackGroup } from '../attack-groups.js';
import { lineChart } from '../charts/line-chart.js';
import { color } from '../charts/svg.js';
import type { Section } from '../section.js';
import type { CellValue, Table } from '../table.js';
import type { AttackEntry, ExperimentView } from '../view.js';

export function curveOf(e: AttackEntry): CurvePoint[] {
  return e.result.points.map((p) => ({ eps: p.eps, value: p.robustAccuracy }));
}

/** The model family of a run: a full-precision model and its variants are drawn in one chart. */
function familyOf(e: AttackEntry): string {
  return e.model.parent ?? e.model.name;
}

/** One chart per attack configuration and model family: one curve per model (bit width) and threat model. */
function groupCharts(g: AttackGroup): string[] {
  const families = [...new Set(g.entries.map(familyOf))];
  return families.map((family) => {
    const entries = g.entries.filter((e) => familyOf(e) === family);
    const models = [...new Set(entries.map((e) => e.model.name))];
    return lineChart({
      title: `${models.length > 1 ? `${family} and its variants` : family}: ${g.title}`,
      xLabel: `ε (${g.norm === 'linf' ? 'L∞' : 'L2'}, pixels in [0, 1])`,
      yLabel: 'robust accuracy',
      yDomain: [0, 1],
      yFormat: (v) => `${Math.round(v * 100)}%`,
      series: entries.map((e) => ({
        name: `${e.model.name} (${e.model.precision}) · ${e.threat}`,
        color: color(models.indexOf(e.model.name)),
        dashed: e.config.grad === 'ste',
        points: [{ x: 0, y: e.result.cleanAccuracy }, ...e.result.points.map((p) => ({ x: p.eps, y: p.robustAccuracy }))],
      })),
    });
  });
}

function groupTable(g: AttackGroup): Table {
  return {
    id: `robust-accuracy-${slug(g.title)}`,
    title: `Robust accuracy: ${g.title}`,
    columns: [
      { key: 'model', label: 'model' },
      { key: 'precision', label: 'precision' },
      { key: 'threat', label: 'threat model' },
      { key: 'clean', label: 'clean', format: 'percent' },
      ...g.eps.map((eps) => ({ key: `eps:${eps}`, label: `ε=${eps}`, format: 'percent' as const })),
    ],
    rows: g.entries.map((e) => {
      const row: Record<string, CellValue> = { model: e.model.name, precision: e.model.precision, threat: e.threat, clean: e.result.cleanAccuracy };
      for (const p of e.result.points) row[`eps:${p.eps}`] = p.robustAccuracy;
      return row;
    }),
  };
}

function detailsTable(view: ExperimentView): Table {
  const rows = attackGroups(view).flatMap((g) =>
    g.entries.flatMap((e) =>
      e.result.points.map((p) => ({
        attack: g.title,
        model: e.model.name,
        threat: e.threat,
        eps: p.eps,
        robust: p.robustAccuracy,
        success: p.successRate,
        perturbation: p.meanPerturbation,
        queries: p.meanQueries,
        integer: p.integer?.robustAccuracy ?? null,
        disagreements: p.integer?.disagreements ?? null,
      })),
    ),
  );
  return {
    id: 'attack-details',
    title: 'Every attack point',
    note: 'Success rate is over the samples classified correctly when clean; mean perturbation is in the attack norm over the successful samples; the integer columns re-classify the same adversarial inputs on the integer-exact path.',
    columns: [
      { key: 'attack', label: 'attack' },
      { key: 'model', label: 'model' },
      { key: 'threat', label: 'threat model' },
      { key: 'eps', label: 'ε', format: 'number' },
      { key: 'robust', label: 'robust accuracy', format: 'percent' },
      { key: 'success', label: 'success rate', format: 'percent' },
      { key: 'perturbation', label: 'mean perturbation', format: 'number' },
      { key: 'queries', label: 'mean queries', format: 'number' },
      { key: 'integer', label: 'integer-exact robust accuracy', format: 'percent' },
      { key: 'disagreements', label: 'integer / fake-quant disagreements', format: 'integer' },
    ],
    rows,
  };
}

function crossingTable(view: ExperimentView): Table {
  const rows: Record<string, CellValue>[] = [];
  for (const g of attackGroups(view)) {
    for (const e of g.entries) {
      const parent = e.model.parent;
      if (!parent) continue;
      const fp = g.entries.find((x) => x.model.name === parent && x.config.grad === null);
      if (!fp) continue;
      const a = curveOf(e);
      const b = curveOf(fp);
      const crossings = curveCrossings(a, b);
      const first = a.find((p) => p.eps === b[0]?.eps);
      const last = [...a].reverse().find((p) => b.some((q) => q.eps === p.eps));
      const order = (p: CurvePoint | undefined): string | null => {
        if (!p) return null;
        const d = p.value - b.find((q) => q.eps === p.eps)!.value;
        return d > 0 ? 'variant' : d < 0 ? 'full precision' : 'equal';
      };
      rows.push({
        attack: g.title,
        variant: e.model.name,
        fp: parent,
        threat: e.threat,
        smallest: order(first),
        largest: order(last),
        crossings: crossings.length ? crossings.map((c) => `between ε=${c.from} and ε=${c.to} (${c.higherBefore === 'a' ? 'variant' : 'FP'} higher before)`).join('; ') : 'none',
      });
    }
  }
  return {
    id: 'crossings',
    title: 'Where quantization helps and where it hurts',
    note: "Which model is more robust at the smallest and the largest ε, and where the variant's curve crosses its full-precision parent's (Gorsline et al. 2021).",
    columns: [
      { key: 'attack', label: 'attack' },
      { key: 'variant', label: 'variant' },
      { key: 'fp', label: 'full precision' },
      { key: 'threat', label: 'threat model (variant)' },
      { key: 'smallest', label: 'more robust at smallest ε' },
      { key: 'largest', label: 'more robust at largest ε' },
      { key: 'crossings', label: 'crossings' },
    ],
    rows,
  };
}

export function robustAccuracySection(view: ExperimentView): Section {
  const groups = attackGroups(view);
  return {
    id: 'robust-accuracy',
    title: 'Robust accuracy vs ε',
    intro:
      'Robust accuracy: the share of samples classified correctly both clean and under the attack at ε (Gorsline et al. 2021). ' +
      'One curve per model and threat model; ε = 0 is clean accuracy. Dashed lines attack quantized models through their ' +
      'quantizers with the straight-through estimator (BPDA); solid lines with the exact gradient, which is zero almost ' +
      'everywhere for a quantizer, or on full-precision models.',
    figures: groups.flatMap(groupCharts),
    tables: [...groups.map(groupTable), crossingTable(view), detailsTable(view)],
    ...(groups.length ? {} : { empty: 'no attack has finished yet' }),
  };
}
