/**
 * A dataset from a folder of images with one subfolder per class (`--dataset DIR`), optionally split into
 * `train/` and `test/` folders of class folders. The rules (class order, colour, sizes, the manifest digest) are
 * in docs/data.md.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { QrobustError } from '../core/errors.js';
import type { DatasetFile, ImageDataset } from './dataset.js';
import { givenDataset, givenFileRecord, givenFileRecordOf, MAX_CLASSES, readGivenFile } from './given.js';
import { decodeImage, imageHeader, type DecodedImage } from './image-decode.js';
import type { SplitName } from './registry.js';
import { sha256Hex } from './verify.js';

export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];
export const CLASSES_FILE = 'classes.txt';

export interface FolderImage {
  readonly path: string;
  /** Path below the dataset folder, with `/` separators, e.g. `test/cat/001.png`. */
  readonly rel: string;
  readonly label: number;
}

export interface FolderListing {
  readonly root: string;
  /** The folder of class folders read for the split: the root, or `root/train`, `root/test`. */
  readonly classRoot: string;
  /** True when the root holds `train/` and `test/` folders of class folders. */
  readonly splitLayout: boolean;
  readonly classNames: readonly string[];
  /** The classes.txt read, or null when classes are the sorted folder names. */
  readonly classesFile: { readonly path: string; readonly bytes: Buffer } | null;
  readonly images: readonly FolderImage[];
}

type Entry = { readonly name: string; readonly dir: boolean };

function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

function bad(where: string, problem: string): QrobustError {
  return new QrobustError('dataset_corrupt', `${where}: ${problem}`);
}

/** The entries of a folder, hidden ones (`.name`) left out, sorted by name (code-unit order). */
async function entries(dir: string): Promise<Entry[]> {
  try {
    const list = await readdir(dir, { withFileTypes: true });
    const out: Entry[] = [];
    for (const e of list) {
      if (e.name.startsWith('.')) continue;
      // A symbolic link counts as what it points to (class folders are often linked in).
      const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(join(dir, e.name)).catch(() => null))?.isDirectory() === true);
      out.push({ name: e.name, dir: isDir });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new QrobustError('dataset_missing', `${dir}: no such folder`, { cause: e });
    if (code === 'ENOTDIR') throw new QrobustError('invalid_argument', `${dir}: not a folder (a folder of class folders, or npz:FILE, is expected)`, { cause: e });
    if (code === undefined) throw e;
    throw new QrobustError('io_error', `cannot read ${dir}: ${code}`, { cause: e });
  }
}

/** Images beside the class folders are an error: they belong in one. */
function refuseLooseImages(folder: string, list: readonly Entry[]): void {
  const loose = list.find((e) => !e.dir && isImageName(e.name));
  if (loose) throw bad(join(folder, loose.name), 'images belong in a class folder (one subfolder of images per class)');
}

function parseClassesFile(bytes: Buffer, path: string): string[] {
  const names = bytes
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (names.length === 0) throw bad(path, 'lists no classes');
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw bad(path, `class '${dup}' is listed twice`);
  return names;
}

/** Lists the class folders and images of `split` (see the module comment); no image is read. */
export async function listImageFolder(dir: string, split: SplitName): Promise<FolderListing> {
  const root = resolve(dir);
  const top = await entries(root);
  const topDirs = top.filter((e) => e.dir).map((e) => e.name);
  refuseLooseImages(root, top);
  if (topDirs.length === 0) throw bad(root, 'holds no class folders (one subfolder of images per class is expected)');
  const splitLayout = topDirs.every((n) => n === 'train' || n === 'test');
  const classRoot = splitLayout ? join(root, split) : root;
  if (splitLayout && !topDirs.includes(split)) throw bad(root, `holds ${topDirs.map((n) => `${n}/`).join(' and ')} but no ${split}/ folder`);

  const classDirsOf = async (folder: string): Promise<string[]> => {
    const list = await entries(folder);
    refuseLooseImages(folder, list);
    const dirs = list.filter((e) => e.dir).map((e) => e.name);
    if (dirs.length === 0) throw bad(folder, 'holds no class folders (one subfolder of images per class is expected)');
    return dirs;
  };
  const here = await classDirsOf(classRoot);
  const classesPath = join(root, CLASSES_FILE);
  const hasClassesFile = top.some((e) => !e.dir && e.name === CLASSES_FILE);
  let classesFile: FolderListing['classesFile'] = null;
  let classNames: string[];
  if (hasClassesFile) {
    const bytes = await readGivenFile(classesPath);
    classNames = parseClassesFile(bytes, classesPath);
    classesFile = { path: classesPath, bytes };
  } else if (splitLayout) {
    // Both splits' folders, so that a class's label is the same in train and test.
    const all = new Set<string>();
    for (const s of topDirs) for (const c of await classDirsOf(join(root, s))) all.add(c);
    classNames = [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } else {
    classNames = here;
  }
  if (classNames.length > MAX_CLASSES) throw bad(root, `${classNames.length} classes, at most ${MAX_CLASSES} are supported`);
  const unlisted = here.find((c) => !classNames.includes(c));
  if (unlisted !== undefined) throw bad(join(classRoot, unlisted), `is not a class listed in ${classesPath}`);

  const images: FolderImage[] = [];
  const relRoot = splitLayout ? `${split}/` : '';
  for (const [label, name] of classNames.entries()) {
    if (!here.includes(name)) continue;
    const folder = join(classRoot, name);
    let found = 0;
    for (const e of await entries(folder)) {
      const path = join(folder, e.name);
      if (e.dir || !isImageName(e.name)) {
        throw bad(path, `is not a PNG or JPEG file (class folders hold only ${IMAGE_EXTENSIONS.join(' ')} files)`);
      }
      images.push({ path, rel: `${relRoot}${name}/${e.name}`, label });
      found++;
    }
    if (found === 0) throw bad(folder, 'is a class folder with no images');
  }
  return { root, classRoot, splitLayout, classNames, classesFile, images };
}

/**
 * The SHA-256 identifying a folder's images: of the manifest with one line `<SHA-256 of the file>  <rel>\n`
 * per image in load order (class order, then name), the lines `sha256sum` prints.
 */
export function manifestSha256(lines: readonly { readonly sha256: string; readonly rel: string }[]): string {
  const h = createHash('sha256');
  for (const l of lines) h.update(`${l.sha256}  ${l.rel}\n`);
  return h.digest('hex');
}

/** Bytes read to find an image's size and colour without decoding it (JPEG frame headers follow EXIF data). */
const HEADER_BYTES = 256 * 1024;

/** Size and colour of an image, from its header, or by decoding it when the header does not tell. */
async function probeImage(path: string): Promise<{ width: number; height: number; channels: number }> {
  const header = imageHeader(await readGivenFile(path, HEADER_BYTES));
  return header && header.channels !== 0 ? header : decodeImage(await readGivenFile(path), path);
}

/**
 * In a split folder, the other split must have images of the same size, and colour in either split makes both
 * RGB: train and test then have one shape. Returns whether the other split holds a colour image.
 */
async function checkOtherSplit(listing: FolderListing, split: SplitName, width: number, height: number): Promise<boolean> {
  const other: SplitName = split === 'train' ? 'test' : 'train';
  if (!existsSync(join(listing.root, other))) return false;
  const images = (await listImageFolder(listing.root, other)).images;
  let colour = false;
  for (const img of images) {
    const p = await probeImage(img.path);
    if (p.width !== width || p.height !== height) {
      throw bad(img.path, `is ${p.width}×${p.height} but ${listing.images[0]!.path} is ${width}×${height}: every image must have the same size`);
    }
    colour ||= p.channels === 3;
  }
  return colour;
}

/** The dataset name recorded for a folder: `images:` and its absolute path. */
export function folderSourceName(dir: string): string {
  return `images:${resolve(dir)}`;
}

/** Loads the images of `split` from a class-folder dataset (all of them; subsets are taken by the caller). */
export async function loadImageFolder(dir: string, split: SplitName): Promise<ImageDataset> {
  const listing = await listImageFolder(dir, split);
  const decoded: DecodedImage[] = [];
  const manifest: { sha256: string; rel: string }[] = [];
  let totalBytes = 0;
  for (const img of listing.images) {
    const bytes = await readGivenFile(img.path);
    const d = decodeImage(bytes, img.path);
    const first = decoded[0];
    if (first && (d.width !== first.width || d.height !== first.height)) {
      throw bad(img.path, `is ${d.width}×${d.height} but ${listing.images[0]!.path} is ${first.width}×${first.height}: every image must have the same size`);
    }
    decoded.push(d);
    manifest.push({ sha256: sha256Hex(bytes), rel: img.rel });
    totalBytes += bytes.length;
  }
  const { width: w, height: h } = decoded[0]!;
  const otherColour = listing.splitLayout ? await checkOtherSplit(listing, split, w, h) : false;
  const channels = otherColour || decoded.some((d) => d.channels === 3) ? 3 : 1;
  const size = h * w * channels;
  const pixels = new Uint8Array(decoded.length * size);
  for (const [i, d] of decoded.entries()) {
    if (d.channels === channels) {
      pixels.set(d.pixels, i * size);
    } else {
      for (let p = 0; p < h * w; p++) pixels.fill(d.pixels[p]!, i * size + 3 * p, i * size + 3 * p + 3);
    }
  }
  const labels = Uint8Array.from(listing.images, (img) => img.label);
  const folderName = `${basename(listing.root)}/${listing.splitLayout ? `${split}/` : ''}`;
  const files: DatasetFile[] = [givenFileRecord(folderName, listing.classRoot, manifestSha256(manifest), totalBytes, false)];
  if (listing.classesFile) files.push(givenFileRecordOf(CLASSES_FILE, listing.classesFile.path, listing.classesFile.bytes));
  return givenDataset({
    name: folderSourceName(listing.root),
    split,
    variant: listing.splitLayout ? `${split}/` : './',
    shape: [h, w, channels],
    classNames: listing.classNames,
    pixels,
    labels,
    files,
  });
}
