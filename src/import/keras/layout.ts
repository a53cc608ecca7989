/**
 * How the network's owner fed images to a Keras network (the `InputLayout`) and what it means inside the graph:
 * the element order of the first flatten, and whether a full model computes in channels-first.
 */
import { QrobustError } from '../../core/errors.js';
import type { InputLayout } from '../types.js';
import { elementCount, shapeEquals, type Shape } from './shapes.js';

export type DataFormat = 'channels_first' | 'channels_last';

/** The order in which a network fed with `layout` sees a flattened image. */
export function flattenOrderOf(layout: InputLayout): 'chw' | 'hwc' {
  return layout === 'nchw' || layout === 'flat-nchw' ? 'chw' : 'hwc';
}

function needLayout(file: string, what: string, options: string): QrobustError {
  return new QrobustError('invalid_argument', `${file}: ${what}; the element order cannot be told from the file: give --layout ${options}`);
}

/**
 * The layout of a weights-only file: declared, or inferred where the image has one channel (then every order
 * is the same).
 */
export function weightsOnlyLayout(file: string, declared: InputLayout | undefined, imageShape: Shape, firstIsConv: boolean): InputLayout {
  const oneChannel = imageShape[2] === 1;
  if (firstIsConv) {
    if (declared === 'flat-nchw' || declared === 'flat-nhwc') {
      throw new QrobustError('invalid_argument', `${file}: --layout ${declared} does not fit an architecture that starts with a convolution (use nchw or nhwc)`);
    }
    if (declared) return declared;
    if (oneChannel) return 'nhwc';
    throw needLayout(file, `weights-only file for ${imageShape[2]}-channel images`, 'nchw or nhwc');
  }
  if (declared) return declared;
  if (oneChannel) return 'flat-nhwc';
  throw needLayout(file, `weights-only file whose first layer is dense on ${imageShape[2]}-channel images`, 'flat-nchw or flat-nhwc');
}

/**
 * The layout of a full model, from its input shape (batch dimension dropped) and data format.
 * @throws QrobustError('shape_mismatch') when the input shape does not hold the dataset's images, and
 *   QrobustError('invalid_argument') when a declared layout contradicts the file.
 */
export function modelLayout(file: string, declared: InputLayout | undefined, inputShape: Shape, imageShape: Shape, format: DataFormat): InputLayout {
  const [h, w, c] = imageShape as [number, number, number];
  let layout: InputLayout;
  if (inputShape.length === 3) {
    const nchw = shapeEquals(inputShape, [c, h, w]);
    const nhwc = shapeEquals(inputShape, [h, w, c]);
    layout = format === 'channels_first' ? 'nchw' : 'nhwc';
    if (!(format === 'channels_first' ? nchw : nhwc)) {
      throw new QrobustError('shape_mismatch', `${file}: the model's input is [${inputShape.join(',')}] (${format}), the dataset's images are ${h}×${w}×${c}`);
    }
  } else if (inputShape.length === 2 && c === 1 && shapeEquals(inputShape, [h, w])) {
    layout = 'nhwc';
  } else if (inputShape.length === 1 && inputShape[0] === elementCount(imageShape)) {
    if (declared === 'flat-nchw' || declared === 'flat-nhwc') return declared;
    if (c !== 1) throw needLayout(file, `the model takes ${inputShape[0]}-vectors of ${c}-channel images`, 'flat-nchw or flat-nhwc');
    layout = 'flat-nhwc';
  } else {
    throw new QrobustError('shape_mismatch', `${file}: the model's input is [${inputShape.join(',')}], the dataset's images are ${h}×${w}×${c}`);
  }
  if (declared && declared !== layout && !(c === 1 && declared.startsWith('flat') === layout.startsWith('flat'))) {
    throw new QrobustError('invalid_argument', `${file}: --layout ${declared} contradicts the file, whose model takes [${inputShape.join(',')}] (${layout})`);
  }
  return declared ?? layout;
}
