/**
 * Formal verification (from the `verify` records): verified, falsified and undecided samples per model and ε,
 * verified accuracy versus ε, and relative robustness by verification (Duncan et al. 2020): of the samples
 * proved robust for the full-precision model, the share proved robust for the variant too.
 */
import { relativeRobustness } from '../../metrics/relative-robustness.js';
import { lineChart } from '../charts/line-chart.js';
import { color } from '../charts/svg.js';
import type { Section } from '../section.js';
import type { CellValue } from '../table.js';
import type { ExperimentView } from '../view.js';

export function verificationSection(view: ExperimentView): Section {
  const vs = view.verifications;
  const models = [...new Set(vs.map((v) => v.config.model.name))];
  const perModel: Record<string, CellValue>[] = vs.map((v) => ({
    model: v.config.model.name,
    semantics: v.result.semantics,
    eps: v.config.eps,
    method: v.config.method,
    n: v.result.samples.length,
    verified: v.result.verified,
    falsified: v.result.falsified,
    unknown: v.result.unknown,
    accuracy: v.result.samples.length ? v.result.verified / v.result.samples.length : null,
    seconds: v.record.run.timing?.['seconds'] ?? null,
  }));
  const relRows: Record<string, CellValue>[] = [];
  for (const q of vs) {
    const parent = view.model(q.config.model.name)?.parent;
    if (!parent) continue;
    const fp = vs.find((v) => v.config.model.name === parent && v.config.eps === q.config.eps && v.config.data.n === q.config.data.n);
    if (!fp) continue;
    const byIndex = new Map(fp.result.samples.map((s) => [s.index, s.outcome]));
    const common = q.result.samples.filter((s) => byIndex.has(s.index));
    const rr = relativeRobustness(
      common.map((s) => byIndex.get(s.index) === 'verified'),
      common.map((s) => s.outcome === 'verified'),
    );
    relRows.push({
      eps: q.config.eps,
      fp: parent,
      variant: q.config.model.name,
      semantics: q.result.semantics,
      n: rr.n,
      fpVerified: rr.fpRobust,
      qVerified: rr.qRobust,
      both: rr.bothRobust,
      relative: rr.relative,
      reverse: rr.reverse,
      undecided: common.filter((s) => s.outcome === 'unknown' || byIndex.get(s.index) === 'unknown').length,
    });
  }
  const figures = vs.length
    ? [
        lineChart({
          title: 'Verified accuracy vs ε',
          xLabel: 'ε (L∞, pixels in [0, 1])',
          yLabel: 'verified robust accuracy',
          yDomain: [0, 1],
          yFormat: (v) => `${Math.round(v * 100)}%`,
          series: models.map((m, i) => ({
            name: `${m} (${vs.find((v) => v.config.model.name === m)!.result.semantics})`,
            color: color(i),
            points: vs.filter((v) => v.config.model.name === m && v.result.samples.length).map((v) => ({ x: v.config.eps, y: v.result.verified / v.result.samples.length })),
          })),
        }),
      ]
    : [];
  return {
    id: 'verification',
    title: 'Formal verification',
    intro:
      'Local robustness in the L∞ ball of radius ε, decided per sample by sound bounds, an attack that finds counterexamples ' +
      '(re-checked on the model before they count) and a complete MILP or SMT method, within a time limit. Quantized models are ' +
      'verified bit-precisely as their integer program where they have one. Verified accuracy is a lower bound on robust ' +
      'accuracy; relative robustness by verification is the share of the samples proved robust for the full-precision model ' +
      'that are proved robust for the variant too (Duncan et al. 2020), and the reverse.',
    figures,
    tables: [
      {
        id: 'verification',
        title: 'Verified, falsified and undecided samples',
        columns: [
          { key: 'model', label: 'model' },
          { key: 'semantics', label: 'semantics' },
          { key: 'eps', label: 'ε', format: 'number' },
          { key: 'method', label: 'method' },
          { key: 'n', label: 'samples', format: 'integer' },
          { key: 'verified', label: 'verified', format: 'integer' },
          { key: 'falsified', label: 'falsified', format: 'integer' },
          { key: 'unknown', label: 'unknown', format: 'integer' },
          { key: 'accuracy', label: 'verified accuracy', format: 'percent' },
          { key: 'seconds', label: 'seconds', format: 'number' },
        ],
        rows: perModel,
      },
      {
        id: 'relative-robustness-verified',
        title: 'Relative robustness by verification',
        columns: [
          { key: 'eps', label: 'ε', format: 'number' },
          { key: 'fp', label: 'full precision' },
          { key: 'variant', label: 'variant' },
          { key: 'semantics', label: 'variant semantics' },
          { key: 'n', label: 'samples', format: 'integer' },
          { key: 'fpVerified', label: 'FP verified', format: 'integer' },
          { key: 'qVerified', label: 'variant verified', format: 'integer' },
          { key: 'both', label: 'both verified', format: 'integer' },
          { key: 'relative', label: 'relative robustness', format: 'percent' },
          { key: 'reverse', label: 'reverse', format: 'percent' },
          { key: 'undecided', label: 'undecided (either)', format: 'integer' },
        ],
        rows: relRows,
      },
    ],
    ...(vs.length ? {} : { empty: 'needs "verify" in the config' }),
  };
}
