/**
 * Relative robustness by attack (Duncan et al. 2020): for each full-precision model, each of its variants, each
 * attack and ε, the share of the samples robust for the full-precision model that are robust for the variant too,
 * and the reverse.
 */
import { relativeRobustness, robustFlags } from '../../metrics/relative-robustness.js';
import { attackGroups } from '../attack-groups.js';
import type { Section } from '../section.js';
import type { CellValue } from '../table.js';
import type { ExperimentView } from '../view.js';

export function relativeRobustnessSection(view: ExperimentView): Section {
  const rows: Record<string, CellValue>[] = [];
  for (const g of attackGroups(view)) {
    for (const q of g.entries) {
      const parent = q.model.parent;
      const labels = view.labels(q.model.dataset);
      if (!parent || !labels) continue;
      const fp = g.entries.find((e) => e.model.name === parent && e.config.grad === null);
      if (!fp) continue;
      for (const qp of q.result.points) {
        const fpp = fp.result.points.find((p) => p.eps === qp.eps);
        if (!fpp) continue;
        const rr = relativeRobustness(robustFlags(labels, fp.result.cleanPredictions, fpp.predictions), robustFlags(labels, q.result.cleanPredictions, qp.predictions));
        rows.push({
          attack: g.title,
          eps: qp.eps,
          fp: parent,
          variant: q.model.name,
          threat: q.threat,
          n: rr.n,
          fpRobust: rr.fpRobust,
          qRobust: rr.qRobust,
          both: rr.bothRobust,
          relative: rr.relative,
          reverse: rr.reverse,
        });
      }
    }
  }
  return {
    id: 'relative-robustness',
    title: 'Relative robustness',
    intro:
      'Of the samples on which the full-precision model withstands an attack (correct clean and attacked), the share on which ' +
      'the quantized variant withstands the same attack too (Duncan et al. 2020), and the reverse share over the samples robust ' +
      'for the variant. Each model is attacked on its own (white-box, or with the same black-box attack).',
    figures: [],
    tables: [
      {
        id: 'relative-robustness',
        title: 'Relative robustness by attack',
        columns: [
          { key: 'attack', label: 'attack' },
          { key: 'eps', label: 'ε', format: 'number' },
          { key: 'fp', label: 'full precision' },
          { key: 'variant', label: 'variant' },
          { key: 'threat', label: 'threat model (variant)' },
          { key: 'n', label: 'samples', format: 'integer' },
          { key: 'fpRobust', label: 'FP robust', format: 'integer' },
          { key: 'qRobust', label: 'variant robust', format: 'integer' },
          { key: 'both', label: 'both robust', format: 'integer' },
          { key: 'relative', label: 'relative robustness', format: 'percent' },
          { key: 'reverse', label: 'reverse', format: 'percent' },
        ],
        rows,
      },
    ],
    ...(rows.length ? {} : { empty: 'needs the same attack on a full-precision model and one of its variants' }),
  };
}
