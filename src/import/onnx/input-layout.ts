/**
 * The network input: which layout the file's input shape has (declared, or inferred where unambiguous), and the
 * activation that stands for it on the graph input, the dataset's NHWC image.
 */
import { QrobustError } from '../../core/errors.js';
import { MODEL_INPUT } from '../../graph/model-graph.js';
import { elementCount, type OnnxDim } from '../../onnx/model.js';
import type { InputLayout } from '../types.js';
import { NCHW_AXES, NHWC_AXES, onnxShapeOf, sameShape, type Activation, type FeatureMap } from './activations.js';
import type { GraphWriter } from './graph-writer.js';
import type { OnnxReading } from './lowering.js';

type Image = readonly [number, number, number];

const show = (s: readonly (number | string | null)[]): string => `[${s.map((d) => d ?? '?').join(',')}]`;

/**
 * The input shape with its batch axis set to 1; read as declared, a fixed first axis is kept (it need not be a
 * batch axis: `[784]` is a vector).
 * @throws QrobustError('unsupported_layer') for a batch axis other than 1 or symbolic, or another symbolic axis.
 */
export function concreteInputShape(source: string, name: string, dims: readonly OnnxDim[], reading: OnnxReading = 'per-example'): number[] {
  return dims.map((d, i) => {
    if (i === 0 && (d === null || typeof d === 'string' || d === 1 || d === -1)) return 1;
    if (typeof d === 'number' && d > 0 && (i > 0 || reading === 'as-declared')) return d;
    const what = i === 0 ? `a batch axis of ${String(d)} (1 or symbolic is supported)` : `a symbolic or unknown axis ${i} (${String(d)})`;
    throw new QrobustError('unsupported_layer', `${source}: input '${name}' ${show(dims)} has ${what}`);
  });
}

function fitsLayout(layout: InputLayout, shape: readonly number[], image: Image, reading: OnnxReading): boolean {
  const [h, w, c] = image;
  const rest = shape.slice(1);
  switch (layout) {
    case 'nchw':
      return shape[0] === 1 && sameShape(rest, [c, h, w]);
    case 'nhwc':
      return shape[0] === 1 && sameShape(rest, [h, w, c]);
    case 'flat-nchw':
    case 'flat-nhwc':
      return (shape.length >= 2 || reading === 'as-declared') && elementCount(shape) === h * w * c;
  }
}

/**
 * The layout of an input of this shape (batch axis first) for the dataset's image `[H, W, C]`: the declared one,
 * checked, or else `nchw` for `[1, C, H, W]`, `nhwc` for `[1, H, W, C]`, and `flat-nchw` for any other shape of
 * `H·W·C` elements when C = 1 (read as declared, a flat input may have any rank, `[784]` too).
 * @throws QrobustError('shape_mismatch') when the declared layout does not fit, when nothing fits, or when a flat
 *   input of a multi-channel image leaves the element order open.
 */
export function resolveLayout(source: string, shape: readonly number[], image: Image, declared?: InputLayout, reading: OnnxReading = 'per-example'): InputLayout {
  const where = `${source}: the input ${show(shape)}`;
  const fits = (layout: InputLayout): boolean => fitsLayout(layout, shape, image, reading);
  if (declared !== undefined) {
    if (!fits(declared)) throw new QrobustError('shape_mismatch', `${where} does not fit layout '${declared}' for the image ${show(image)}`);
    return declared;
  }
  if (fits('nchw')) return 'nchw';
  if (fits('nhwc')) return 'nhwc';
  if (fits('flat-nchw')) {
    if (image[2] === 1) return 'flat-nchw';
    throw new QrobustError('shape_mismatch', `${where} is a flat vector of a ${image[2]}-channel image; say --layout flat-nchw or flat-nhwc`);
  }
  throw new QrobustError('shape_mismatch', `${where} does not fit the dataset's image ${show(image)} (HWC) in any layout`);
}

/**
 * The activation of the file's input on the graph input. A flat layout adds the flatten that turns the image
 * into the file's vector as the first node (dropped later if the network reshapes it straight back).
 */
export function inputActivation(layout: InputLayout, shape: readonly number[], image: Image, writer: GraphWriter): Activation {
  const map = (axes: typeof NCHW_AXES): FeatureMap => ({ kind: 'map', ref: MODEL_INPUT, shape: onnxShapeOf(image, axes), axes });
  switch (layout) {
    case 'nchw':
      return map(NCHW_AXES);
    case 'nhwc':
      return map(NHWC_AXES);
    case 'flat-nchw':
    case 'flat-nhwc': {
      const source = map(layout === 'flat-nchw' ? NCHW_AXES : NHWC_AXES);
      const ref = writer.add('input_flatten', { kind: 'flatten', order: layout === 'flat-nchw' ? 'chw' : 'hwc' }, [MODEL_INPUT]);
      return { kind: 'vector', ref, shape: [...shape], unflattened: source };
    }
  }
}
