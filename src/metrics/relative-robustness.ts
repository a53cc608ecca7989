/**
 * Relative robustness (Duncan, Komendantskaya, Stewart & Lones 2020, "Relative Robustness of Quantized Neural
 * Networks Against Adversarial Attacks", IJCNN 2020): of the samples on which the full-precision network is
 * robust, the share on which the quantized network is robust too,
 *
 *     RR = |{x : FP robust at x ∧ Q robust at x}| / |{x : FP robust at x}|,
 *
 * and the reverse share over the samples where the quantized network is robust. "Robust at x" is what the
 * evidence supports: no attack found an adversarial example (by attack: the sample is classified correctly clean
 * and attacked), or a sound verifier proved it (by verification).
 */
import { checkLengths } from './robust-accuracy.js';

export interface RelativeRobustness {
  readonly n: number;
  readonly fpRobust: number;
  readonly qRobust: number;
  readonly bothRobust: number;
  /** bothRobust / fpRobust; null when the full-precision model is robust nowhere. */
  readonly relative: number | null;
  /** bothRobust / qRobust; null when the quantized model is robust nowhere. */
  readonly reverse: number | null;
}

/** From per-sample robustness flags (1: robust). */
export function relativeRobustness(fpRobust: ArrayLike<number | boolean>, qRobust: ArrayLike<number | boolean>): RelativeRobustness {
  if (fpRobust.length !== qRobust.length) throw new Error(`per-sample arrays of different lengths: ${fpRobust.length}, ${qRobust.length}`);
  let fp = 0;
  let q = 0;
  let both = 0;
  for (let i = 0; i < fpRobust.length; i++) {
    const a = Boolean(fpRobust[i]);
    const b = Boolean(qRobust[i]);
    if (a) fp++;
    if (b) q++;
    if (a && b) both++;
  }
  return { n: fpRobust.length, fpRobust: fp, qRobust: q, bothRobust: both, relative: fp ? both / fp : null, reverse: q ? both / q : null };
}

/** Per-sample robustness under an attack: correct when clean and when attacked. */
export function robustFlags(labels: ArrayLike<number>, clean: ArrayLike<number>, adversarial: ArrayLike<number>): Uint8Array {
  checkLengths(labels, clean, adversarial);
  return Uint8Array.from({ length: labels.length }, (_, i) => (clean[i] === labels[i] && adversarial[i] === labels[i] ? 1 : 0));
}
