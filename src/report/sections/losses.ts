/**
 * Adversarial loss and quantization loss (Song et al. 2020, arXiv 2012.14965): accuracy lost to attacks, accuracy
 * lost to quantization (clean and under attack), and their first-order criteria.
 */
import { adversarialLoss, firstOrderAdversarialLoss, quantizationLoss } from '../../metrics/quantization-loss.js';
import { attackGroups } from '../attack-groups.js';
import type { Section } from '../section.js';
import type { CellValue } from '../table.js';
import type { ExperimentView } from '../view.js';

export function lossesSection(view: ExperimentView): Section {
  const cleanRows: Record<string, CellValue>[] = [];
  for (const m of view.models) {
    if (!m.parent) continue;
    const fp = view.evalOf(m.parent);
    const q = view.evalOf(m.name);
    const cmp = view.compares.find((c) => c.config.q.name === m.name);
    if (!fp && !q && !cmp) continue;
    cleanRows.push({
      fp: m.parent,
      variant: m.name,
      fpAccuracy: fp?.accuracy ?? null,
      qAccuracy: q?.accuracy ?? null,
      loss: fp && q ? quantizationLoss(fp.accuracy, q.accuracy) : null,
      ceMeasured: cmp?.result.loss.measured ?? null,
      ceFirstOrder: cmp?.result.loss.firstOrderWeights ?? null,
    });
  }
  const advRows: Record<string, CellValue>[] = [];
  for (const g of attackGroups(view)) {
    for (const e of g.entries) {
      const grads = view.gradients.find((x) => x.config.model.name === e.model.name && x.config.grad === e.config.grad);
      const fp = e.model.parent ? g.entries.find((x) => x.model.name === e.model.parent && x.config.grad === null) : undefined;
      for (const p of e.result.points) {
        const fpp = fp?.result.points.find((x) => x.eps === p.eps);
        advRows.push({
          attack: g.title,
          eps: p.eps,
          model: e.model.name,
          threat: e.threat,
          clean: e.result.cleanAccuracy,
          robust: p.robustAccuracy,
          adversarialLoss: adversarialLoss(e.result.cleanAccuracy, p.robustAccuracy),
          quantizationLoss: fpp ? quantizationLoss(fpp.robustAccuracy, p.robustAccuracy) : null,
          firstOrder: grads ? firstOrderAdversarialLoss(p.eps, g.norm === 'linf' ? grads.result.meanL1 : grads.result.meanL2) : null,
        });
      }
    }
  }
  return {
    id: 'losses',
    title: 'Adversarial loss and quantization loss',
    intro:
      'The two losses Song et al. (2020) analyse: the accuracy an attack takes away from a model (adversarial loss), and the ' +
      'accuracy quantization takes away, on clean inputs and under the same attack (quantization loss; negative when the ' +
      'variant is more accurate). The criteria are first-order estimates: ε·E‖∇ₓL‖₁ (L∞; ‖∇ₓL‖₂ for L2) bounds the rise of a ' +
      'linearised cross-entropy inside the ε-ball, and ⟨∇_W L, W_Q − W⟩ predicts the change of the clean cross-entropy from ' +
      'the weight change alone, next to the change measured.',
    figures: [],
    tables: [
      {
        id: 'quantization-loss',
        title: 'Quantization loss on clean inputs',
        columns: [
          { key: 'fp', label: 'full precision' },
          { key: 'variant', label: 'variant' },
          { key: 'fpAccuracy', label: 'FP accuracy', format: 'percent' },
          { key: 'qAccuracy', label: 'variant accuracy', format: 'percent' },
          { key: 'loss', label: 'quantization loss', format: 'percent' },
          { key: 'ceMeasured', label: 'cross-entropy change, measured', format: 'number' },
          { key: 'ceFirstOrder', label: 'cross-entropy change, first order (weights)', format: 'number' },
        ],
        rows: cleanRows,
      },
      {
        id: 'adversarial-loss',
        title: 'Adversarial loss and quantization loss under attack',
        columns: [
          { key: 'attack', label: 'attack' },
          { key: 'eps', label: 'ε', format: 'number' },
          { key: 'model', label: 'model' },
          { key: 'threat', label: 'threat model' },
          { key: 'clean', label: 'clean', format: 'percent' },
          { key: 'robust', label: 'robust', format: 'percent' },
          { key: 'adversarialLoss', label: 'adversarial loss', format: 'percent' },
          { key: 'quantizationLoss', label: 'quantization loss under attack', format: 'percent' },
          { key: 'firstOrder', label: 'first-order loss rise ε·E‖∇ₓL‖', format: 'number' },
        ],
        rows: advRows,
      },
    ],
    ...(cleanRows.length + advRows.length ? {} : { empty: 'no evaluation or attack has finished yet' }),
  };
}
