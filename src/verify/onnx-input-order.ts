/**
 * How an ONNX file's input sits on the model graph's NHWC image when the verifier reads the file: the readings
 * (image and layout) to try, and for each the order that maps the file's C-order elements (VNN-LIB's X_i) onto
 * the graph's input, one element to one element.
 *
 * A 4-D input `[1, C, H, W]` is read as NCHW, ONNX's convention for images (an image `[H, W, C]`, a
 * transposition), or as NHWC `[1, H, W, C]` (the same order), the one first that the network's first nodes
 * suggest (tf2onnx exports begin with a Transpose from NHWC), and last as a flat vector. Any other shape is a
 * flat vector in its C order: of the image `[H, W, C]` when the network reshapes it to `[1, C, H, W]` first (so
 * that convolutions can follow), else of `[N, 1, 1]`. Every reading is exact; they differ only in which networks
 * the importer can follow.
 */
import type { InputLayout } from '../import/types.js';
import { elementCount, type OnnxModel, type OnnxNode } from '../onnx/model.js';

export interface InputReading {
  /** The graph's NHWC input image. */
  readonly imageShape: readonly [number, number, number];
  readonly layout: InputLayout;
}

/** Whether every node reading the input transposes it from NHWC to NCHW. */
function transposedFromNhwc(model: OnnxModel, input: string): boolean {
  const readers = model.graph.nodes.filter((n) => n.inputs.includes(input));
  const isNhwcToNchw = (n: OnnxNode): boolean => {
    const perm = n.attributes.find((a) => a.name === 'perm');
    return n.opType === 'Transpose' && perm?.type === 'ints' && perm.value.join(',') === '0,3,1,2';
  };
  return readers.length > 0 && readers.every(isNhwcToNchw);
}

/** The constant integers of a tensor name (an initializer or a Constant node's value), or null. */
function constantInts(model: OnnxModel, name: string): number[] | null {
  const init = model.graph.initializers.find((t) => t.name === name);
  if (init) return Array.from(init.values, Number);
  const node = model.graph.nodes.find((n) => n.opType === 'Constant' && n.outputs[0] === name);
  const value = node?.attributes.find((a) => a.name === 'value');
  return value?.type === 'tensor' ? Array.from(value.value.values, Number) : null;
}

/** The images `[H, W, C]` of the `[1, C, H, W]` shapes a Reshape of the input to 4-D gives (a 1 or −1 batch). */
function reshapedImages(model: OnnxModel, input: string, size: number): [number, number, number][] {
  const images: [number, number, number][] = [];
  for (const n of model.graph.nodes) {
    if (n.opType !== 'Reshape' || n.inputs[0] !== input || !n.inputs[1]) continue;
    const target = constantInts(model, n.inputs[1]);
    if (target?.length !== 4 || (target[0] !== 1 && target[0] !== -1)) continue;
    const [, c, h, w] = target as [number, number, number, number];
    if (c > 0 && h > 0 && w > 0 && c * h * w === size) images.push([h, w, c]);
  }
  return images;
}

/** The readings to try, in order, for the graph input `name` of this concrete shape. */
export function inputReadings(model: OnnxModel, name: string, shape: readonly number[]): InputReading[] {
  const n = elementCount(shape);
  const flat: InputReading = { imageShape: [n, 1, 1], layout: 'flat-nchw' };
  if (shape.length !== 4 || shape[0] !== 1) {
    return [...reshapedImages(model, name, n).map((imageShape): InputReading => ({ imageShape, layout: 'flat-nchw' })), flat];
  }
  const [, a, b, c] = shape as [number, number, number, number];
  const nchw: InputReading = { imageShape: [b, c, a], layout: 'nchw' };
  const nhwc: InputReading = { imageShape: [a, b, c], layout: 'nhwc' };
  return transposedFromNhwc(model, name) ? [nhwc, nchw, flat] : [nchw, nhwc, flat];
}

/**
 * The file's C-order index of each graph input element (NHWC index g ↦ `order[g]`), or null when the two orders
 * are the same.
 */
export function fileOrder(reading: InputReading): Int32Array | null {
  if (reading.layout !== 'nchw' && reading.layout !== 'flat-nchw') return null;
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
