/**
 * The preprocessing a network's owner applied outside the network, as declared on import, and its form inside
 * the classifier: `(pixel · scale − mean) / std` equals `(pixel − mean/scale) / (std/scale)`, one `Normalize`
 * layer in front of the imported graph, so that ε and every attack stay in pixel space [0, 1].
 */
import { QrobustError } from '../core/errors.js';
import type { FrontEnd } from './build-layers.js';
import type { DeclaredPreprocessing } from './types.js';

export const IDENTITY_PREPROCESSING: DeclaredPreprocessing = { scale: 1, mean: [0], std: [1] };

/**
 * Checks declared preprocessing against the image's channel count.
 * @throws QrobustError('invalid_argument') naming the flag that does not fit.
 */
export function checkPreprocessing(p: DeclaredPreprocessing, channels: number): DeclaredPreprocessing {
  if (!(Number.isFinite(p.scale) && p.scale > 0)) throw new QrobustError('invalid_argument', `--scale must be a positive number, got ${p.scale}`);
  for (const [flag, values] of [['mean', p.mean], ['std', p.std]] as const) {
    if (values.length !== 1 && values.length !== channels) {
      throw new QrobustError('invalid_argument', `--${flag} has ${values.length} values; the images have ${channels} channel(s): give 1 or ${channels}`);
    }
    if (values.some((v) => !Number.isFinite(v))) throw new QrobustError('invalid_argument', `--${flag} must be numbers, got ${values.join(',')}`);
  }
  if (p.std.some((s) => !(s > 0))) throw new QrobustError('invalid_argument', `--std must be positive, got ${p.std.join(',')}`);
  return p;
}

export function isIdentity(p: DeclaredPreprocessing): boolean {
  return p.scale === 1 && p.mean.every((m) => m === 0) && p.std.every((s) => s === 1);
}

/** The Normalize layer's configuration, or undefined when the preprocessing is the identity. */
export function frontEndOf(p: DeclaredPreprocessing): FrontEnd | undefined {
  if (isIdentity(p)) return undefined;
  const n = Math.max(p.mean.length, p.std.length);
  const at = (v: readonly number[], i: number): number => (v.length === 1 ? v[0]! : v[i]!);
  return {
    mean: Array.from({ length: n }, (_, i) => at(p.mean, i) / p.scale),
    std: Array.from({ length: n }, (_, i) => at(p.std, i) / p.scale),
  };
}
