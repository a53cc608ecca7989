/**
 * The IDX format of MNIST and Fashion-MNIST: a big-endian header (int32 magic, then one int32 per dimension)
 * followed by the uint8 values. Images have magic 2051 (0x00000803: unsigned bytes, 3 dimensions count × rows ×
 * cols); labels have magic 2049 (0x00000801: unsigned bytes, 1 dimension).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { QrobustError } from '../core/errors.js';
import { maybeGunzip } from './gzip.js';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export type IdxKind = 'images' | 'labels';

export interface IdxImages {
  readonly kind: 'images';
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  /** count × rows × cols bytes, row-major; a view on the input buffer (no copy). */
  readonly data: Uint8Array;
}

export interface IdxLabels {
  readonly kind: 'labels';
  readonly count: number;
  /** count bytes; a view on the input buffer (no copy). */
  readonly data: Uint8Array;
}

function corrupt(fileName: string, problem: string): QrobustError {
  return new QrobustError('dataset_corrupt', `${basename(fileName)}: ${problem}`);
}

function describeMagic(magic: number): string {
  if (magic === IDX_IMAGES_MAGIC) return 'an IDX images file (magic 2051)';
  if (magic === IDX_LABELS_MAGIC) return 'an IDX labels file (magic 2049)';
  if ((magic >>> 16) === 0x1f8b) return 'gzip data that was not decompressed';
  return `not an IDX file (magic 0x${(magic >>> 0).toString(16).padStart(8, '0')})`;
}

export function parseIdx(bytes: Uint8Array, fileName: string, expect: 'images'): IdxImages;
export function parseIdx(bytes: Uint8Array, fileName: string, expect: 'labels'): IdxLabels;
export function parseIdx(bytes: Uint8Array, fileName: string, expect: IdxKind): IdxImages | IdxLabels;
/**
 * Parses an uncompressed IDX file, checking the magic against `expect` and that the length equals what the
 * header announces. Problems are QrobustError('dataset_corrupt') naming `fileName`.
 */
export function parseIdx(bytes: Uint8Array, fileName: string, expect: IdxKind): IdxImages | IdxLabels {
  const expectedMagic = expect === 'images' ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
  if (bytes.length < 4) throw corrupt(fileName, `too short for an IDX file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    throw corrupt(fileName, `expected IDX ${expect} (magic ${expectedMagic}) but found ${describeMagic(magic)}`);
  }
  const headerBytes = expect === 'images' ? 16 : 8;
  if (bytes.length < headerBytes) {
    throw corrupt(fileName, `truncated IDX header (${bytes.length} of ${headerBytes} bytes)`);
  }
  const count = view.getInt32(4, false);
  if (count < 0) throw corrupt(fileName, `invalid item count ${count} in the IDX header`);
  let rows = 1;
  let cols = 1;
  if (expect === 'images') {
    rows = view.getInt32(8, false);
    cols = view.getInt32(12, false);
    if (rows <= 0 || cols <= 0 || rows > 65536 || cols > 65536) {
      throw corrupt(fileName, `invalid image size ${rows}×${cols} in the IDX header`);
    }
  }
  const expectedData = count * rows * cols;
  const actualData = bytes.length - headerBytes;
  if (actualData !== expectedData) {
    const what = expect === 'images' ? `${count} images of ${rows}×${cols}` : `${count} labels`;
    const problem =
      actualData < expectedData
        ? `truncated: the header announces ${what} (${expectedData} bytes of data) but only ${actualData} bytes follow`
        : `the header announces ${what} (${expectedData} bytes of data) but ${actualData} bytes follow`;
    throw corrupt(fileName, problem);
  }
  const data = bytes.subarray(headerBytes);
  return expect === 'images' ? { kind: 'images', count, rows, cols, data } : { kind: 'labels', count, data };
}

/** Reads and parses an IDX file from disk, gzipped or not (detected by content), without checksum verification. */
export async function readIdxFile(path: string, expect: 'images'): Promise<IdxImages>;
export async function readIdxFile(path: string, expect: 'labels'): Promise<IdxLabels>;
export async function readIdxFile(path: string, expect: IdxKind): Promise<IdxImages | IdxLabels>;
export async function readIdxFile(path: string, expect: IdxKind): Promise<IdxImages | IdxLabels> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    throw new QrobustError('io_error', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  const { content } = await maybeGunzip(raw, path);
  return parseIdx(content, path, expect);
}

/** Checks that every label is below `numClasses`; a QrobustError('dataset_corrupt') names the first bad one. */
export function checkLabels(labels: Uint8Array, numClasses: number, fileName: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= numClasses) {
      throw corrupt(fileName, `label ${labels[i]} at index ${i} is out of range 0..${numClasses - 1}`);
    }
  }
}
