/**
 * How an ONNX file's input sits on the model graph's NHWC image when the verifier reads the file: the readings
 * (image and layout) to try for its declared shape, and for each the order that maps the file's C-order elements
 * (VNN-LIB's X_i) onto the graph's input, one element to one element.
 *
 * A 4-D input `[1, C, H, W]` is read as NCHW, ONNX's convention for images (an image `[H, W, C]`, a
 * transposition), or as NHWC `[1, H, W, C]` (the same order), the one first that the network's first nodes
 * suggest (tf2onnx exports begin with a Transpose from NHWC), and last as a flat vector. Any other shape is a flat vector `[N, 1, 1]` in
 * its C order. Every reading is exact; they differ only in which networks the importer can follow.
 */
import type { InputLayout } from '../import/types.js';
import { elementCount } from '../onnx/model.js';

export interface InputReading {
  /** The graph's NHWC input image. */
  readonly imageShape: readonly [number, number, number];
  readonly layout: InputLayout;
}

/**
 * The readings to try, in order, for an input of this concrete shape; `fromNhwc`: the network begins by
 * transposing it from NHWC to NCHW, so NHWC is tried first.
 */
export function inputReadings(shape: readonly number[], fromNhwc: boolean): InputReading[] {
  const flat: InputReading = { imageShape: [elementCount(shape), 1, 1], layout: 'flat-nchw' };
  if (shape.length !== 4 || shape[0] !== 1) return [flat];
  const [, a, b, c] = shape as [number, number, number, number];
  const nchw: InputReading = { imageShape: [b, c, a], layout: 'nchw' };
  const nhwc: InputReading = { imageShape: [a, b, c], layout: 'nhwc' };
  return fromNhwc ? [nhwc, nchw, flat] : [nchw, nhwc, flat];
}

/**
 * The file's C-order index of each graph input element (NHWC index g ↦ `order[g]`), or null when the two orders
 * are the same.
 */
export function fileOrder(reading: InputReading): Int32Array | null {
  if (reading.layout !== 'nchw') return null;
  const [h, w, c] = reading.imageShape;
  const order = new Int32Array(h * w * c);
  let same = true;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const g = (y * w + x) * c + k;
        order[g] = (k * h + y) * w + x;
        if (order[g] !== g) same = false;
      }
    }
  }
  return same ? null : order;
}
