/**
 * Quantization value shift per layer and gradient misalignment between each full-precision model and its
 * variants (Bernhard et al. 2019, arXiv 1909.12741), from the `compare` records.
 */
import { barChart } from '../charts/bar-chart.js';
import { color } from '../charts/svg.js';
import type { Section } from '../section.js';
import type { CellValue } from '../table.js';
import type { ExperimentView } from '../view.js';

export function valueShiftSection(view: ExperimentView): Section {
  const figures: string[] = [];
  const fps = [...new Set(view.compares.map((c) => c.config.fp.name))];
  for (const fp of fps) {
    const cs = view.compares.filter((c) => c.config.fp.name === fp);
    const layers = cs[0]!.result.layers.map((l) => l.layer);
    figures.push(
      barChart({
        title: `Perturbation reaching each layer, variant / full precision (${fp}, FGSM ε=${cs[0]!.config.eps})`,
        yLabel: 'perturbation ratio',
        categories: layers,
        reference: 1,
        series: cs.map((c, i) => ({
          name: c.config.q.name,
          color: color(i + 1),
          values: layers.map((name) => c.result.layers.find((l) => l.layer === name)?.perturbationRatio ?? null),
        })),
      }),
    );
  }
  const layerRows: Record<string, CellValue>[] = view.compares.flatMap((c) =>
    c.result.layers.map((l) => ({
      fp: c.config.fp.name,
      variant: c.config.q.name,
      layer: l.layer,
      cleanShift: l.cleanShift,
      fpPerturbation: l.fpPerturbation,
      qPerturbation: l.qPerturbation,
      ratio: l.perturbationRatio,
      binChange: l.binChangeRate,
    })),
  );
  const alignRows: Record<string, CellValue>[] = view.compares.map((c) => ({
    fp: c.config.fp.name,
    variant: c.config.q.name,
    n: c.result.alignment.n,
    meanCosine: c.result.alignment.meanCosine,
    medianCosine: c.result.alignment.medianCosine,
    undefinedCosine: c.result.alignment.undefinedCosine,
    sign: c.result.alignment.meanSignAgreement,
  }));
  return {
    id: 'value-shift',
    title: 'Quantization value shift and gradient misalignment',
    intro:
      'Why adversarial examples transfer poorly between a full-precision model and its quantized variant (Bernhard et al. 2019). ' +
      "Both models see the same inputs and the same perturbation (FGSM on the full-precision model). Per layer: the clean shift " +
      "(relative L1 distance of the variant's activations from the full-precision ones), the mean change the perturbation causes " +
      'in each model, their ratio (below 1: the quantizers absorb the perturbation; above 1: they amplify it), and the share of ' +
      'quantized outputs that change bin. Gradient misalignment: cosine similarity and sign agreement of the two input gradients ' +
      "(the variant's through the straight-through estimator).",
    figures,
    tables: [
      {
        id: 'value-shift',
        title: 'Value shift per layer',
        columns: [
          { key: 'fp', label: 'full precision' },
          { key: 'variant', label: 'variant' },
          { key: 'layer', label: 'layer' },
          { key: 'cleanShift', label: 'clean shift', format: 'ratio' },
          { key: 'fpPerturbation', label: 'perturbation (FP)', format: 'number' },
          { key: 'qPerturbation', label: 'perturbation (variant)', format: 'number' },
          { key: 'ratio', label: 'ratio', format: 'ratio' },
          { key: 'binChange', label: 'bin change rate', format: 'percent' },
        ],
        rows: layerRows,
      },
      {
        id: 'gradient-alignment',
        title: 'Gradient misalignment',
        columns: [
          { key: 'fp', label: 'full precision' },
          { key: 'variant', label: 'variant' },
          { key: 'n', label: 'samples', format: 'integer' },
          { key: 'meanCosine', label: 'mean cosine', format: 'ratio' },
          { key: 'medianCosine', label: 'median cosine', format: 'ratio' },
          { key: 'undefinedCosine', label: 'zero gradients (no cosine)', format: 'integer' },
          { key: 'sign', label: 'sign agreement', format: 'percent' },
        ],
        rows: alignRows,
      },
    ],
    ...(view.compares.length ? {} : { empty: 'needs "compare" in the config and a quantized variant' }),
  };
}
