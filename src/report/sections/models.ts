/** The models of the experiment: precision, clean accuracy on the slice (fake-quant and integer-exact), and their agreement. */
import type { Section } from '../section.js';
import type { ExperimentView } from '../view.js';

export function modelsSection(view: ExperimentView): Section {
  const rows = view.models.map((m) => {
    const ev = view.evalOf(m.name);
    return {
      model: m.name,
      dataset: m.dataset,
      arch: m.arch,
      parent: m.parent,
      precision: m.precision,
      clean: ev?.accuracy ?? null,
      integer: ev?.integer?.accuracy ?? null,
      agreement: ev?.integer?.agreement ?? null,
      n: ev ? ev.predictions.length : null,
      recorded: m.model?.testAccuracy?.accuracy ?? null,
    };
  });
  return {
    id: 'models',
    title: 'Models',
    intro:
      'Every model of the experiment: full-precision models and their quantized variants. Clean accuracy is measured on the ' +
      "experiment's test slice; for quantized models on the fake-quant path (what attacks differentiate) and on the integer-exact " +
      'path (deployed semantics), with the share of samples on which the two agree. The last column is the accuracy recorded when ' +
      'the model was made (whole test split for trained models).',
    figures: [],
    tables: [
      {
        id: 'models',
        title: 'Models and clean accuracy',
        columns: [
          { key: 'model', label: 'model' },
          { key: 'dataset', label: 'dataset' },
          { key: 'arch', label: 'architecture' },
          { key: 'parent', label: 'parent' },
          { key: 'precision', label: 'precision' },
          { key: 'n', label: 'samples', format: 'integer' },
          { key: 'clean', label: 'clean accuracy', format: 'percent' },
          { key: 'integer', label: 'integer-exact accuracy', format: 'percent' },
          { key: 'agreement', label: 'fake-quant / integer agreement', format: 'percent' },
          { key: 'recorded', label: 'recorded test accuracy', format: 'percent' },
        ],
        rows,
      },
    ],
    ...(rows.length ? {} : { empty: 'no model has finished yet' }),
  };
}
