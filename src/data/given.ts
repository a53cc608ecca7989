/**
 * Pieces shared by the loaders of datasets the user brings (a folder of class folders, an .npz): reading their
 * files with one-line errors, their file records, and the dataset value they make.
 */
import { open, readFile } from 'node:fs/promises';
import { QrobustError } from '../core/errors.js';
import type { DatasetFile, ImageDataset } from './dataset.js';
import type { SplitName } from './registry.js';
import { sha256Hex } from './verify.js';

/** Labels are stored as bytes, as for the built-in datasets. */
export const MAX_CLASSES = 256;

/** The file's bytes, or with `maxBytes` at most its first `maxBytes`; a missing or unreadable file is a one-line error. */
export async function readGivenFile(path: string, maxBytes?: number): Promise<Buffer> {
  try {
    if (maxBytes === undefined) return await readFile(path);
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(maxBytes);
      const { bytesRead } = await fh.read(buf, 0, maxBytes, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new QrobustError('dataset_missing', `${path}: no such file`, { cause: e });
    if (code === undefined) throw e;
    throw new QrobustError('io_error', `cannot read ${path}: ${code}`, { cause: e });
  }
}

/** The record of a file the user gave: identified by its SHA-256, verified against nothing. */
export function givenFileRecord(name: string, path: string, sha256: string, sizeBytes: number, compressed: boolean): DatasetFile {
  return { name, path, source: 'given', sha256, fileSha256: sha256, compressed, sizeBytes, verifiedBy: 'none' };
}

export function givenFileRecordOf(name: string, path: string, bytes: Uint8Array, compressed = false): DatasetFile {
  return givenFileRecord(name, path, sha256Hex(bytes), bytes.length, compressed);
}

export interface GivenParts {
  readonly name: string;
  readonly split: SplitName;
  /** What was read for this split, e.g. `x_test,y_test` or `test/` (see docs/data.md). */
  readonly variant: string;
  readonly shape: readonly [number, number, number];
  readonly classNames: readonly string[];
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  readonly files: readonly DatasetFile[];
}

/** The dataset value, as the built-in loaders make it: all examples in source order. */
export function givenDataset(p: GivenParts): ImageDataset {
  return {
    name: p.name,
    split: p.split,
    variant: p.variant,
    canonical: false,
    shape: p.shape,
    numClasses: p.classNames.length,
    classNames: p.classNames,
    count: p.labels.length,
    pixels: p.pixels,
    labels: p.labels,
    files: p.files,
    sourceCount: p.labels.length,
    selection: { method: 'all' },
    sourceIndices: null,
  };
}
