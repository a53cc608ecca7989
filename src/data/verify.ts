/**
 * Checksum verification of dataset files (see the policy in registry.ts). Results are remembered per file path,
 * size and modification time for the life of the process, so loading a dataset twice, or asking for its status
 * and then loading it, hashes each file once.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { QrobustError } from '../core/errors.js';
import { gzipProblem, isGzip } from './gzip.js';
import type { Digest, FileSpec } from './registry.js';

const gunzipAsync = promisify(gunzip);

/** Which digest a file was recognised by; 'none' for the user's own files, which no registry knows. */
export type VerifiedBy = 'content-sha256' | 'content-md5' | 'published-sha256' | 'published-md5' | 'none';

export interface VerifiedFile {
  readonly path: string;
  /** Size of the file on disk. */
  readonly sizeBytes: number;
  /** Whether the file on disk is gzipped. */
  readonly compressed: boolean;
  /** SHA-256 of the file on disk. */
  readonly fileSha256: string;
  /** SHA-256 of the uncompressed content, once it has been computed (always after a load). */
  contentSha256?: string;
  readonly verifiedBy: VerifiedBy;
}

export type VerifyResult =
  | { readonly ok: true; readonly info: VerifiedFile; readonly content?: Buffer }
  /** `problem` is one line saying what is wrong, with the expected and actual checksums. */
  | { readonly ok: false; readonly problem: string; readonly actualSha256: string };

const verified = new Map<string, VerifiedFile>();

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/**
 * Records that `path` (just written by qrobust after verifying its bytes elsewhere, e.g. before a rename) is a
 * verified copy of `spec`, so that the next load does not hash it again.
 */
export async function rememberVerified(path: string, spec: FileSpec, info: Omit<VerifiedFile, 'path' | 'sizeBytes'>): Promise<void> {
  const st = await stat(path);
  const entry: VerifiedFile = { ...info, path, sizeBytes: st.size };
  verified.set(cacheKey(path, st.size, st.mtimeMs, spec), entry);
}

/** Forgets every remembered verification (for tests, or after files were replaced in place with the same mtime). */
export function clearVerificationCache(): void {
  verified.clear();
}

function cacheKey(path: string, size: number, mtimeMs: number, spec: FileSpec): string {
  const c = spec.content;
  const p = spec.published;
  return [path, size, mtimeMs, spec.name, c.size, c.sha256 ?? c.md5 ?? '', p?.sha256 ?? p?.md5 ?? ''].join('\u0000');
}

function digestMatches(bytes: Uint8Array, sha256: string, d: Digest): 'sha256' | 'md5' | null {
  if (d.size !== undefined && d.size !== bytes.length) return null;
  if (d.sha256) return d.sha256 === sha256 ? 'sha256' : null;
  if (d.md5) return d.md5 === md5Hex(bytes) ? 'md5' : null;
  return null;
}

function sizeNote(actual: number, expected: number | undefined): string {
  if (expected === undefined || actual === expected) return '';
  return actual < expected ? ` (${actual} of ${expected} bytes: truncated)` : ` (${actual} bytes, expected ${expected})`;
}

/**
 * Verifies the file at `path` against `spec`. With `needContent`, a successful result carries the uncompressed
 * bytes (read anyway for hashing, or read again when the verification was remembered). Fails only with
 * QrobustError('io_error') when the file cannot be read; a bad checksum is an `ok: false` result.
 */
export async function verifyFile(path: string, spec: FileSpec, needContent: boolean): Promise<VerifyResult> {
  let raw: Buffer;
  let key: string;
  try {
    const st = await stat(path);
    key = cacheKey(path, st.size, st.mtimeMs, spec);
    const known = verified.get(key);
    if (known && !needContent) return { ok: true, info: known };
    raw = await readFile(path);
    if (known) {
      const content = known.compressed ? await gunzipAsync(raw) : raw;
      if (known.contentSha256 === undefined) known.contentSha256 = sha256Hex(content);
      return { ok: true, info: known, content };
    }
  } catch (e) {
    if (e instanceof QrobustError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    throw new QrobustError('io_error', `cannot read ${path}: ${code}`, { cause: e });
  }

  const compressed = isGzip(raw);
  const fileSha256 = sha256Hex(raw);
  const remember = (verifiedBy: VerifiedBy, contentSha256?: string): VerifiedFile => {
    const info: VerifiedFile = { path, sizeBytes: raw.length, compressed, fileSha256, verifiedBy };
    if (contentSha256 !== undefined) info.contentSha256 = contentSha256;
    verified.set(key, info);
    return info;
  };

  // 1. The file exactly as published (e.g. the original .gz).
  const pub = spec.published;
  if (compressed && pub && (pub.sha256 || pub.md5)) {
    const by = digestMatches(raw, fileSha256, pub);
    if (by) {
      if (!needContent) return { ok: true, info: remember(by === 'sha256' ? 'published-sha256' : 'published-md5') };
      const content = await gunzipAsync(raw);
      return { ok: true, info: remember(by === 'sha256' ? 'published-sha256' : 'published-md5', sha256Hex(content)), content };
    }
  }

  // 2. The uncompressed content.
  let content: Buffer;
  if (compressed) {
    try {
      content = await gunzipAsync(raw);
    } catch (e) {
      // Name the digest the user can check directly on this file when there is one: the published file's.
      const expected = pub?.sha256
        ? `SHA-256 ${pub.sha256}`
        : pub?.md5
          ? `MD5 ${pub.md5}`
          : spec.content.sha256
            ? `SHA-256 ${spec.content.sha256} for the uncompressed data`
            : `MD5 ${spec.content.md5 ?? 'unknown'} for the uncompressed data`;
      return {
        ok: false,
        problem: `not a complete gzip stream (${gzipProblem(e)}); expected ${expected}, file SHA-256 is ${fileSha256}${sizeNote(raw.length, pub?.size)}`,
        actualSha256: fileSha256,
      };
    }
  } else {
    content = raw;
  }
  const contentSha256 = compressed ? sha256Hex(content) : fileSha256;
  const c = spec.content;
  if (c.sha256 || c.md5) {
    const by = digestMatches(content, contentSha256, c);
    if (by) {
      const info = remember(by === 'sha256' ? 'content-sha256' : 'content-md5', contentSha256);
      return needContent ? { ok: true, info, content } : { ok: true, info };
    }
    const what = compressed ? 'of the uncompressed data' : '';
    const problem = c.sha256
      ? `SHA-256 ${what ? `${what} ` : ''}is ${contentSha256}, expected ${c.sha256}${sizeNote(content.length, c.size)}`
      : `MD5 ${what ? `${what} ` : ''}is ${md5Hex(content)}, expected ${c.md5}${sizeNote(content.length, c.size)}`;
    return { ok: false, problem, actualSha256: contentSha256 };
  }
  // 3. Only the published file's digest is known: a decompressed or recompressed copy cannot be verified.
  if (pub && (pub.sha256 || pub.md5)) {
    const actual = pub.sha256 ? `SHA-256 is ${fileSha256}, expected ${pub.sha256}` : `MD5 is ${md5Hex(raw)}, expected ${pub.md5}`;
    const hint = compressed
      ? sizeNote(raw.length, pub.size)
      : `; only the original ${pub.name} can be verified, not an uncompressed copy`;
    return { ok: false, problem: `${actual}${hint}`, actualSha256: fileSha256 };
  }
  return { ok: false, problem: `no checksum is known for ${spec.name}, so it cannot be verified`, actualSha256: fileSha256 };
}
