/**
 * Relative robustness and the transfer split from a search around each input (Duncan, Komendantskaya,
 * Stewart & Lones 2020, "Relative Robustness of Quantized Neural Networks Against Adversarial Attacks", IJCNN
 * 2020), as their scripts count them:
 * - an input x is FP-robust when the search on the full-precision network found no adversarial image; the
 *   quantized network is robust at such an x when it gives the true label to every image of S(x), the explored
 *   images the full-precision network classifies correctly;
 *   RR = |{x FP-robust : Q correct on all of S(x)}| / |{x FP-robust}|;
 * - each adversarial image of the full-precision network in the outcomes (the authors' scripts give one per
 *   input, the one the search reports) is kept (the quantized network gives the true label), same-wrong (it
 *   gives the full-precision network's adversarial label: the attack transferred) or other; transfer rate =
 *   same-wrong / all.
 * Every adversarial image given counts in the split, whatever the quantized network says of the clean input (the
 * authors' scripts do not filter on it); `transferBreakdown` is given the true label as the target's clean
 * label so that it counts them all.
 */
import { relativeRobustness, type RelativeRobustness } from './relative-robustness.js';
import { transferBreakdown, type TransferBreakdown } from './transfer.js';

/** What the quantized network says about one search. */
export interface SearchOutcome {
  readonly label: number;
  /** Images in S(x). */
  readonly explored: number;
  /** Of those, how many the quantized network labels correctly. */
  readonly quantizedCorrect: number;
  /** Per adversarial image: the full-precision label and the quantized label. */
  readonly adversarial: readonly { readonly fp: number; readonly quantized: number }[];
}

export interface SearchRobustness {
  /** Inputs searched. */
  readonly inputs: number;
  /** `relativeRobustness` of the flags: FP robust (no adversarial found), Q robust (FP robust and Q correct on S(x)). */
  readonly relative: RelativeRobustness;
  readonly transfer: TransferBreakdown;
}

/** Whether the quantized network is robust at an FP-robust input. */
export function quantizedRobust(o: SearchOutcome): boolean {
  return o.adversarial.length === 0 && o.quantizedCorrect === o.explored;
}

export function searchRobustness(outcomes: readonly SearchOutcome[]): SearchRobustness {
  const fp = outcomes.map((o) => (o.adversarial.length === 0 ? 1 : 0));
  const q = outcomes.map((o) => (quantizedRobust(o) ? 1 : 0));
  const labels: number[] = [];
  const source: number[] = [];
  const target: number[] = [];
  for (const o of outcomes) {
    for (const a of o.adversarial) {
      labels.push(o.label);
      source.push(a.fp);
      target.push(a.quantized);
    }
  }
  return { inputs: outcomes.length, relative: relativeRobustness(fp, q), transfer: transferBreakdown(labels, labels, source, labels, target) };
}
