/**
 * A DLV-style search's images (`dlv-search.ts`) shown to another classifier, such as the deployed quantized
 * network: how many of S(x) it labels correctly, and its label for every adversarial image and for the one the
 * search reports (`best`). These are the inputs of `searchRobustness` (metrics/search-robustness.ts).
 *
 * S(x) can hold tens of thousands of images, so they are built and sent in chunks, and `check` can stop at the
 * first one the target gets wrong ('until-wrong': enough to decide whether the target is robust at x) or skip
 * them ('none': for an input that is not FP-robust, where S(x) does not enter relative robustness).
 */
import type { Classifier } from '../models/classifier.js';
import type { SearchOutcome } from '../metrics/search-robustness.js';
import { dlvImage, type DlvSearchResult, type DlvState } from './dlv-search.js';
import { predictImages } from './host-queries.js';

export type DlvCheck = 'all' | 'until-wrong' | 'none';

export interface DlvTargetOutcome extends SearchOutcome {
  /** Images of S(x) the target was shown (all of them unless `check` stopped early or skipped them). */
  readonly checked: number;
  /** The target's label for the reported adversarial image, with the source's label and its L1 distance. */
  readonly best: { readonly fp: number; readonly quantized: number; readonly l1: number } | null;
}

const CHUNK = 1024;

function labelsOf(target: Classifier, image: Float32Array, search: DlvSearchResult, states: readonly DlvState[], stopUnless: number | null): Int32Array {
  const d = image.length;
  const out: number[] = [];
  for (let s = 0; s < states.length; s += CHUNK) {
    const part = states.slice(s, s + CHUNK);
    const pixels = new Float32Array(part.length * d);
    part.forEach((st, i) => pixels.set(dlvImage(image, search, st, target.bounds), i * d));
    const got = predictImages(target, pixels, part.length);
    for (const l of got) {
      out.push(l);
      if (stopUnless !== null && l !== stopUnless) return Int32Array.from(out);
    }
  }
  return Int32Array.from(out);
}

export function dlvSearchOutcome(target: Classifier, image: Float32Array, label: number, search: DlvSearchResult, check: DlvCheck = 'all'): DlvTargetOutcome {
  const explored = check === 'none' ? new Int32Array(0) : labelsOf(target, image, search, search.explored, check === 'until-wrong' ? label : null);
  const adversarial = labelsOf(target, image, search, search.adversarial, null);
  const bestAt = search.best ? search.adversarial.indexOf(search.best) : -1;
  return {
    label,
    explored: search.explored.length,
    checked: explored.length,
    quantizedCorrect: explored.reduce((s, l) => s + (l === label ? 1 : 0), 0),
    adversarial: search.adversarial.map((a, i) => ({ fp: a.label, quantized: adversarial[i]! })),
    best: search.best && bestAt >= 0 ? { fp: search.best.label, quantized: adversarial[bestAt]!, l1: search.best.l1 } : null,
  };
}
