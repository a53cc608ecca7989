/**
 * A DLV-style search's images (`dlv-search.ts`) shown to another classifier, such as the deployed quantized
 * network: how many of S(x) it labels correctly and its label for every adversarial image, the inputs of
 * `searchRobustness` (metrics/search-robustness.ts).
 */
import type { Classifier } from '../models/classifier.js';
import type { SearchOutcome } from '../metrics/search-robustness.js';
import type { DlvImage, DlvSearchResult } from './dlv-search.js';
import { predictImages } from './host-queries.js';

function labelsOf(target: Classifier, images: readonly DlvImage[]): Int32Array {
  if (images.length === 0) return new Int32Array(0);
  const d = images[0]!.image.length;
  const pixels = new Float32Array(images.length * d);
  images.forEach((m, i) => pixels.set(m.image, i * d));
  return predictImages(target, pixels, images.length);
}

export function dlvSearchOutcome(target: Classifier, label: number, search: DlvSearchResult): SearchOutcome {
  const explored = labelsOf(target, search.explored);
  const adversarial = labelsOf(target, search.adversarial);
  return {
    label,
    explored: explored.length,
    quantizedCorrect: explored.reduce((s, l) => s + (l === label ? 1 : 0), 0),
    adversarial: search.adversarial.map((a, i) => ({ fp: a.label, quantized: adversarial[i]! })),
  };
}
