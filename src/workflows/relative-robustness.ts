/**
 * Relative robustness (Duncan, Komendantskaya, Stewart, Lones 2020, "Relative Robustness of Quantized Neural
 * Networks Against Adversarial Attacks", IJCNN 2020; no arXiv version): of the samples verified robust for the
 * full-precision network, the share also verified robust for its quantized version, and the reverse. Both
 * networks are verified on the same seeded test samples (`verifyModelDir` with the same n and seed); a sample
 * left undecided by either counts as not verified, and the undecided counts are reported beside the shares.
 */
import { QrobustError } from '../core/errors.js';
import { verifyModelDir, type VerifyDirOptions, type VerifyDirReport } from './verify-model.js';

export interface RelativeRobustnessOptions extends Omit<VerifyDirOptions, 'dir' | 'onSample'> {
  readonly fpDir: string;
  readonly quantizedDir: string;
  readonly onSample?: (which: 'fp' | 'quantized', done: number, total: number) => void;
}

export interface RelativeRobustnessReport {
  readonly epsilon: number;
  /** Samples verified for both, only the FP net, only the quantized net, neither. */
  readonly counts: { readonly both: number; readonly fpOnly: number; readonly quantizedOnly: number; readonly neither: number };
  /** Of the samples verified for the FP net, the share also verified for the quantized one (null when none is). */
  readonly quantizedGivenFp: number | null;
  /** Of the samples verified for the quantized net, the share also verified for the FP one (null when none is). */
  readonly fpGivenQuantized: number | null;
  readonly fp: VerifyDirReport;
  readonly quantized: VerifyDirReport;
}

export async function relativeRobustness(o: RelativeRobustnessOptions): Promise<RelativeRobustnessReport> {
  const { fpDir, quantizedDir, onSample, ...common } = o;
  const fp = await verifyModelDir({ ...common, semantics: undefined, dir: fpDir, ...(onSample ? { onSample: (_s, d, t) => onSample('fp', d, t) } : {}) });
  const quantized = await verifyModelDir({ ...common, dir: quantizedDir, ...(onSample ? { onSample: (_s, d, t) => onSample('quantized', d, t) } : {}) });
  if (fp.samples.length !== quantized.samples.length || fp.samples.some((s, k) => s.index !== quantized.samples[k]!.index)) {
    throw new QrobustError('invalid_argument', `${fpDir} and ${quantizedDir} were verified on different test samples (are they trained on the same dataset?)`);
  }
  let both = 0;
  let fpOnly = 0;
  let quantizedOnly = 0;
  let neither = 0;
  fp.samples.forEach((s, k) => {
    const a = s.outcome === 'verified';
    const b = quantized.samples[k]!.outcome === 'verified';
    if (a && b) both++;
    else if (a) fpOnly++;
    else if (b) quantizedOnly++;
    else neither++;
  });
  return {
    epsilon: o.epsilon,
    counts: { both, fpOnly, quantizedOnly, neither },
    quantizedGivenFp: both + fpOnly > 0 ? both / (both + fpOnly) : null,
    fpGivenQuantized: both + quantizedOnly > 0 ? both / (both + quantizedOnly) : null,
    fp,
    quantized,
  };
}
