/**
 * Shared helpers for the TFLite tests (no tests in here): the Duncan et al. TFLite model and the reference
 * outputs of TFLite's own interpreter on it, and seeded random arrays.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/core/rng.js';
import { findSiblingMirror } from '../../src/data/locate.js';

/** `shared/models/duncan2020/converted_model_cifar.tflite` beside the checkout, or null. */
export const DUNCAN_TFLITE: string | null = (() => {
  const mirror = findSiblingMirror();
  if (!mirror) return null;
  const file = join(dirname(mirror), 'models', 'duncan2020', 'converted_model_cifar.tflite');
  return existsSync(file) ? file : null;
})();

export const NEEDS_DUNCAN: string | false = DUNCAN_TFLITE ? false : 'no shared/models/duncan2020 beside the checkout';
export const NEEDS_CIFAR: string | false = findSiblingMirror() && existsSync(join(findSiblingMirror()!, 'cifar10')) ? false : 'no shared/datasets/cifar10 beside the checkout';

export interface ReferenceRow {
  readonly index: number;
  readonly label: number;
  readonly output: readonly number[];
}

export interface ReferenceFixture {
  readonly modelSha256: string;
  readonly rows: readonly ReferenceRow[];
}

/** The outputs of TFLite's interpreter (see scripts/crosscheck/tflite_reference.mjs); the source tree's copy. */
export function duncanReference(): ReferenceFixture {
  // dist/test/import/ → the repository root → test/import/fixtures/
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  return JSON.parse(readFileSync(join(root, 'test', 'import', 'fixtures', 'duncan-tflite-reference.json'), 'utf8')) as ReferenceFixture;
}

export function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

export function randomInts(rng: Rng, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => lo + rng.int(hi - lo + 1));
}
