/**
 * Transfer of adversarial examples from a source model to a target model, split as Duncan, Komendantskaya,
 * Stewart & Lones 2020 ("Relative Robustness of Quantized Neural Networks Against Adversarial Attacks", IJCNN
 * 2020) split it for a full-precision source and its quantized target. For each example x' crafted on the source
 * that fools it, the target's label is one of:
 * - kept: the true label (the attack did not transfer);
 * - same wrong label: the label the source gave x' (the attack transferred exactly);
 * - other label: a third label (the target was fooled, differently).
 *
 * transfer rate = same / n (Duncan et al.'s transferred examples); untargeted transfer rate = (same + other) / n
 * (the target is fooled at all, 1 − the target's accuracy on these examples, as Bernhard et al. 2019 count it).
 * Only samples that both models classify correctly when clean are counted (Bernhard et al.'s evaluation set),
 * so that a target's own clean errors are not mistaken for transferred attacks.
 */
import { checkLengths } from './robust-accuracy.js';

export interface TransferBreakdown {
  /** Samples correct on both models when clean whose source adversarial example fooled the source. */
  readonly n: number;
  readonly kept: number;
  readonly sameWrong: number;
  readonly otherWrong: number;
  /** sameWrong / n; null when n = 0. */
  readonly transferRate: number | null;
  /** (sameWrong + otherWrong) / n; null when n = 0. */
  readonly untargetedTransferRate: number | null;
}

export function transferBreakdown(
  labels: ArrayLike<number>,
  sourceClean: ArrayLike<number>,
  sourceAdversarial: ArrayLike<number>,
  targetClean: ArrayLike<number>,
  targetAdversarial: ArrayLike<number>,
): TransferBreakdown {
  checkLengths(labels, sourceClean, sourceAdversarial, targetClean, targetAdversarial);
  let n = 0;
  let kept = 0;
  let sameWrong = 0;
  let otherWrong = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (sourceClean[i] !== y || targetClean[i] !== y || sourceAdversarial[i] === y) continue;
    n++;
    if (targetAdversarial[i] === y) kept++;
    else if (targetAdversarial[i] === sourceAdversarial[i]) sameWrong++;
    else otherWrong++;
  }
  return {
    n,
    kept,
    sameWrong,
    otherWrong,
    transferRate: n ? sameWrong / n : null,
    untargetedTransferRate: n ? (sameWrong + otherWrong) / n : null,
  };
}
