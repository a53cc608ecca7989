/**
 * What converting one Keras layer into graph nodes sees and gives: the tensors it takes (graph node and NHWC
 * per-example shape), the model's data format, the file's provenance and the layer's weights.
 */
import { QrobustError } from '../../core/errors.js';
import type { GraphNode } from '../../graph/model-graph.js';
import type { KerasProvenance } from './keras-version.js';
import type { DataFormat } from './layout.js';
import type { KerasLayerSpec } from './model-config.js';
import { shapeEquals, type Shape } from './shapes.js';
import { shapeText, type KerasWeight, type LayerWeights, type WeightRole } from './weights.js';

export interface KerasTensor {
  /** The graph node that produces it, or `MODEL_INPUT`. */
  readonly node: string;
  /** NHWC per-example shape: `[H, W, C]` or `[N]`. */
  readonly shape: Shape;
}

export interface ConvertContext {
  readonly file: string;
  /** How the Keras model lays out its feature maps (the graph is NHWC either way). */
  readonly format: DataFormat;
  readonly provenance: KerasProvenance;
  readonly weights: ReadonlyMap<string, LayerWeights>;
}

export interface Converted {
  readonly nodes: readonly GraphNode[];
  readonly output: KerasTensor;
  readonly strippedSoftmax?: boolean;
}

/** A layer that computes nothing at inference (Dropout, linear Activation): its input passes through. */
export function passThrough(input: KerasTensor): Converted {
  return { nodes: [], output: input };
}

export function one(node: GraphNode, shape: Shape, strippedSoftmax = false): Converted {
  return { nodes: [node], output: { node: node.name, shape }, ...(strippedSoftmax ? { strippedSoftmax } : {}) };
}

/**
 * The layer's weights by role, in the order `roles` lists them (Keras's own order), with their shapes checked;
 * a file whose names give no roles is matched by position.
 * @throws QrobustError('weights_mismatch') naming the file, the layer and both shapes.
 */
export function layerWeights(
  ctx: ConvertContext,
  layer: KerasLayerSpec,
  expected: readonly { readonly role: WeightRole; readonly shape: Shape }[],
): Float32Array[] {
  const found: readonly KerasWeight[] = ctx.weights.get(layer.name)?.weights ?? [];
  const describe = (ws: readonly { shape: Shape }[]): string => ws.map((w) => shapeText(w.shape)).join(', ') || 'none';
  if (found.length !== expected.length) {
    throw new QrobustError(
      'weights_mismatch',
      `${ctx.file}: layer '${layer.name}' (${layer.className}) has ${found.length} weights in the file (${describe(found)}), its config needs ${expected.length} (${describe(expected)})`,
    );
  }
  const byRole = found.every((w) => w.role !== null);
  return expected.map((e, i) => {
    const w = byRole ? found.find((f) => f.role === e.role) : found[i];
    if (!w) throw new QrobustError('weights_mismatch', `${ctx.file}: layer '${layer.name}' (${layer.className}) has no ${e.role} weight (it has ${found.map((f) => f.name).join(', ')})`);
    if (!shapeEquals(w.shape, e.shape)) {
      throw new QrobustError('weights_mismatch', `${ctx.file}: layer '${layer.name}' (${layer.className}): ${e.role} ${w.name} is ${shapeText(w.shape)} in the file, ${shapeText(e.shape)} expected`);
    }
    return w.data;
  });
}

/**
 * A Keras axis (counting the batch axis) of a tensor of this per-example shape, as an NHWC per-example axis
 * (−1 for channels and for the axis of a vector); null when it is the batch axis or out of range.
 */
export function graphAxis(kerasAxis: number, shape: Shape, format: DataFormat): number | null {
  const rank = shape.length + 1;
  const a = kerasAxis < 0 ? kerasAxis + rank : kerasAxis;
  if (a <= 0 || a >= rank) return null;
  if (shape.length === 1) return -1;
  if (format === 'channels_first') return a === 1 ? -1 : a - 2;
  return a === 3 ? -1 : a - 1;
}
