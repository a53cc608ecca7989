/**
 * `ModelGraph` → TF.js layers model: the executable, differentiable form of an imported network. The model takes
 * NHWC pixels `[null, H, W, C]` in [0,1], applies the declared preprocessing as a `Normalize` layer, then the
 * graph. A chain of layers that the layer graph (`models/graph.ts`) accepts becomes a `Sequential` of exactly
 * those layer classes, so quantization, QAT, the integer path and the verifier work on imports as on zoo models;
 * a `chw` flatten there becomes a row permutation of the dense kernel after it (exact), and a positive channel
 * affine of the input joins the `Normalize` in front. Any other graph becomes a
 * functional model (`build-functional.ts`) of stock layers where they fit.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { Normalize } from '../models/normalize-layer.js';
import { MODEL_INPUT, type GraphNode, type ModelGraph } from '../graph/model-graph.js';
import { buildFunctionalModel } from './build-functional.js';
import { activationLayer, chwDiffers, chwToHwcRows, convParts, denseParts, fusedName, namer, poolParts, unsupported, type PlannedLayer } from './build-parts.js';

export { chwToHwcRows };

export interface FrontEnd {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

function isChain(graph: ModelGraph): boolean {
  let prev = MODEL_INPUT;
  for (const n of graph.nodes) {
    if (n.inputs.length !== 1 || n.inputs[0] !== prev) return false;
    prev = n.name;
  }
  return prev === graph.output;
}

/** Whether a node becomes layer classes that `graphFromModel` accepts (`next` is the node after it). */
function sequentialNode(node: GraphNode, next: GraphNode | undefined): boolean {
  const op = node.op;
  switch (op.kind) {
    case 'dense':
      return fusedName(op.activation) !== null;
    case 'conv2d':
      return op.groups === 1 && typeof op.padding === 'string' && op.dilations.every((d) => d === 1) && fusedName(op.activation) !== null;
    case 'maxPool':
      return typeof op.padding === 'string';
    case 'activation':
      return op.activation.kind === 'relu';
    case 'flatten':
      // A chw flatten is exact only as a row permutation of the dense after it.
      return op.order === 'hwc' || next?.op.kind === 'dense';
    default:
      return false;
  }
}

/** Whether the graph becomes a Sequential model the layer graph accepts. */
export function isSequentialGraph(graph: ModelGraph): boolean {
  return isChain(graph) && graph.nodes.every((n, i) => sequentialNode(n, graph.nodes[i + 1]));
}

/** The layers of a sequential graph, in order (shapes tracked to fold a `chw` flatten into the next dense). */
function chainLayers(graph: ModelGraph, name: (raw: string) => string): PlannedLayer[] {
  const out: PlannedLayer[] = [];
  let shape: readonly number[] = graph.inputShape;
  /** Set by a `chw` flatten of a feature map whose order differs from TF.js's: the next dense reorders rows. */
  let pendingChw: readonly [number, number, number] | null = null;
  for (const node of graph.nodes) {
    const op = node.op;
    switch (op.kind) {
      case 'flatten':
        if (shape.length === 3) {
          if (op.order === 'chw' && chwDiffers(shape)) pendingChw = shape as [number, number, number];
          out.push({ layer: tfl.layers.flatten({ name: name(node.name) }), weights: [] });
        }
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'dense': {
        if (shape.length !== 1 || shape[0] !== op.kernelShape[0]) {
          throw unsupported(node, `input shape [${shape.join(',')}] does not fit kernel [${op.kernelShape.join(',')}]`);
        }
        const kernel = pendingChw ? chwToHwcRows(op.kernel, pendingChw, op.kernelShape[1]) : op.kernel;
        pendingChw = null;
        out.push(...denseParts(node, op, kernel, name(node.name)));
        shape = [op.kernelShape[1]];
        break;
      }
      case 'activation':
        out.push({ layer: activationLayer(op.activation, name(node.name), node), weights: [] });
        break;
      case 'conv2d':
      case 'maxPool': {
        if (shape.length !== 3) throw unsupported(node, `input shape [${shape.join(',')}] is not [H, W, C]`);
        const parts = op.kind === 'conv2d' ? convParts(node, op, shape[2]!, name(node.name)) : poolParts(op, name(node.name));
        out.push(...parts);
        for (const p of parts) shape = (p.layer.computeOutputShape([null, ...shape]) as number[]).slice(1);
        break;
      }
      default:
        throw unsupported(node, 'is not part of a sequential graph');
    }
  }
  return out;
}

function buildSequential(graph: ModelGraph, front: FrontEnd | undefined): tfl.LayersModel {
  const name = namer();
  const planned: PlannedLayer[] = [];
  if (front) planned.push({ layer: new Normalize({ mean: [...front.mean], std: [...front.std], name: name('normalize') }), weights: [] });
  try {
    planned.push(...chainLayers(graph, name));
    const model = tfl.sequential();
    model.add(tfl.layers.inputLayer({ inputShape: [...graph.inputShape], name: name('pixels') }));
    for (const p of planned) model.add(p.layer);
    for (const p of planned) if (p.weights.length) p.layer.setWeights([...p.weights]);
    return model;
  } finally {
    tf.dispose(planned.flatMap((p) => [...p.weights]));
  }
}

/**
 * A graph whose first node is a channel affine of the input with positive scales (preprocessing inside the
 * network, or a batch norm on the input), as the rest of the graph behind one `Normalize` that does both the
 * front end and that affine: `((x − m)/s)·a + b = (x − (m − b·s/a)) / (s/a)`. Null when it does not start so.
 */
function absorbLeadingAffine(graph: ModelGraph, front: FrontEnd | undefined): { readonly graph: ModelGraph; readonly front: FrontEnd } | null {
  const [first, ...rest] = graph.nodes;
  if (!first || first.op.kind !== 'channelAffine' || first.inputs[0] !== MODEL_INPUT || first.name === graph.output) return null;
  if (rest.some((n) => n.inputs.includes(MODEL_INPUT))) return null;
  const { scale, offset } = first.op;
  const channels = graph.inputShape[2];
  if (scale.length !== channels || scale.some((a) => !(a > 0))) return null;
  const at = (v: readonly number[] | undefined, i: number, dflt: number): number => (v === undefined ? dflt : v.length === 1 ? v[0]! : v[i]!);
  const mean = Array.from({ length: channels }, (_, i) => at(front?.mean, i, 0) - (offset[i]! * at(front?.std, i, 1)) / scale[i]!);
  const std = Array.from({ length: channels }, (_, i) => at(front?.std, i, 1) / scale[i]!);
  const nodes = rest.map((n) => ({ ...n, inputs: n.inputs.map((x) => (x === first.name ? MODEL_INPUT : x)) }));
  return { graph: { ...graph, nodes }, front: { mean, std } };
}

/**
 * Builds the TF.js model of a graph (see the module comment).
 * @throws QrobustError('unsupported_layer') naming the first node the builder cannot express.
 */
export function buildLayersModel(graph: ModelGraph, front?: FrontEnd): tfl.LayersModel {
  if (graph.nodes.length === 0) throw new QrobustError('unsupported_layer', 'the graph has no nodes');
  if (isSequentialGraph(graph)) return buildSequential(graph, front);
  const absorbed = absorbLeadingAffine(graph, front);
  if (absorbed && isSequentialGraph(absorbed.graph)) return buildSequential(absorbed.graph, absorbed.front);
  return buildFunctionalModel(graph, front);
}
