/**
 * Finding, verifying (and if allowed, downloading) the files of a dataset split, and decoding them.
 *
 * A split may have several variants in order of preference (CIFAR-10's test split: the canonical
 * `test_batch.bin`, else the 1,000-record `test_batch_first1000.bin`). The first variant whose files are all
 * present in some search location is used; failing that, one whose missing files can be unpacked from a dataset
 * archive lying in a search location; failing that, when downloads are allowed, the first variant that can be
 * downloaded. A file present but failing verification is an error naming it, never skipped silently; only a bad
 * copy in the cache or the mirror gives way to a good copy searched after it (see `checkFile`).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { QrobustError } from '../core/errors.js';
import { decodeCifarInto, CIFAR_IMAGE_BYTES } from './cifar-binary.js';
import type { DatasetFile, ImageDataset } from './dataset.js';
import { subset, takeFirst } from './dataset.js';
import { downloadArchive, downloadFile, extractFromArchive, verifyArchive, type ProgressHandler } from './download.js';
import { checkLabels, parseIdx } from './idx.js';
import { cacheDirOf, datasetFolders, searchLocations, type LocateOptions, type SearchLocation } from './locate.js';
import {
  acceptedNames,
  describeExpected,
  type ArchiveSpec,
  type DatasetSpec,
  type FileSpec,
  type SplitName,
  type VariantSpec,
} from './registry.js';
import { loadGivenDataset, parseDatasetSource } from './source.js';
import { verifyFile, type VerifiedFile } from './verify.js';

export interface LoadOptions extends LocateOptions {
  /** Keep only n examples: the first n, or a seeded random subset when `seed` is given (see `subset`). */
  readonly n?: number;
  readonly seed?: number;
  /**
   * Download missing files from their canonical URLs into the cache. Default true, except when the environment
   * variable QROBUST_OFFLINE is set (to anything but '' or '0').
   */
  readonly allowDownload?: boolean;
  /** Progress of downloads and unpacking. Default: a progress bar on stderr when it is a terminal outside CI. */
  readonly onProgress?: ProgressHandler | null;
  /** Abort a download when no data arrives for this long (default 60 s). */
  readonly stallTimeoutMs?: number;
}

export interface Candidate {
  readonly path: string;
  readonly location: SearchLocation;
}

/** Every existing file that may be `file`, in search order. */
export function findCandidates(spec: DatasetSpec, file: FileSpec, locations: readonly SearchLocation[]): Candidate[] {
  const out: Candidate[] = [];
  for (const location of locations) {
    for (const folder of datasetFolders(location, spec)) {
      for (const name of acceptedNames(file)) {
        const path = join(folder, name);
        if (isFile(path)) out.push({ path, location });
      }
    }
  }
  return out;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export type FileCheck =
  | { readonly state: 'verified'; readonly file: FileSpec; readonly candidate: Candidate; readonly info: VerifiedFile; readonly content?: Buffer }
  | { readonly state: 'corrupt'; readonly file: FileSpec; readonly candidate: Candidate; readonly problem: string }
  | { readonly state: 'missing'; readonly file: FileSpec };

/** Search locations the user named; a bad file there is reported, never bypassed for another copy. */
function userNamed(location: SearchLocation): boolean {
  return location.kind === 'data-dir' || location.kind === 'env';
}

/**
 * Verifies the candidates of `file` in search order: the first good one wins, unless a bad one comes first in a
 * folder the user named (--data-dir, QROBUST_DATA_DIR), which is reported at once; a bad copy in the cache or
 * the mirror gives way to a good one searched later. With no good copy, the first bad one is reported.
 */
export async function checkFile(
  spec: DatasetSpec,
  file: FileSpec,
  locations: readonly SearchLocation[],
  needContent: boolean,
): Promise<FileCheck> {
  let firstBad: FileCheck | undefined;
  for (const candidate of findCandidates(spec, file, locations)) {
    const r = await verifyFile(candidate.path, file, needContent);
    if (r.ok) {
      return r.content ? { state: 'verified', file, candidate, info: r.info, content: r.content } : { state: 'verified', file, candidate, info: r.info };
    }
    const bad: FileCheck = { state: 'corrupt', file, candidate, problem: r.problem };
    if (userNamed(candidate.location)) return bad;
    firstBad ??= bad;
  }
  return firstBad ?? { state: 'missing', file };
}

/** A local copy of `archive` in the search locations, if any. */
export function findArchive(spec: DatasetSpec, archive: ArchiveSpec, locations: readonly SearchLocation[]): Candidate | null {
  for (const location of locations) {
    const path = join(location.dir, spec.name, archive.name);
    if (isFile(path)) return { path, location };
  }
  return null;
}

function archiveOf(spec: DatasetSpec, file: FileSpec): ArchiveSpec | undefined {
  return file.archive ? spec.archives?.find((a) => a.name === file.archive) : undefined;
}

function downloadable(spec: DatasetSpec, file: FileSpec): boolean {
  if (file.urls && file.urls.length > 0) return true;
  const a = archiveOf(spec, file);
  return !!a && a.urls.length > 0;
}

function offlineByEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env['QROBUST_OFFLINE'];
  return v !== undefined && v !== '' && v !== '0';
}

/** How to get `file` by hand, for error messages. */
function howToGet(spec: DatasetSpec, file: FileSpec, cacheDir: string, allowDownload: boolean): string {
  const folder = join(cacheDir, spec.name);
  const archive = archiveOf(spec, file);
  let how: string;
  if (file.urls && file.urls.length > 0) {
    how = `download ${file.urls[0]} into ${folder}/`;
  } else if (archive) {
    how = `download ${archive.urls[0]} into ${folder}/ (qrobust unpacks ${file.name} from it) or put ${file.name} there`;
  } else {
    how = `put ${file.name} into ${folder}/`;
  }
  how += `, or pass --data-dir DIR with the file in DIR/${spec.name}/`;
  if (!allowDownload && downloadable(spec, file)) how += ', or allow downloads';
  return how;
}

function missingError(
  spec: DatasetSpec,
  split: SplitName,
  variant: VariantSpec,
  missing: readonly FileSpec[],
  locations: readonly SearchLocation[],
  cacheDir: string,
  allowDownload: boolean,
): QrobustError {
  const searched = locations.map((l) => join(l.dir, spec.name)).join(', ');
  const list = missing.map(describeExpected).join('; ');
  const others = spec.splits[split].variants.filter((v) => v !== variant).map((v) => v.files.map((f) => f.name).join('+'));
  const alt = others.length > 0 ? ` (${others.join(', ')} would also do)` : '';
  return new QrobustError(
    'dataset_missing',
    `${spec.name} ${split}: missing ${list}${alt}; searched ${searched}; to fix: ${howToGet(spec, missing[0]!, cacheDir, allowDownload)}`,
  );
}

function corruptError(spec: DatasetSpec, split: SplitName, bad: Extract<FileCheck, { state: 'corrupt' }>, cacheDir: string): QrobustError {
  return new QrobustError(
    'checksum_mismatch',
    `${spec.name} ${split}: ${bad.candidate.path} failed verification: ${bad.problem}; to fix: delete or replace it (` +
      `${howToGet(spec, bad.file, cacheDir, true)})`,
  );
}

/**
 * Makes sure every file of one variant is available, unpacking from a local archive or downloading as allowed.
 * Returns false when the files cannot be obtained that way (no archive lying around, or no URL).
 */
async function obtainMissing(
  spec: DatasetSpec,
  missing: readonly FileSpec[],
  locations: readonly SearchLocation[],
  cacheDir: string,
  options: LoadOptions,
  mode: 'local-archive' | 'download',
): Promise<boolean> {
  const folder = join(cacheDir, spec.name);
  const transfer = {
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    ...(options.stallTimeoutMs !== undefined ? { stallTimeoutMs: options.stallTimeoutMs } : {}),
  };
  // Group by archive; direct files separately.
  const byArchive = new Map<ArchiveSpec, FileSpec[]>();
  const direct: FileSpec[] = [];
  for (const f of missing) {
    const a = archiveOf(spec, f);
    if (f.urls && f.urls.length > 0 && mode === 'download') direct.push(f);
    else if (a) byArchive.set(a, [...(byArchive.get(a) ?? []), f]);
    else return false;
  }
  if (mode === 'local-archive') {
    if (direct.length > 0) return false;
    const found: [ArchiveSpec, Candidate, FileSpec[]][] = [];
    for (const [a, files] of byArchive) {
      const local = findArchive(spec, a, locations);
      if (!local) return false;
      found.push([a, local, files]);
    }
    for (const [a, local, files] of found) {
      const problem = await verifyArchive(local.path, a);
      if (problem) {
        throw new QrobustError(
          'checksum_mismatch',
          `${spec.name}: ${local.path} failed verification: ${problem}; to fix: delete it, or download ${a.urls[0]} again`,
        );
      }
      // Unpack every member of the archive the registry knows, so that the other splits are ready too.
      const all = allFilesOf(spec).filter((f) => f.archive === a.name && a.members[f.name]);
      const wanted = all.filter((f) => files.includes(f) || findCandidates(spec, f, locations).length === 0);
      await extractFromArchive(local.path, a, wanted, spec.name, folder, transfer);
    }
    return true;
  }
  for (const f of direct) await downloadFile(f, spec.name, folder, transfer);
  for (const [a] of byArchive) {
    const all = allFilesOf(spec).filter((f) => f.archive === a.name && a.members[f.name]);
    const wanted = all.filter((f) => missing.includes(f) || findCandidates(spec, f, locations).length === 0);
    await downloadArchive(a, wanted, spec.name, folder, transfer);
  }
  return true;
}

function allFilesOf(spec: DatasetSpec): FileSpec[] {
  const out: FileSpec[] = [];
  for (const s of Object.values(spec.splits)) for (const v of s.variants) for (const f of v.files) if (!out.includes(f)) out.push(f);
  return out;
}

/** Picks the variant of a split to load, obtaining its files when needed (see the module comment). */
export async function resolveVariant(
  spec: DatasetSpec,
  split: SplitName,
  locations: readonly SearchLocation[],
  options: LoadOptions,
): Promise<VariantSpec> {
  const splitSpec = spec.splits[split];
  const cacheDir = cacheDirOf(options);
  const allowDownload = options.allowDownload ?? !offlineByEnv(options.env ?? process.env);
  const missingOf = (v: VariantSpec): FileSpec[] => v.files.filter((f) => findCandidates(spec, f, locations).length === 0);

  // A variant counts as present when its files are, or can be unpacked from an archive that is.
  for (const v of splitSpec.variants) {
    const missing = missingOf(v);
    if (missing.length === 0) return v;
    if (await obtainMissing(spec, missing, locations, cacheDir, options, 'local-archive')) return v;
  }
  if (allowDownload) {
    for (const v of splitSpec.variants) {
      const missing = missingOf(v);
      if (missing.every((f) => downloadable(spec, f))) {
        try {
          await obtainMissing(spec, missing, locations, cacheDir, options, 'download');
        } catch (e) {
          if (!(e instanceof QrobustError) || e.code !== 'download_failed') throw e;
          const base = missingError(spec, split, v, missing, locations, cacheDir, true);
          throw new QrobustError('download_failed', `${base.message} (tried to download it: ${e.message})`, { cause: e });
        }
        return v;
      }
    }
  }
  const first = splitSpec.variants[0]!;
  throw missingError(spec, split, first, missingOf(first), locations, cacheDir, allowDownload);
}

function fileRecord(check: Extract<FileCheck, { state: 'verified' }>, contentSha256: string): DatasetFile {
  return {
    name: check.file.name,
    path: check.candidate.path,
    source: check.candidate.location.kind,
    sha256: contentSha256,
    fileSha256: check.info.fileSha256,
    compressed: check.info.compressed,
    sizeBytes: check.info.sizeBytes,
    verifiedBy: check.info.verifiedBy,
  };
}

async function loadVerified(
  spec: DatasetSpec,
  split: SplitName,
  file: FileSpec,
  locations: readonly SearchLocation[],
  options: LoadOptions,
): Promise<{ content: Buffer; record: DatasetFile }> {
  const check = await checkFile(spec, file, locations, true);
  if (check.state === 'corrupt') throw corruptError(spec, split, check, cacheDirOf(options));
  if (check.state === 'missing' || !check.content) {
    throw missingError(spec, split, variantOfFile(spec, split, file), [file], locations, cacheDirOf(options), false);
  }
  return { content: check.content, record: fileRecord(check, check.info.contentSha256!) };
}

function variantOfFile(spec: DatasetSpec, split: SplitName, file: FileSpec): VariantSpec {
  return spec.splits[split].variants.find((v) => v.files.includes(file)) ?? spec.splits[split].variants[0]!;
}

function decodeIdx(
  spec: DatasetSpec,
  split: SplitName,
  contents: readonly { content: Buffer; record: DatasetFile; file: FileSpec }[],
): { pixels: Uint8Array; labels: Uint8Array; count: number } {
  const [h, w, c] = spec.shape;
  const img = contents.find((x) => x.file.role === 'images');
  const lab = contents.find((x) => x.file.role === 'labels');
  if (!img || !lab) throw new Error(`registry: ${spec.name} ${split} needs one images and one labels file`);
  const images = parseIdx(img.content, img.record.path, 'images');
  const labels = parseIdx(lab.content, lab.record.path, 'labels');
  if (images.rows !== h || images.cols !== w || c !== 1) {
    throw new QrobustError(
      'dataset_corrupt',
      `${img.record.path}: images are ${images.rows}×${images.cols}, expected ${h}×${w} for ${spec.name}`,
    );
  }
  if (images.count !== labels.count) {
    throw new QrobustError(
      'dataset_corrupt',
      `${spec.name} ${split}: ${img.file.name} holds ${images.count} images but ${lab.file.name} holds ${labels.count} labels`,
    );
  }
  checkLabels(labels.data, spec.classNames.length, lab.record.path);
  return { pixels: images.data, labels: labels.data, count: images.count };
}

/** Loads a split of the dataset described by `spec` (the built-in ones, or one made up, e.g. for tests). */
export async function loadDatasetFromSpec(spec: DatasetSpec, split: SplitName, options: LoadOptions = {}): Promise<ImageDataset> {
  checkSplit(split);
  const locations = searchLocations(options);
  const variant = await resolveVariant(spec, split, locations, options);
  const records: DatasetFile[] = [];
  let decoded: { pixels: Uint8Array; labels: Uint8Array; count: number };
  if (spec.format === 'cifar-binary') {
    // Decode file by file so that only one decompressed batch is held besides the output.
    const [h, w, c] = spec.shape;
    if (h * w * c !== CIFAR_IMAGE_BYTES) throw new Error(`registry: ${spec.name} shape does not fit the CIFAR format`);
    const total = variant.files.reduce((s, f) => s + f.count, 0);
    const pixels = new Uint8Array(total * h * w * c);
    const labels = new Uint8Array(total);
    let offset = 0;
    for (const file of variant.files) {
      const { content, record } = await loadVerified(spec, split, file, locations, options);
      if (offset + file.count > total) {
        throw new QrobustError('dataset_corrupt', `${record.path}: holds more records than the ${file.count} expected`);
      }
      offset += decodeCifarInto(content, record.path, pixels, labels, offset, spec.classNames.length);
      records.push(record);
    }
    decoded = { pixels: offset === total ? pixels : pixels.subarray(0, offset * h * w * c), labels: labels.subarray(0, offset), count: offset };
  } else {
    const contents: { content: Buffer; record: DatasetFile; file: FileSpec }[] = [];
    for (const file of variant.files) {
      const { content, record } = await loadVerified(spec, split, file, locations, options);
      contents.push({ content, record, file });
      records.push(record);
    }
    decoded = decodeIdx(spec, split, contents);
  }
  if (decoded.count !== variant.count) {
    throw new QrobustError(
      'dataset_corrupt',
      `${spec.name} ${split}: read ${decoded.count} examples, expected ${variant.count} (${variant.description})`,
    );
  }
  const ds: ImageDataset = {
    name: spec.name,
    split,
    variant: variant.variant,
    canonical: variant.canonical,
    shape: spec.shape,
    numClasses: spec.classNames.length,
    classNames: spec.classNames,
    count: decoded.count,
    pixels: decoded.pixels,
    labels: decoded.labels,
    files: records,
    sourceCount: decoded.count,
    selection: { method: 'all' },
    sourceIndices: null,
  };
  return chooseExamples(ds, options);
}

function checkSplit(split: SplitName): void {
  if (split !== 'train' && split !== 'test') {
    throw new QrobustError('invalid_argument', `unknown split '${String(split)}': expected train or test`);
  }
}

/** All of `ds`, or with `n` its first n examples, or with `n` and `seed` a seeded random subset of n. */
function chooseExamples(ds: ImageDataset, options: Pick<LoadOptions, 'n' | 'seed'>): ImageDataset {
  if (options.n === undefined) return ds;
  return options.seed !== undefined ? subset(ds, options.n, options.seed) : takeFirst(ds, options.n);
}

/**
 * Loads a split of a dataset named as in source.ts. A built-in one ('mnist', 'fashion-mnist', 'cifar10') is
 * verified by checksum; its files are searched in `dataDir`, QROBUST_DATA_DIR, the user cache and the sibling
 * mirror (see locate.ts), and missing files are downloaded into the cache when allowed. A folder of class folders
 * or an `npz:FILE` is read from where it is (see docs/data.md). With `n`, only the first n examples are kept, or a
 * seeded random subset of n when `seed` is also given.
 */
export async function loadDataset(name: string, split: SplitName, options: LoadOptions = {}): Promise<ImageDataset> {
  const source = parseDatasetSource(name);
  if (source.kind === 'builtin') return loadDatasetFromSpec(source.spec, split, options);
  checkSplit(split);
  return chooseExamples(await loadGivenDataset(source, split), options);
}
