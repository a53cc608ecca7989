/**
 * The geometry of a 2-D NHWC convolution, in the plain numbers the gradient kernels loop over.
 */
import { tf } from '../tf.js';

export interface ConvGeometry {
  readonly batch: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
  readonly fH: number;
  readonly fW: number;
  readonly sH: number;
  readonly sW: number;
  /** Zero rows added above the input (input row of output row `oh`, filter row `kh`: `oh*sH + kh - padTop`). */
  readonly padTop: number;
  readonly padLeft: number;
  readonly padBottom: number;
  readonly padRight: number;
}

export type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/**
 * Computes the geometry with TF.js's own rules (`computeConv2DInfo`), so 'same'/'valid'/explicit padding and
 * `dimRoundingMode` mean exactly what they mean in the forward convolution. Dilated convolutions have no
 * gradient in TF.js, so dilation is always 1 here. Throws for NCHW: the wasm backend's Conv2D is NHWC-only.
 */
export function convGeometry(
  kernelName: string,
  inShape: number[],
  filterShape: number[],
  strides: number | [number, number],
  pad: PadAttr,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  dataFormat: string | undefined,
): ConvGeometry {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`qrobust's wasm ${kernelName} supports dataFormat 'NHWC' only (got '${dataFormat}')`);
  }
  if (inShape.length !== 4 || filterShape.length !== 4) {
    throw new Error(`qrobust's wasm ${kernelName} expects rank-4 input and filter shapes`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    fH: info.filterHeight,
    fW: info.filterWidth,
    sH: info.strideHeight,
    sW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    padBottom: info.padInfo.bottom,
    padRight: info.padInfo.right,
  };
}
