/**
 * A dataset from a NumPy `.npz` (`--dataset npz:FILE`): images `x` and integer labels `y`, or per split
 * `x_train`/`y_train` and `x_test`/`y_test` (as Keras' `mnist.npz` holds them), and optionally `classes`, a
 * 1-D string array of class names. The rules (layouts, dtypes, ranges) are in docs/data.md.
 */
import { basename, resolve } from 'node:path';
import { QrobustError } from '../core/errors.js';
import type { ImageDataset } from './dataset.js';
import { givenDataset, givenFileRecordOf, MAX_CLASSES, readGivenFile } from './given.js';
import { numberReader, stringElements, type NpyArray } from './npy.js';
import { npzMembers, readNpzArrays } from './npz.js';
import type { SplitName } from './registry.js';

export type PixelLayout = 'NHW' | 'NHWC' | 'NCHW';

/** How far (in 1/255 steps) a float pixel may lie from an 8-bit level: float32 rounding of k/255 is ~1e-5. */
export const LEVEL_TOLERANCE = 1e-3;

function bad(where: string, problem: string): QrobustError {
  return new QrobustError('dataset_corrupt', `${where}: ${problem}`);
}

/**
 * The layout of an image array of this shape: 3 axes → [N,H,W] (grayscale); 4 axes → [N,H,W,C] when the last
 * axis is 1 or 3, [N,C,H,W] when axis 1 is; both or neither is an error.
 */
export function pixelLayout(shape: readonly number[], where: string): PixelLayout {
  const dims = `[${shape.join(', ')}]`;
  if (shape.length === 3) return 'NHW';
  if (shape.length !== 4) throw bad(where, `shape ${dims}: images must be [N,H,W], [N,H,W,C] or [N,C,H,W]`);
  const last = shape[3] === 1 || shape[3] === 3;
  const first = shape[1] === 1 || shape[1] === 3;
  if (last && first) throw bad(where, `shape ${dims} is ambiguous: both axis 1 and axis 3 could be the channels; save it as [N,H,W,C] with H, W not 1 or 3`);
  if (last) return 'NHWC';
  if (first) return 'NCHW';
  throw bad(where, `shape ${dims}: no channel axis of size 1 or 3 (last axis for [N,H,W,C], axis 1 for [N,C,H,W])`);
}

/** [H, W, C] of one image in an array of this shape and layout. */
export function imageShapeOf(shape: readonly number[], layout: PixelLayout): [number, number, number] {
  if (layout === 'NHW') return [shape[1]!, shape[2]!, 1];
  if (layout === 'NHWC') return [shape[1]!, shape[2]!, shape[3]!];
  return [shape[2]!, shape[3]!, shape[1]!];
}

/** Position in the array's C-order data of pixel (n, y, x, channel); [N,H,W] is [N,H,W,1]. */
function sourceIndex(layout: PixelLayout, [h, w, c]: readonly number[], n: number, y: number, x: number, ch: number): number {
  return layout === 'NCHW' ? ((n * c + ch) * h + y) * w + x : ((n * h + y) * w + x) * c + ch;
}

/** The elements of a float array as numbers: a typed view when the bytes allow it, else read one by one. */
function floatValues(x: NpyArray): Float32Array | Float64Array {
  const { itemSize, littleEndian } = x.dtype;
  const hostLittle = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  if (littleEndian === hostLittle) {
    const aligned = x.data.byteOffset % itemSize === 0 ? x.data : x.data.slice();
    return itemSize === 4
      ? new Float32Array(aligned.buffer, aligned.byteOffset, x.size)
      : new Float64Array(aligned.buffer, aligned.byteOffset, x.size);
  }
  const read = numberReader(x);
  return Float64Array.from({ length: x.size }, (_, i) => read(i));
}

/** 8-bit level of a float pixel, or an error when it is outside [0,1] or not (within tolerance) a level k/255. */
function floatLevel(v: number, i: number, where: string): number {
  if (!(v >= 0 && v <= 1)) throw bad(where, `value ${v} at flat index ${i} is outside [0, 1] (float pixels are taken as [0,1])`);
  const scaled = v * 255;
  const level = Math.round(scaled);
  if (Math.abs(scaled - level) > LEVEL_TOLERANCE) {
    throw bad(
      where,
      `value ${v} at flat index ${i} is not an 8-bit level k/255 (pixels are held as 8-bit); save np.round(x * 255).astype(np.uint8) if that rounding is wanted`,
    );
  }
  return level;
}

/** The images as NHWC bytes: uint8 as they are, float32/float64 (in [0,1], on 8-bit levels) times 255. */
export function npzPixels(x: NpyArray, where: string): { pixels: Uint8Array; shape: [number, number, number]; count: number } {
  const layout = pixelLayout(x.shape, where);
  const shape = imageShapeOf(x.shape, layout);
  const count = x.shape[0]!;
  if (count === 0) throw bad(where, 'holds no images');
  if (shape[0] === 0 || shape[1] === 0) throw bad(where, `images of ${shape[0]}×${shape[1]} pixels`);
  const { kind, itemSize } = x.dtype;
  const isByte = kind === 'uint' && itemSize === 1;
  if (!isByte && kind !== 'float') {
    throw bad(where, `dtype ${x.dtype.descr}: images must be uint8 (0..255) or float32/float64 in [0,1]`);
  }
  if (isByte && layout !== 'NCHW') return { pixels: x.data, shape, count };
  // Bytes in C order: as they are, or the float values' 8-bit levels.
  let bytes: Uint8Array;
  if (isByte) {
    bytes = x.data;
  } else {
    const values = floatValues(x);
    bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) bytes[i] = floatLevel(values[i]!, i, where);
  }
  if (layout !== 'NCHW') return { pixels: bytes, shape, count };
  const [h, w, c] = shape;
  const pixels = new Uint8Array(count * h * w * c);
  let o = 0;
  for (let n = 0; n < count; n++) {
    for (let yy = 0; yy < h; yy++) {
      for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) pixels[o++] = bytes[sourceIndex(layout, shape, n, yy, xx, ch)]!;
    }
  }
  return { pixels, shape, count };
}

/** The labels as bytes: an integer array of shape [N] or [N,1], values in 0..numClasses-1 (or 0..255). */
export function npzLabels(y: NpyArray, count: number, numClasses: number | null, where: string): Uint8Array {
  if (y.dtype.kind !== 'uint' && y.dtype.kind !== 'int') throw bad(where, `dtype ${y.dtype.descr}: labels must be integers`);
  const shapeOk = y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1);
  if (!shapeOk) throw bad(where, `shape [${y.shape.join(', ')}]: labels must be [N] (or [N,1])`);
  if (y.shape[0] !== count) throw bad(where, `holds ${y.shape[0]} labels but the images number ${count}`);
  const limit = numClasses ?? MAX_CLASSES;
  const read = numberReader(y);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const v = read(i);
    if (v < 0 || v >= limit) {
      const range = numClasses !== null ? `0..${numClasses - 1} (${numClasses} classes)` : `0..${MAX_CLASSES - 1}`;
      throw bad(where, `label ${v} at index ${i} is out of range ${range}`);
    }
    out[i] = v;
  }
  return out;
}

/** Which keys hold this split's images and labels: `x_<split>`/`y_<split>` when present, else `x`/`y`. */
export function npzKeysFor(keys: readonly string[], split: SplitName, file: string): { x: string; y: string } {
  const has = (k: string): boolean => keys.includes(k);
  const list = keys.length > 0 ? keys.join(', ') : 'none';
  if (has(`x_${split}`) || has(`y_${split}`)) {
    for (const k of [`x_${split}`, `y_${split}`]) if (!has(k)) throw bad(file, `has no '${k}' array (arrays: ${list})`);
    return { x: `x_${split}`, y: `y_${split}` };
  }
  if (has('x') || has('y')) {
    for (const k of ['x', 'y']) if (!has(k)) throw bad(file, `has no '${k}' array (arrays: ${list})`);
    return { x: 'x', y: 'y' };
  }
  throw bad(file, `has no 'x' and 'y' arrays (nor 'x_${split}' and 'y_${split}'); arrays: ${list}`);
}

/** Class names: the `classes` array when there is one, else '0'..'K-1' with K one more than the largest label. */
function classNamesOf(arrays: ReadonlyMap<string, NpyArray>, file: string): string[] {
  const classes = arrays.get('classes');
  if (classes) {
    const where = `${file}: classes`;
    if (classes.dtype.kind !== 'unicode' && classes.dtype.kind !== 'bytes') throw bad(where, `dtype ${classes.dtype.descr}: class names must be strings`);
    if (classes.shape.length !== 1 || classes.size === 0) throw bad(where, `shape [${classes.shape.join(', ')}]: class names must be a non-empty 1-D array`);
    const names = stringElements(classes);
    if (names.length > MAX_CLASSES) throw bad(where, `${names.length} classes, at most ${MAX_CLASSES} are supported`);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw bad(where, `class '${dup}' is named twice`);
    return names;
  }
  let max = -1;
  for (const [key, a] of arrays) {
    if (key !== 'y' && !key.startsWith('y_')) continue;
    if (a.dtype.kind !== 'uint' && a.dtype.kind !== 'int') continue; // npzLabels reports it
    const read = numberReader(a);
    for (let i = 0; i < a.size; i++) max = Math.max(max, Math.min(read(i), MAX_CLASSES - 1));
  }
  return Array.from({ length: Math.max(1, max + 1) }, (_, i) => String(i));
}

/** The dataset name recorded for an .npz: `npz:` and its absolute path. */
export function npzSourceName(path: string): string {
  return `npz:${resolve(path)}`;
}

/** Loads the examples of `split` from an .npz file (all of them; subsets are taken by the caller). */
export async function loadNpzDataset(path: string, split: SplitName): Promise<ImageDataset> {
  const file = resolve(path);
  const bytes = await readGivenFile(file);
  const members = npzMembers(bytes, file);
  const keys = members.map((m) => m.key);
  const { x: xKey, y: yKey } = npzKeysFor(keys, split, file);
  const labelKeys = keys.filter((k) => k === 'y' || k.startsWith('y_'));
  const arrays = readNpzArrays(bytes, file, [xKey, ...labelKeys, 'classes']);
  const classNames = classNamesOf(arrays, file);
  const { pixels, shape, count } = npzPixels(arrays.get(xKey)!, `${file}: ${xKey}`);
  const labels = npzLabels(arrays.get(yKey)!, count, arrays.has('classes') ? classNames.length : null, `${file}: ${yKey}`);
  const compressed = members.some((m) => m.compressed);
  return givenDataset({
    name: npzSourceName(file),
    split,
    variant: `${xKey},${yKey}`,
    shape,
    classNames,
    pixels,
    labels,
    files: [givenFileRecordOf(basename(file), file, bytes, compressed)],
  });
}
