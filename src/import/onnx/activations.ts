/**
 * How the importer tracks the tensors that depend on the network input ("activations"): each ONNX activation
 * maps to one graph node (or the graph input) and records how its ONNX shape (with the batch axis, batch 1) sits
 * on that node's per-example NHWC value.
 *
 * - A feature map has a 4-D ONNX shape `[1, d1, d2, d3]` over a graph value `[H, W, C]`; `axes[i]` names the graph
 *   axis (0 = H, 1 = W, 2 = C) of ONNX axis `i + 1`. NCHW is `[2, 0, 1]`; a Transpose only permutes `axes`.
 * - A vector is a graph value `[N]` holding the C-order elements of its ONNX shape without the batch axis, in
 *   any rank (`[1, 784]`, `[1, 784, 1]`, `[1, C, 1, 1]` after a global pool; read as declared, also shapes
 *   without a batch axis such as `[784]` or `[4, 3]`). `unflattened` remembers the feature
 *   map a flatten came from, so that a Reshape back to that map's shape returns the map itself.
 */
import { elementCount } from '../../onnx/model.js';

/** Graph axis (0 = H, 1 = W, 2 = C) of each ONNX axis after the batch axis. */
export type AxisMap = readonly [number, number, number];

/** ONNX NCHW on a graph NHWC value. */
export const NCHW_AXES: AxisMap = [2, 0, 1];
/** ONNX NHWC (an input in the dataset's own layout). */
export const NHWC_AXES: AxisMap = [0, 1, 2];

export interface FeatureMap {
  readonly kind: 'map';
  /** The graph node (or `MODEL_INPUT`) whose value this is. */
  readonly ref: string;
  /** ONNX shape, batch axis first. */
  readonly shape: readonly [number, number, number, number];
  readonly axes: AxisMap;
}

export interface FlatVector {
  readonly kind: 'vector';
  readonly ref: string;
  /** ONNX shape, batch axis first (when read per example); the graph value has `elementCount(shape)` elements. */
  readonly shape: readonly number[];
  /** The feature map this vector is a flatten of (in the map's ONNX order), when known. */
  readonly unflattened?: FeatureMap;
}

export type Activation = FeatureMap | FlatVector;

/** The graph (NHWC) shape `[H, W, C]` of a feature map. */
export function graphShapeOf(m: FeatureMap): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  m.axes.forEach((g, i) => (out[g] = m.shape[i + 1]!));
  return out;
}

/** The ONNX shape of a graph value `[H, W, C]` seen through `axes`. */
export function onnxShapeOf(graphShape: readonly [number, number, number], axes: AxisMap): [number, number, number, number] {
  return [1, graphShape[axes[0]]!, graphShape[axes[1]]!, graphShape[axes[2]]!];
}

export function isNchw(m: FeatureMap): boolean {
  return m.axes.every((a, i) => a === NCHW_AXES[i]);
}

/** Number of elements per example (the batch is traced at size 1, so this is the whole tensor's). */
export function sizeOf(a: Activation): number {
  return elementCount(a.shape);
}

/**
 * The graph flatten order that lists a feature map's elements in its ONNX C order, or null when the order is
 * neither `chw` nor `hwc` (only axes of size > 1 matter).
 */
export function flattenOrderOf(m: FeatureMap): 'chw' | 'hwc' | null {
  const g = graphShapeOf(m);
  const big = (axes: readonly number[]): string => axes.filter((a) => g[a]! > 1).join(',');
  const mine = big(m.axes);
  // When both orders list the elements alike (one axis of size > 1), 'hwc' needs no reordering downstream.
  if (mine === big(NHWC_AXES)) return 'hwc';
  if (mine === big(NCHW_AXES)) return 'chw';
  return null;
}

/** A 4-D ONNX shape as a feature map's shape (the caller knows it has rank 4). */
export function mapShape(shape: readonly number[]): FeatureMap['shape'] {
  if (shape.length !== 4) throw new Error(`mapShape: rank ${shape.length}`);
  return [shape[0]!, shape[1]!, shape[2]!, shape[3]!];
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
