/**
 * A loaded image dataset: uint8 NHWC pixels and uint8 labels in memory (CIFAR-10's training set is 150 MB this
 * way, 600 MB as float32), plus the record of which files it came from. Tensors are made per batch.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { SourceKind } from './locate.js';
import type { SplitName } from './registry.js';
import type { VerifiedBy } from './verify.js';

/** A file a dataset was read from. */
export interface DatasetFile {
  /** The registry's name for it, e.g. `t10k-images-idx3-ubyte` or `test_batch_first1000.bin`. */
  readonly name: string;
  readonly path: string;
  /** Which search location it was found in. */
  readonly source: SourceKind;
  /** SHA-256 of the uncompressed content: the same whether the file is stored gzipped or not. */
  readonly sha256: string;
  /** SHA-256 of the file as stored. */
  readonly fileSha256: string;
  readonly compressed: boolean;
  readonly sizeBytes: number;
  readonly verifiedBy: VerifiedBy;
}

/** How the examples were picked from the split's files. */
export type Selection =
  | { readonly method: 'all' }
  | { readonly method: 'first'; readonly n: number }
  | { readonly method: 'random'; readonly n: number; readonly seed: number }
  | { readonly method: 'indices'; readonly n: number };

export interface ImageDataset {
  readonly name: string;
  readonly split: SplitName;
  /** 'canonical' for the published split, else what it is instead, e.g. 'test_batch_first1000'. */
  readonly variant: string;
  /** False when the variant is not the whole published split (e.g. a prefix of it). */
  readonly canonical: boolean;
  readonly shape: readonly [number, number, number];
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly count: number;
  /** count × H × W × C bytes, NHWC, 0..255. */
  readonly pixels: Uint8Array;
  /** count labels in 0..numClasses-1. */
  readonly labels: Uint8Array;
  readonly files: readonly DatasetFile[];
  /** Number of examples in the variant's files. */
  readonly sourceCount: number;
  readonly selection: Selection;
  /** Position in the variant's files of each example, or null when the dataset is all of them in file order. */
  readonly sourceIndices: Int32Array | null;
}

/** A plain, JSON-ready summary for result files: which data a result was computed on. */
export interface DatasetDescription {
  readonly name: string;
  readonly split: SplitName;
  readonly variant: string;
  readonly canonical: boolean;
  readonly count: number;
  readonly sourceCount: number;
  readonly selection: Selection;
  readonly files: readonly { readonly name: string; readonly sha256: string }[];
}

export function describeDataset(ds: ImageDataset): DatasetDescription {
  return {
    name: ds.name,
    split: ds.split,
    variant: ds.variant,
    canonical: ds.canonical,
    count: ds.count,
    sourceCount: ds.sourceCount,
    selection: ds.selection,
    files: ds.files.map((f) => ({ name: f.name, sha256: f.sha256 })),
  };
}

function imageSize(ds: ImageDataset): number {
  return ds.shape[0] * ds.shape[1] * ds.shape[2];
}

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new QrobustError('invalid_argument', `${what} must be a non-negative integer, got ${n}`);
  }
}

function checkIndices(ds: ImageDataset, indices: ArrayLike<number>): void {
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    if (!Number.isInteger(k) || k < 0 || k >= ds.count) {
      throw new QrobustError('invalid_argument', `index ${k} is out of range for ${ds.name} ${ds.split} (${ds.count} examples)`);
    }
  }
}

function composeSource(ds: ImageDataset, indices: ArrayLike<number>): Int32Array {
  const out = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = ds.sourceIndices ? ds.sourceIndices[indices[i]!]! : indices[i]!;
  return out;
}

/** The examples at `indices` (any order, repeats allowed), copied into a new dataset. */
export function select(ds: ImageDataset, indices: ArrayLike<number>, selection?: Selection): ImageDataset {
  checkIndices(ds, indices);
  const size = imageSize(ds);
  const n = indices.length;
  const pixels = new Uint8Array(n * size);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = indices[i]!;
    pixels.set(ds.pixels.subarray(k * size, (k + 1) * size), i * size);
    labels[i] = ds.labels[k]!;
  }
  return {
    ...ds,
    count: n,
    pixels,
    labels,
    selection: selection ?? { method: 'indices', n },
    sourceIndices: composeSource(ds, indices),
  };
}

/** The first `n` examples (all of them when n >= count), sharing memory with `ds`. */
export function takeFirst(ds: ImageDataset, n: number): ImageDataset {
  checkCount(n, 'n');
  if (n >= ds.count) return ds;
  const size = imageSize(ds);
  const sourceIndices = ds.sourceIndices ? ds.sourceIndices.slice(0, n) : Int32Array.from({ length: n }, (_, i) => i);
  return {
    ...ds,
    count: n,
    pixels: ds.pixels.subarray(0, n * size),
    labels: ds.labels.subarray(0, n),
    selection: ds.selection.method === 'all' || ds.selection.method === 'first' ? { method: 'first', n } : { method: 'indices', n },
    sourceIndices,
  };
}

/**
 * The indices of a seeded random subset of size min(n, count): the first n entries of the `Rng(seed)`
 * permutation of 0..count-1, sorted ascending. Increasing n with the same seed only adds examples.
 */
export function subsetIndices(count: number, n: number, seed: number): Int32Array {
  checkCount(n, 'n');
  if (n >= count) return Int32Array.from({ length: count }, (_, i) => i);
  const perm = new Rng(seed).permutation(count);
  return perm.slice(0, n).sort();
}

/**
 * A deterministic random subset of `n` examples, kept in their original order (see `subsetIndices`).
 * With n >= count it returns `ds` itself: all examples, in original order.
 */
export function subset(ds: ImageDataset, n: number, seed: number): ImageDataset {
  checkCount(n, 'n');
  if (n >= ds.count) return ds;
  return select(ds, subsetIndices(ds.count, n, seed), { method: 'random', n, seed: seed >>> 0 });
}

const BYTE_TO_UNIT = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/** Writes the examples at `indices` as float32 in [0,1] into `out` and their labels into `labels`. */
export function fillFloat(ds: ImageDataset, indices: ArrayLike<number>, out: Float32Array, labels: Int32Array): void {
  const size = imageSize(ds);
  const px = ds.pixels;
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]! * size;
    const dst = i * size;
    for (let j = 0; j < size; j++) out[dst + j] = BYTE_TO_UNIT[px[src + j]!]!;
    labels[i] = ds.labels[indices[i]!]!;
  }
}

export interface TensorPair {
  /** [n, H, W, C] float32, pixel / 255. */
  readonly x: tf.Tensor4D;
  /** [n] int32 labels. */
  readonly y: tf.Tensor1D;
}

/** Tensors for the examples at `indices` (default: all). The caller disposes them. */
export function toTensors(ds: ImageDataset, indices?: ArrayLike<number>): TensorPair {
  const idx = indices ?? Int32Array.from({ length: ds.count }, (_, i) => i);
  checkIndices(ds, idx);
  const [h, w, c] = ds.shape;
  const n = idx.length;
  const data = new Float32Array(n * h * w * c);
  const labels = new Int32Array(n);
  fillFloat(ds, idx, data, labels);
  const x = tf.tensor4d(data, [n, h, w, c], 'float32');
  const y = tf.tensor1d(labels, 'int32');
  return { x, y };
}

/**
 * The order of the examples in epoch `epoch` (0-based) of a seeded shuffle: a permutation of 0..count-1 that
 * depends only on (count, seed, epoch).
 */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  checkCount(epoch, 'epoch');
  const r = new Rng(seed);
  let s = r.fork();
  for (let e = 0; e < epoch; e++) s = r.fork();
  return new Rng(s).permutation(count);
}

export interface BatchOptions {
  readonly batchSize: number;
  /** Shuffle seed; each epoch gets its own order (see `epochOrder`). */
  readonly seed?: number;
  /** Which epoch this is (0-based), for the shuffle. Default 0. */
  readonly epoch?: number;
  /** Default true. False: file order. */
  readonly shuffle?: boolean;
  /** Leave out the last batch when it is smaller than batchSize. Default false. */
  readonly dropRemainder?: boolean;
}

export interface Batch extends TensorPair {
  /** Indices into the dataset of the examples in this batch. */
  readonly indices: Int32Array;
}

/** Number of batches `batches` yields for these options. */
export function batchCount(ds: ImageDataset, options: BatchOptions): number {
  return options.dropRemainder ? Math.floor(ds.count / options.batchSize) : Math.ceil(ds.count / options.batchSize);
}

/**
 * One epoch of batches as tensors. Each batch's tensors belong to the caller (dispose them, or run the step in
 * `tf.tidy`); only one batch's float data exists at a time on the JS side.
 */
export function* batches(ds: ImageDataset, options: BatchOptions): Generator<Batch, void, undefined> {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new QrobustError('invalid_argument', `batch size must be a positive integer, got ${batchSize}`);
  }
  const order =
    options.shuffle === false
      ? Int32Array.from({ length: ds.count }, (_, i) => i)
      : epochOrder(ds.count, options.seed ?? 0, options.epoch ?? 0);
  const [h, w, c] = ds.shape;
  const steps = batchCount(ds, options);
  for (let b = 0; b < steps; b++) {
    const indices = order.slice(b * batchSize, Math.min(ds.count, (b + 1) * batchSize));
    const n = indices.length;
    const data = new Float32Array(n * h * w * c);
    const labels = new Int32Array(n);
    fillFloat(ds, indices, data, labels);
    yield { x: tf.tensor4d(data, [n, h, w, c], 'float32'), y: tf.tensor1d(labels, 'int32'), indices };
  }
}

/** Number of examples per class. */
export function labelCounts(ds: Pick<ImageDataset, 'labels' | 'numClasses'>): number[] {
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (let i = 0; i < ds.labels.length; i++) counts[ds.labels[i]!]!++;
  return counts;
}
