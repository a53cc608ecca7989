/**
 * Where a convolution or pooling step of the layer graph reads: NHWC input and output shapes, the window, the
 * strides and the zero-based padding before the first row and column (TF's 'same' puts the odd pixel at the
 * end). The integer kernels, the hybrid kernels and the host float kernels all index windows this way.
 */
import { padBefore, type Conv2DStep, type MaxPoolStep } from './graph.js';

export interface WindowGeometry {
  readonly inShape: readonly [number, number, number];
  readonly outShape: readonly [number, number, number];
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padTop: number;
  readonly padLeft: number;
}

/** The geometry of a conv2d step (its kernel's window) or a max-pool step (its pool). */
export function windowGeometry(step: Conv2DStep | MaxPoolStep): WindowGeometry {
  const kernel: [number, number] = step.kind === 'conv2d' ? [step.kernelShape[0], step.kernelShape[1]] : [step.poolSize[0], step.poolSize[1]];
  const [h, w] = step.inputShape as [number, number, number];
  return {
    inShape: step.inputShape as [number, number, number],
    outShape: step.outputShape as [number, number, number],
    kernel,
    strides: step.strides,
    padTop: padBefore(h, kernel[0], step.strides[0], step.padding),
    padLeft: padBefore(w, kernel[1], step.strides[1], step.padding),
  };
}
