/**
 * Downloading dataset files into the user cache, with a progress bar on stderr when it is a terminal, and
 * unpacking the members qrobust needs from a dataset tarball. Every file is written under a temporary name,
 * verified, and only then renamed into place, so a failed or corrupt download never looks like a good file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { QrobustError } from '../core/errors.js';
import { ProgressLine } from '../core/progress.js';
import type { ArchiveSpec, Digest, FileSpec } from './registry.js';
import { readTar } from './tar.js';
import { md5Hex, rememberVerified, sha256Hex, verifyFile } from './verify.js';

export interface ProgressEvent {
  readonly phase: 'download' | 'extract';
  /** What is being transferred, e.g. `mnist/train-images-idx3-ubyte.gz`. */
  readonly file: string;
  readonly url?: string;
  readonly bytes: number;
  readonly totalBytes: number | null;
  readonly elapsedMs: number;
  readonly done: boolean;
}

export type ProgressHandler = (event: ProgressEvent) => void;

export interface TransferOptions {
  /** Called as bytes arrive. Default: a progress bar on stderr when it is a terminal outside CI; null: none. */
  readonly onProgress?: ProgressHandler | null;
  /** Abort when no data arrives for this long (default 60 s). */
  readonly stallTimeoutMs?: number;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.ceil(s - m * 60)).padStart(2, '0')}s`;
}

/** One line of progress: "downloading mnist/x.gz  4.2 MB / 9.9 MB  42%  1.3 MB/s  ETA 5s". */
export function formatProgress(e: ProgressEvent): string {
  const verb = e.phase === 'download' ? 'downloading' : 'unpacking';
  const seconds = Math.max(e.elapsedMs / 1000, 1e-3);
  const rate = e.bytes / seconds;
  let line = `${verb} ${e.file}  ${formatBytes(e.bytes)}`;
  if (e.totalBytes && e.totalBytes > 0) {
    const pct = Math.min(100, Math.floor((100 * e.bytes) / e.totalBytes));
    line += ` / ${formatBytes(e.totalBytes)}  ${pct}%`;
    if (!e.done) line += `  ${formatBytes(rate)}/s  ETA ${formatSeconds((e.totalBytes - e.bytes) / Math.max(rate, 1))}`;
  } else if (!e.done) {
    line += `  ${formatBytes(rate)}/s`;
  }
  if (e.done) line += `  done in ${formatSeconds(seconds)}`;
  return line;
}

/** A progress bar on `stream` (default stderr), or null when it is not a terminal or this is a CI run. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressHandler | null {
  const line = new ProgressLine(stream);
  if (!line.enabled) return null;
  return (e) => {
    line.draw(formatProgress(e), e.done);
    if (e.done) line.end(true);
  };
}

function progressHandler(o: TransferOptions): ProgressHandler | null {
  return o.onProgress === undefined ? terminalProgress() : o.onProgress;
}

function tempName(finalPath: string): string {
  return `${finalPath}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new QrobustError(
      'io_error',
      `cannot create the data folder ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)}); pass --data-dir with a writable folder`,
      { cause: e },
    );
  }
}

export interface DownloadResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly md5: string;
}

/**
 * Fetches `url` into `dest` (overwritten), hashing on the way. HTTP errors, network errors and stalls are a
 * QrobustError('download_failed'); `dest` is removed on failure.
 */
export async function downloadToFile(url: string, dest: string, label: string, options: TransferOptions = {}): Promise<DownloadResult> {
  const onProgress = progressHandler(options);
  const stallMs = options.stallTimeoutMs ?? 60_000;
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), stallMs);
  const kick = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), stallMs);
  };
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  const started = Date.now();
  let bytes = 0;
  const handle = await open(dest, 'w').catch((e: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    throw new QrobustError('io_error', `cannot write ${dest} (${e.code ?? String(e)}); pass --data-dir with a writable folder`, {
      cause: e,
    });
  });
  try {
    const res = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new QrobustError('download_failed', `download of ${url} failed: HTTP ${res.status} ${res.statusText}`.trim());
    }
    const lengthHeader = res.headers.get('content-length');
    const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    for await (const chunk of body) {
      const b = chunk as Buffer;
      kick();
      sha.update(b);
      md5.update(b);
      bytes += b.length;
      await handle.write(b);
      onProgress?.({ phase: 'download', file: label, url, bytes, totalBytes: total, elapsedMs: Date.now() - started, done: false });
    }
    if (total !== null && bytes !== total) {
      throw new QrobustError('download_failed', `download of ${url} ended early: ${bytes} of ${total} bytes`);
    }
    onProgress?.({ phase: 'download', file: label, url, bytes, totalBytes: total, elapsedMs: Date.now() - started, done: true });
    await handle.close();
    return { bytes, sha256: sha.digest('hex'), md5: md5.digest('hex') };
  } catch (e) {
    await handle.close().catch(() => undefined);
    await removeQuietly(dest);
    if (e instanceof QrobustError) throw e;
    const why = controller.signal.aborted
      ? `no data for ${Math.round(stallMs / 1000)} s`
      : ((e as { cause?: { code?: string; message?: string } }).cause?.code ??
        (e as { cause?: { message?: string } }).cause?.message ??
        (e instanceof Error ? e.message : String(e)));
    throw new QrobustError('download_failed', `download of ${url} failed: ${why}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

function digestProblem(d: Digest, got: DownloadResult): string | null {
  if (d.size !== undefined && d.size !== got.bytes) return `${got.bytes} bytes, expected ${d.size}`;
  if (d.sha256 && d.sha256 !== got.sha256) return `SHA-256 is ${got.sha256}, expected ${d.sha256}`;
  if (!d.sha256 && d.md5 && d.md5 !== got.md5) return `MD5 is ${got.md5}, expected ${d.md5}`;
  return null;
}

/**
 * Downloads `file` (its `published` form) from its URLs in turn into `folder`, verifies it, and returns the final
 * path. A file that fails verification is deleted. All URLs failing is a QrobustError naming the last problem.
 */
export async function downloadFile(file: FileSpec, datasetName: string, folder: string, options: TransferOptions = {}): Promise<string> {
  const urls = file.urls ?? [];
  const publishedName = file.published?.name ?? file.name;
  if (urls.length === 0) throw new QrobustError('download_failed', `${datasetName}: ${file.name} has no download URL`);
  await ensureDir(folder);
  const finalPath = join(folder, publishedName);
  let lastError: QrobustError | undefined;
  for (const url of urls) {
    const tmp = tempName(finalPath);
    try {
      await downloadToFile(url, tmp, `${datasetName}/${publishedName}`, options);
    } catch (e) {
      if (!(e instanceof QrobustError)) throw e;
      lastError = e;
      continue;
    }
    const check = await verifyFile(tmp, file, false);
    if (!check.ok) {
      await removeQuietly(tmp);
      lastError = new QrobustError(
        'checksum_mismatch',
        `${datasetName}: the download of ${url} failed verification (${check.problem}); it was deleted, nothing was saved as ${finalPath}`,
      );
      continue;
    }
    await rename(tmp, finalPath);
    const { path: _p, sizeBytes: _s, ...info } = check.info;
    await rememberVerified(finalPath, file, info);
    return finalPath;
  }
  throw lastError ?? new QrobustError('download_failed', `${datasetName}: could not download ${publishedName}`);
}

const archiveChecked = new Map<string, true>();

/** Verifies a local archive against its digest (streamed; remembered per path, size and mtime). */
export async function verifyArchive(path: string, archive: ArchiveSpec): Promise<string | null> {
  const st = await stat(path);
  const key = `${path}\u0000${st.size}\u0000${st.mtimeMs}`;
  if (archiveChecked.has(key)) return null;
  const d = archive.digest;
  if (d.size !== undefined && d.size !== st.size) return `${st.size} bytes, expected ${d.size}`;
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  for await (const chunk of createReadStream(path)) {
    sha.update(chunk as Buffer);
    md5.update(chunk as Buffer);
  }
  const problem = digestProblem(d, { bytes: st.size, sha256: sha.digest('hex'), md5: md5.digest('hex') });
  if (!problem) archiveChecked.set(key, true);
  return problem;
}

/**
 * Unpacks the members for `files` from the gzipped tarball at `archivePath` into `folder` (as plain `<name>`),
 * verifying each; returns the paths by file name. A member that is absent or fails verification is a QrobustError.
 */
export async function extractFromArchive(
  archivePath: string,
  archive: ArchiveSpec,
  files: readonly FileSpec[],
  datasetName: string,
  folder: string,
  options: TransferOptions = {},
): Promise<Map<string, string>> {
  await ensureDir(folder);
  const onProgress = progressHandler(options);
  const byMember = new Map<string, FileSpec>();
  for (const f of files) {
    const member = archive.members[f.name];
    if (!member) throw new QrobustError('dataset_missing', `${datasetName}: ${archive.name} does not hold ${f.name}`);
    byMember.set(member, f);
  }
  const total = (await stat(archivePath)).size;
  const started = Date.now();
  let read = 0;
  const label = `${datasetName}/${archive.name}`;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      read += chunk.length;
      onProgress?.({ phase: 'extract', file: label, bytes: read, totalBytes: total, elapsedMs: Date.now() - started, done: false });
      cb(null, chunk);
    },
  });
  const out = new Map<string, string>();
  const pending: string[] = [];
  try {
    await pipeline(createReadStream(archivePath), counter, createGunzip(), async (source: AsyncIterable<Uint8Array>) => {
      await readTar(
        source,
        basename(archivePath),
        (entry) => byMember.has(entry.name),
        async (entry, data) => {
          const spec = byMember.get(entry.name)!;
          const finalPath = join(folder, spec.name);
          const tmp = tempName(finalPath);
          pending.push(tmp);
          const h = await open(tmp, 'w');
          try {
            await h.write(data);
          } finally {
            await h.close();
          }
          const sha = sha256Hex(data);
          const ok = spec.content.sha256 ? sha === spec.content.sha256 : spec.content.md5 === md5Hex(data);
          if (!ok || data.length !== spec.content.size) {
            throw new QrobustError(
              'checksum_mismatch',
              `${datasetName}: ${entry.name} in ${archivePath} failed verification (SHA-256 ${sha}, ${data.length} bytes; expected ` +
                `${spec.content.sha256 ? `SHA-256 ${spec.content.sha256}` : `MD5 ${spec.content.md5}`}, ${spec.content.size} bytes)`,
            );
          }
          await rename(tmp, finalPath);
          pending.splice(pending.indexOf(tmp), 1);
          await rememberVerified(finalPath, spec, {
            compressed: false,
            fileSha256: sha,
            contentSha256: sha,
            verifiedBy: spec.content.sha256 ? 'content-sha256' : 'content-md5',
          });
          out.set(spec.name, finalPath);
        },
      );
    });
  } catch (e) {
    for (const p of pending) await removeQuietly(p);
    if (e instanceof QrobustError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new QrobustError('dataset_corrupt', `${datasetName}: cannot unpack ${archivePath} (${code ?? (e as Error).message})`, { cause: e });
  }
  onProgress?.({ phase: 'extract', file: label, bytes: read, totalBytes: total, elapsedMs: Date.now() - started, done: true });
  const absent = files.filter((f) => !out.has(f.name)).map((f) => archive.members[f.name]);
  if (absent.length > 0) {
    throw new QrobustError('dataset_corrupt', `${datasetName}: ${archivePath} does not contain ${absent.join(', ')}`);
  }
  return out;
}

/**
 * Downloads `archive` into `folder`, verifies it, unpacks the members for `files` and deletes the archive.
 * Returns the unpacked paths by file name.
 */
export async function downloadArchive(
  archive: ArchiveSpec,
  files: readonly FileSpec[],
  datasetName: string,
  folder: string,
  options: TransferOptions = {},
): Promise<Map<string, string>> {
  await ensureDir(folder);
  const archivePath = join(folder, archive.name);
  let lastError: QrobustError | undefined;
  for (const url of archive.urls) {
    const tmp = tempName(archivePath);
    let got: DownloadResult;
    try {
      got = await downloadToFile(url, tmp, `${datasetName}/${archive.name}`, options);
    } catch (e) {
      if (!(e instanceof QrobustError)) throw e;
      lastError = e;
      continue;
    }
    const problem = digestProblem(archive.digest, got);
    if (problem) {
      await removeQuietly(tmp);
      lastError = new QrobustError(
        'checksum_mismatch',
        `${datasetName}: the download of ${url} failed verification (${problem}); it was deleted`,
      );
      continue;
    }
    try {
      return await extractFromArchive(tmp, archive, files, datasetName, folder, options);
    } finally {
      await removeQuietly(tmp);
    }
  }
  throw lastError ?? new QrobustError('download_failed', `${datasetName}: could not download ${archive.name}`);
}
