/**
 * The one place commands learn a dataset's image shape and classes before (or without) loading it: to build a
 * model for `train`, to check a model against its data in `eval`/`attack`/`quantize`, and to tell an importer
 * the image shape and class count for `--dataset D`.
 */
import type { LoadOptions } from './load.js';
import { loadDataset } from './load.js';
import type { SplitName } from './registry.js';
import { parseDatasetSource } from './source.js';

export interface DatasetShape {
  /** The canonical name (as the loaded dataset's `name`, and as recorded in model metadata). */
  readonly name: string;
  /** [height, width, channels] of one image. */
  readonly shape: readonly [number, number, number];
  readonly numClasses: number;
  readonly classNames: readonly string[];
}

export interface DatasetShapeOptions extends Omit<LoadOptions, 'n' | 'seed'> {
  /** The split whose images a folder or .npz is read from (default 'test'; 'train' for a train-only source). */
  readonly split?: SplitName;
}

/**
 * Image shape and classes of a dataset name (see source.ts). Built-in datasets answer from the registry without
 * touching a file. A folder or .npz is read and decoded as `loadDataset(name, split)` reads it (its test split by
 * default, or its only set of examples); its class list covers both splits, so the class count is the same
 * whichever split is read.
 */
export async function datasetShape(name: string, options: DatasetShapeOptions = {}): Promise<DatasetShape> {
  const source = parseDatasetSource(name);
  if (source.kind === 'builtin') {
    const { spec } = source;
    return { name: spec.name, shape: spec.shape, numClasses: spec.classNames.length, classNames: spec.classNames };
  }
  const { split = 'test', ...load } = options;
  const ds = await loadDataset(name, split, load);
  return { name: ds.name, shape: ds.shape, numClasses: ds.numClasses, classNames: ds.classNames };
}
