/**
 * Shared helpers for the data tests (no tests in here): temporary folders, the sibling mirror, and builders for
 * small IDX files, CIFAR records and tar archives.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSiblingMirror, packageRoot } from '../../src/data/locate.js';
import type { LoadOptions } from '../../src/data/load.js';

/** The team's dataset mirror next to the checkout, or null on a machine without it. */
export const MIRROR = findSiblingMirror();

/** The committed files made by scripts/make-data-fixtures.py (PIL, NumPy). */
export const DATA_FIXTURES = join(packageRoot()!, 'test', 'fixtures', 'data');

/** Skip reason for tests that need the mirror's files. */
export const NEEDS_MIRROR: string | false = MIRROR ? false : 'no shared/datasets folder next to the checkout';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `qrobust-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Load options that see only the mirror (plus what is given), never download, and ignore the environment. */
export function offline(cacheDir: string, extra: LoadOptions = {}): LoadOptions {
  return { cacheDir, env: {}, allowDownload: false, onProgress: null, ...extra };
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export function md5(b: Uint8Array): string {
  return createHash('md5').update(b).digest('hex');
}

/** An IDX images file: magic 2051, count, rows, cols, then the pixels. */
export function idxImages(count: number, rows: number, cols: number, pixel: (i: number, k: number) => number): Buffer {
  const b = Buffer.alloc(16 + count * rows * cols);
  b.writeUInt32BE(2051, 0);
  b.writeUInt32BE(count, 4);
  b.writeUInt32BE(rows, 8);
  b.writeUInt32BE(cols, 12);
  for (let i = 0; i < count; i++) for (let k = 0; k < rows * cols; k++) b[16 + i * rows * cols + k] = pixel(i, k) & 255;
  return b;
}

/** An IDX labels file: magic 2049, count, then the labels. */
export function idxLabels(labels: readonly number[]): Buffer {
  const b = Buffer.alloc(8 + labels.length);
  b.writeUInt32BE(2049, 0);
  b.writeUInt32BE(labels.length, 4);
  labels.forEach((l, i) => (b[8 + i] = l));
  return b;
}

/** CIFAR binary records: label byte, then R, G, B planes of 1024 bytes each. */
export function cifarRecords(labels: readonly number[], pixel: (i: number, channel: number, p: number) => number): Buffer {
  const b = Buffer.alloc(labels.length * 3073);
  labels.forEach((l, i) => {
    b[i * 3073] = l;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) b[i * 3073 + 1 + c * 1024 + p] = pixel(i, c, p) & 255;
  });
  return b;
}

/** A ustar archive holding `files` (name → content), as a tar writer would make it. */
export function tarArchive(files: Readonly<Record<string, Uint8Array>>): Buffer {
  const parts: Buffer[] = [];
  const field = (h: Buffer, s: string, at: number, len: number): void => {
    h.write(s.slice(0, len), at, len, 'utf8');
  };
  const octal = (h: Buffer, n: number, at: number, len: number): void => field(h, `${n.toString(8).padStart(len - 1, '0')}\0`, at, len);
  const dirs = new Set<string>();
  for (const name of Object.keys(files)) {
    const slash = name.lastIndexOf('/');
    if (slash > 0) dirs.add(name.slice(0, slash + 1));
  }
  const entry = (name: string, data: Uint8Array, type: string): void => {
    const h = Buffer.alloc(512);
    field(h, name, 0, 100);
    octal(h, type === '5' ? 0o755 : 0o644, 100, 8);
    octal(h, 0, 108, 8);
    octal(h, 0, 116, 8);
    octal(h, data.length, 124, 12);
    octal(h, 0, 136, 12);
    h.fill(0x20, 148, 156);
    field(h, type, 156, 1);
    field(h, 'ustar\u0000', 257, 6);
    field(h, '00', 263, 2);
    let sum = 0;
    for (const x of h) sum += x;
    field(h, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
    parts.push(h, Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  };
  for (const d of dirs) entry(d, new Uint8Array(0), '5');
  entry('README', Buffer.from('not wanted\n'), '0');
  for (const [name, data] of Object.entries(files)) entry(name, data, '0');
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
