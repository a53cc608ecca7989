/**
 * qrobust's activations are NHWC (TF.js); ONNX's Conv and MaxPool are NCHW. Exporters track the layout of the
 * current tensor and insert a Transpose only where an operator needs the other one. A flatten always goes back
 * to NHWC first, so that a dense layer after convolutions sees its input in TF.js's (h, w, c) flatten order.
 */
import { ints, type GraphBuilder } from './graph-builder.js';
import type { OnnxAttribute } from './model.js';

export type Layout = 'NHWC' | 'NCHW' | 'flat';

/** `x` in layout `to` (a Transpose when it is in the other 4-D layout; a flat tensor stays as it is). */
export function toLayout(b: GraphBuilder, x: string, from: Layout, to: 'NHWC' | 'NCHW'): string {
  if (from === to || from === 'flat') return x;
  const perm = to === 'NCHW' ? [0, 3, 1, 2] : [0, 2, 3, 1];
  return b.node('Transpose', [x], [ints('perm', perm)]);
}

/** `x` flattened to `[N, H·W·C]` in NHWC order (nothing to do when it is flat already). */
export function flattenNhwc(b: GraphBuilder, x: string, layout: Layout): string {
  if (layout === 'flat') return x;
  return b.node('Flatten', [toLayout(b, x, layout, 'NHWC')], [{ name: 'axis', type: 'int', value: 1 }]);
}

/** A sliding window over `[H, W]` (a convolution kernel or a pooling window) with TF's padding already resolved. */
export interface Window {
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  readonly size: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padTop: number;
  readonly padLeft: number;
}

/**
 * `kernel_shape`, `strides` and explicit `pads` [top, left, bottom, right] of a window. TF puts the odd extra
 * padding pixel at the bottom/right; the bottom and right pads are what the output size needs beyond the input.
 */
export function windowAttributes(win: Window): OnnxAttribute[] {
  const [ih, iw] = win.inShape as [number, number];
  const [oh, ow] = win.outShape as [number, number];
  const [kh, kw] = win.size;
  const [sh, sw] = win.strides;
  const padBottom = Math.max(0, (oh - 1) * sh + kh - ih - win.padTop);
  const padRight = Math.max(0, (ow - 1) * sw + kw - iw - win.padLeft);
  return [ints('kernel_shape', [kh, kw]), ints('strides', [sh, sw]), ints('pads', [win.padTop, win.padLeft, padBottom, padRight])];
}
