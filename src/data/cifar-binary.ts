/**
 * The CIFAR-10 binary format: a headerless sequence of 3073-byte records, each 1 label byte followed by three
 * 32×32 row-major colour planes (1024 red, 1024 green, 1024 blue bytes). qrobust keeps images NHWC, so the
 * planes are interleaved into (r, g, b) triples per pixel.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { QrobustError } from '../core/errors.js';
import { maybeGunzip } from './gzip.js';

export const CIFAR_SIDE = 32;
export const CIFAR_PLANE = CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR_IMAGE_BYTES = 3 * CIFAR_PLANE;
export const CIFAR_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES;

export interface CifarRecords {
  readonly count: number;
  /** count × 32 × 32 × 3 bytes, NHWC. */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}

/** Number of records in `bytes`, or a QrobustError('dataset_corrupt') when it is not a whole number of records. */
export function cifarRecordCount(bytes: Uint8Array, fileName: string): number {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
    throw new QrobustError(
      'dataset_corrupt',
      `${basename(fileName)}: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD_BYTES}-byte CIFAR records ` +
        `(${whole} records and ${bytes.length - whole * CIFAR_RECORD_BYTES} bytes left over; truncated?)`,
    );
  }
  return bytes.length / CIFAR_RECORD_BYTES;
}

/**
 * Decodes CIFAR binary records into `pixels`/`labels` starting at record `offset` (both preallocated, so several
 * batch files fill one buffer). Labels must be below `numClasses`. Returns the number of records decoded.
 */
export function decodeCifarInto(
  bytes: Uint8Array,
  fileName: string,
  pixels: Uint8Array,
  labels: Uint8Array,
  offset = 0,
  numClasses = 10,
): number {
  const count = cifarRecordCount(bytes, fileName);
  if ((offset + count) * CIFAR_IMAGE_BYTES > pixels.length || offset + count > labels.length) {
    throw new RangeError(`decodeCifarInto: ${count} records at ${offset} do not fit the output buffers`);
  }
  for (let r = 0; r < count; r++) {
    const src = r * CIFAR_RECORD_BYTES;
    const label = bytes[src]!;
    if (label >= numClasses) {
      throw new QrobustError(
        'dataset_corrupt',
        `${basename(fileName)}: record ${r} has label ${label}, outside 0..${numClasses - 1} (not a CIFAR-10 file?)`,
      );
    }
    labels[offset + r] = label;
    const red = src + 1;
    const green = red + CIFAR_PLANE;
    const blue = green + CIFAR_PLANE;
    let dst = (offset + r) * CIFAR_IMAGE_BYTES;
    for (let p = 0; p < CIFAR_PLANE; p++) {
      pixels[dst] = bytes[red + p]!;
      pixels[dst + 1] = bytes[green + p]!;
      pixels[dst + 2] = bytes[blue + p]!;
      dst += 3;
    }
  }
  return count;
}

/** Parses a whole CIFAR binary file (already decompressed) into NHWC pixels and labels. */
export function parseCifarBinary(bytes: Uint8Array, fileName: string, numClasses = 10): CifarRecords {
  const count = cifarRecordCount(bytes, fileName);
  const pixels = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  decodeCifarInto(bytes, fileName, pixels, labels, 0, numClasses);
  return { count, pixels, labels };
}

/** Reads a CIFAR binary file from disk, gzipped or not (detected by content), without checksum verification. */
export async function readCifarBinaryFile(path: string, numClasses = 10): Promise<CifarRecords> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    throw new QrobustError('io_error', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  const { content } = await maybeGunzip(raw, path);
  return parseCifarBinary(content, path, numClasses);
}
