/**
 * Helpers for the Keras importer tests (no tests in here): where the shared published models and the
 * committed fixtures are, the reference-logit fixtures written by scripts/crosscheck/keras_h5_logits.py, and the
 * first test images of a dataset as the importer's graph input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { findSiblingMirror, packageRoot } from '../../src/data/locate.js';
import { loadDataset } from '../../src/data/index.js';
import type { ImageDataset } from '../../src/data/index.js';
import type { ImportRequest } from '../../src/import/types.js';

/** `shared/models` beside the checkout, or null. */
export const SHARED_MODELS: string | null = (() => {
  const mirror = findSiblingMirror();
  const dir = mirror ? join(dirname(mirror), 'models') : null;
  return dir && existsSync(dir) ? dir : null;
})();

export const NEEDS_SHARED_MODELS: string | false = SHARED_MODELS ? false : 'no shared/models folder beside the checkout';
export const NEEDS_DATASETS: string | false = findSiblingMirror() ? false : 'no shared/datasets folder beside the checkout';

/** The committed fixtures of this importer (in the source tree: the test runs from dist/). */
export function fixturePath(name: string): string {
  return join(packageRoot()!, 'test', 'fixtures', 'keras', name);
}

export interface ReferenceLogits {
  readonly command: string;
  readonly model: string;
  readonly modelSha256: string;
  readonly dataset: 'cifar10' | 'mnist';
  readonly indices: readonly number[];
  readonly layout: string;
  readonly labels: readonly number[];
  readonly logits: readonly (readonly number[])[];
}

export function referenceLogits(name: string): ReferenceLogits {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as ReferenceLogits;
}

/** The first n test images (offline, from the shared mirror). */
export async function testImages(dataset: 'cifar10' | 'mnist', n: number): Promise<ImageDataset> {
  return loadDataset(dataset, 'test', { n, allowDownload: false, onProgress: null });
}

/** Image i as graph input: NHWC values p / 255 (the scale the reference used). */
export function imageInput(ds: ImageDataset, i: number): Float32Array {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return Float32Array.from(ds.pixels.subarray(i * size, (i + 1) * size), (p) => p / 255);
}

export function request(file: string, bytes: Uint8Array, ds: { shape: readonly [number, number, number]; numClasses: number }, extra: Partial<ImportRequest> = {}): ImportRequest {
  return { file, bytes, imageShape: ds.shape, numClasses: ds.numClasses, ...extra };
}

/** |got − want| ≤ tol · max(1, |want|) for every logit, with a message naming the image and class. */
export function assertLogitsClose(got: ArrayLike<number>, want: readonly number[], tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} logits, the reference has ${want.length}`);
  for (let k = 0; k < want.length; k++) {
    const err = Math.abs(got[k]! - want[k]!);
    assert.ok(err <= tol * Math.max(1, Math.abs(want[k]!)), `${what} class ${k}: ${got[k]} vs reference ${want[k]} (error ${err.toExponential(2)})`);
  }
}
