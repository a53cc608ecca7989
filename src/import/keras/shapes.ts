/**
 * Per-example shapes in the graph's NHWC convention (`[H, W, C]` or `[N]`), tracked through a Keras model so
 * that each layer's weights and axes can be checked and mapped.
 */
import type { Padding2D } from '../../graph/model-graph.js';

export type Shape = readonly number[];

/** Output length of a windowed op along one axis, with TF's 'same'/'valid' rules or explicit pads. */
export function windowOutput(size: number, window: number, stride: number, dilation: number, padding: 'same' | 'valid'): number {
  const span = (window - 1) * dilation + 1;
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - span) / stride) + 1;
}

export function spatialOutput(
  [h, w]: Shape,
  window: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  padding: Padding2D,
  channels: number,
): Shape {
  if (typeof padding !== 'string') {
    const [t, b, l, r] = padding;
    return [windowOutput(h! + t + b, window[0], strides[0], dilations[0], 'valid'), windowOutput(w! + l + r, window[1], strides[1], dilations[1], 'valid'), channels];
  }
  return [windowOutput(h!, window[0], strides[0], dilations[0], padding), windowOutput(w!, window[1], strides[1], dilations[1], padding), channels];
}

export function elementCount(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeEquals(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
