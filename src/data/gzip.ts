/**
 * Gzip detection by magic bytes, so that every dataset file is accepted compressed or not.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { basename } from 'node:path';
import { QrobustError } from '../core/errors.js';

const gunzipAsync = promisify(gunzip);

/** True when `bytes` starts with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The bytes of a file with gzip undone when it is gzipped (detected by magic, whatever the file name), else the
 * bytes themselves. A broken or truncated gzip stream is a QrobustError('dataset_corrupt') naming `fileName`.
 */
export async function maybeGunzip(bytes: Buffer, fileName: string): Promise<{ content: Buffer; compressed: boolean }> {
  if (!isGzip(bytes)) return { content: bytes, compressed: false };
  try {
    return { content: await gunzipAsync(bytes), compressed: true };
  } catch (e) {
    throw new QrobustError('dataset_corrupt', `${basename(fileName)}: not a valid gzip stream (${gzipProblem(e)})`, { cause: e });
  }
}

/** A short description of a zlib failure, e.g. "unexpected end of file" for a truncated file. */
export function gzipProblem(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/\s+/g, ' ').trim() || 'gzip error';
}
