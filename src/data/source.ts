/**
 * What a dataset name (`--dataset`, `loadDataset`'s first argument, a model's recorded `dataset`) stands for:
 * - a built-in dataset: `mnist`, `fashion-mnist`, `cifar10` (registry.ts);
 * - `npz:FILE`: a NumPy .npz of images and labels (npz-dataset.ts);
 * - `images:DIR`, or a plain path to an existing folder (or any name with a `/`): a folder of class folders
 *   (image-folder.ts).
 * The loaded dataset's `name` is the canonical form (`npz:` or `images:` and the absolute path), which parses
 * back to the same source, so a model trained on it records a name that finds its data again.
 */
import { statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { QrobustError } from '../core/errors.js';
import type { ImageDataset } from './dataset.js';
import { loadImageFolder } from './image-folder.js';
import { loadNpzDataset } from './npz-dataset.js';
import { DATASETS, DATASET_NAMES, type DatasetSpec, type SplitName } from './registry.js';
import { FOLDER_PREFIX, NPZ_PREFIX } from './source-names.js';

export type DatasetSource =
  | { readonly kind: 'builtin'; readonly spec: DatasetSpec }
  | { readonly kind: 'npz'; readonly path: string }
  | { readonly kind: 'folder'; readonly dir: string };

export { NPZ_PREFIX, FOLDER_PREFIX, DATASET_PLACEHOLDER } from './source-names.js';

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function looksLikePath(name: string): boolean {
  return name.includes('/') || name.includes(sep) || name.startsWith('.') || name.startsWith('~');
}

/** Parses a dataset name; an unknown one is a QrobustError('unknown_dataset') listing the accepted forms. */
export function parseDatasetSource(name: string): DatasetSource {
  if (Object.prototype.hasOwnProperty.call(DATASETS, name)) return { kind: 'builtin', spec: DATASETS[name]! };
  const empty = (form: string): QrobustError => new QrobustError('invalid_argument', `dataset '${name}': ${form} needs a path after the colon`);
  if (name.startsWith(NPZ_PREFIX)) {
    const path = name.slice(NPZ_PREFIX.length);
    if (path === '') throw empty('npz:FILE');
    return { kind: 'npz', path: resolve(path) };
  }
  if (name.startsWith(FOLDER_PREFIX)) {
    const dir = name.slice(FOLDER_PREFIX.length);
    if (dir === '') throw empty('images:DIR');
    return { kind: 'folder', dir: resolve(dir) };
  }
  if (name.toLowerCase().endsWith('.npz')) {
    throw new QrobustError('unknown_dataset', `dataset '${name}': write npz:${name} to read a NumPy .npz file`);
  }
  if (name !== '' && (isDir(name) || looksLikePath(name))) return { kind: 'folder', dir: resolve(name) };
  throw new QrobustError(
    'unknown_dataset',
    `unknown dataset '${name}': expected one of ${DATASET_NAMES.join(', ')}, a folder of class folders (DIR or images:DIR), or npz:FILE`,
  );
}

/** Loads all examples of `split` from a folder or .npz source (no subset). */
export async function loadGivenDataset(source: Exclude<DatasetSource, { kind: 'builtin' }>, split: SplitName): Promise<ImageDataset> {
  return source.kind === 'npz' ? loadNpzDataset(source.path, split) : loadImageFolder(source.dir, split);
}
