/**
 * Which ReLU to split next in branch and bound. The score follows BaBSR (Bunel et al. 2020, "Branch and Bound
 * for Piecewise Linear Neural Network Verification", JMLR 21): an unstable ReLU whose upper relaxation is used
 * with a negative coefficient λ adds λ·t to the bound, t the line's intercept −u·l/(u − l); splitting it removes
 * that term in both children. The score of neuron j is Σ_r max(0, −λ_rj)·t_j over the specification rows r still
 * open, which says how much the bound of the rows gains. Ties (all scores 0, e.g. every coefficient ≥ 0) fall back
 * to the neuron with the widest relaxation (largest t_j).
 */
import type { LinearRows } from '../bounds/backward.js';
import type { Relaxation } from '../bounds/relaxation.js';
import type { NetworkIR } from '../ir.js';

export interface BranchChoice {
  /** The ReLU step; the split constrains the output of step `relu − 1` (its input). */
  readonly relu: number;
  readonly neuron: number;
}

/**
 * The ReLU neuron to split, or null when every ReLU is stable over the region.
 * @param rows the specification rows whose bounds are still ≤ 0 (the ones a split should help).
 */
export function chooseBranch(ir: NetworkIR, relax: readonly (Relaxation | null)[], entering: readonly LinearRows[], rows: readonly number[]): BranchChoice | null {
  let best: BranchChoice | null = null;
  let bestScore = 0;
  let fallback: BranchChoice | null = null;
  let fallbackWidth = 0;
  ir.steps.forEach((step, s) => {
    const rx = relax[s];
    if (step.kind !== 'relu' || rx?.kind !== 'relu') return;
    const lam = entering[s];
    for (const j of rx.unstable) {
      const t = rx.upperIntercept[j]!;
      if (t > fallbackWidth) {
        fallbackWidth = t;
        fallback = { relu: s, neuron: j };
      }
      if (!lam) continue;
      let score = 0;
      for (const r of rows) {
        if (j < lam.start[r]! || j >= lam.end[r]!) continue;
        const c = lam.lambda[lam.offset[r]! + j - lam.start[r]!]!;
        if (c < 0) score -= c * t;
      }
      if (score > bestScore) {
        bestScore = score;
        best = { relu: s, neuron: j };
      }
    }
  });
  return best ?? fallback;
}
