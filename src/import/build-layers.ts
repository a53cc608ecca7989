/**
 * `ModelGraph` → TF.js layers model: the executable, differentiable form of an imported network. The model takes
 * NHWC pixels `[null, H, W, C]` in [0,1], applies the declared preprocessing as a `Normalize` layer, then the
 * graph. A chain of layers that the layer graph (`models/graph.ts`) accepts becomes a `Sequential` of exactly
 * those layer classes, so quantization, QAT, the integer path and the verifier work on imports as on zoo models.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { Normalize } from '../models/normalize-layer.js';
import { MODEL_INPUT, type Activation, type DenseOp, type GraphNode, type ModelGraph } from '../graph/model-graph.js';

export interface FrontEnd {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** One layer with the weights to set once the model is built. */
interface PlannedLayer {
  readonly layer: tfl.layers.Layer;
  readonly weights: readonly tf.Tensor[];
}

function unsupported(node: GraphNode, why: string): QrobustError {
  return new QrobustError('unsupported_layer', `node '${node.name}' (${node.op.kind}): ${why}`);
}

/** Layer names: the node's name with characters TF.js rejects replaced, made unique. */
function namer(): (raw: string) => string {
  const used = new Set<string>();
  return (raw) => {
    const base = raw.replace(/[^A-Za-z0-9_.\-/]/g, '_').replace(/^[^A-Za-z0-9]/, 'n') || 'layer';
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
}

/** The TF.js activation string of a fused activation, or null when it needs its own layer. */
function fusedName(a: Activation): 'relu' | 'linear' | null {
  return a.kind === 'relu' || a.kind === 'linear' ? a.kind : null;
}

function activationLayer(a: Activation, name: string, node: GraphNode): tfl.layers.Layer {
  switch (a.kind) {
    case 'linear':
    case 'relu':
    case 'sigmoid':
    case 'tanh':
      return tfl.layers.activation({ activation: a.kind, name });
    case 'leakyRelu':
      return tfl.layers.leakyReLU({ alpha: a.alpha, name });
    case 'clip':
      if (a.min === 0) return tfl.layers.reLU({ maxValue: a.max, name });
      throw unsupported(node, `clip to [${a.min}, ${a.max}] is not supported (only [0, max])`);
    case 'sign':
      throw unsupported(node, 'sign activations are not executable as a float TF.js model');
  }
}

/**
 * The kernel rows of a dense layer that follows a `chw` flatten of `[H, W, C]`, reordered for TF.js's `hwc`
 * flatten: row `(h·W + w)·C + c` of the result is row `c·H·W + h·W + w` of the source.
 */
export function chwToHwcRows(kernel: Float32Array, shape: readonly [number, number, number], units: number): Float32Array {
  const [h, w, c] = shape;
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const src = (k * h * w + y * w + x) * units;
        const dst = ((y * w + x) * c + k) * units;
        out.set(kernel.subarray(src, src + units), dst);
      }
    }
  }
  return out;
}

function isChain(graph: ModelGraph): boolean {
  let prev = MODEL_INPUT;
  for (const n of graph.nodes) {
    if (n.inputs.length !== 1 || n.inputs[0] !== prev) return false;
    prev = n.name;
  }
  return prev === graph.output;
}

function denseLayer(node: GraphNode, op: DenseOp, kernel: Float32Array, name: string, out: PlannedLayer[]): void {
  const [inSize, units] = op.kernelShape;
  if (op.bias.length !== units || kernel.length !== inSize * units) throw unsupported(node, 'kernel or bias size does not match its shape');
  const fused = fusedName(op.activation);
  out.push({
    layer: tfl.layers.dense({ units, activation: fused ?? 'linear', useBias: true, name }),
    weights: [tf.tensor2d(kernel, [inSize, units]), tf.tensor1d(op.bias)],
  });
  if (fused === null) out.push({ layer: activationLayer(op.activation, `${name}_act`, node), weights: [] });
}

/** The layers of a chain graph, in order (shapes tracked to fold a `chw` flatten into the next dense). */
function chainLayers(graph: ModelGraph, name: (raw: string) => string): PlannedLayer[] {
  const out: PlannedLayer[] = [];
  let shape: readonly number[] = graph.inputShape;
  /** Set by a `chw` flatten of a feature map whose order differs from TF.js's: the next dense reorders rows. */
  let pendingChw: readonly [number, number, number] | null = null;
  for (const node of graph.nodes) {
    const op = node.op;
    if (pendingChw && op.kind !== 'dense') throw unsupported(node, "a 'chw' flatten must feed a dense layer");
    switch (op.kind) {
      case 'flatten': {
        if (shape.length === 3) {
          const [h, w, c] = shape as [number, number, number];
          if (op.order === 'chw' && c > 1 && h * w > 1) pendingChw = [h, w, c];
          out.push({ layer: tfl.layers.flatten({ name: name(node.name) }), weights: [] });
        }
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      }
      case 'dense': {
        if (shape.length !== 1 || shape[0] !== op.kernelShape[0]) {
          throw unsupported(node, `input shape [${shape.join(',')}] does not fit kernel [${op.kernelShape.join(',')}]`);
        }
        const kernel = pendingChw ? chwToHwcRows(op.kernel, pendingChw, op.kernelShape[1]) : op.kernel;
        pendingChw = null;
        denseLayer(node, op, kernel, name(node.name), out);
        shape = [op.kernelShape[1]];
        break;
      }
      case 'activation':
        out.push({ layer: activationLayer(op.activation, name(node.name), node), weights: [] });
        break;
      case 'conv2d': {
        if (shape.length !== 3) throw unsupported(node, `input shape [${shape.join(',')}] is not [H, W, C]`);
        if (op.groups !== 1) throw unsupported(node, `grouped convolution (groups ${op.groups}) is not supported yet`);
        if (typeof op.padding !== 'string') throw unsupported(node, 'explicit padding is not supported yet');
        const [kh, kw, ci, co] = op.kernelShape;
        if (ci !== shape[2]) throw unsupported(node, `kernel expects ${ci} input channels, the input has ${shape[2]}`);
        const fused = fusedName(op.activation);
        const lname = name(node.name);
        const layer = tfl.layers.conv2d({
          filters: co,
          kernelSize: [kh, kw],
          strides: [...op.strides],
          dilationRate: [...op.dilations],
          padding: op.padding,
          activation: fused ?? 'linear',
          useBias: true,
          name: lname,
        });
        out.push({ layer, weights: [tf.tensor4d(op.kernel, [kh, kw, ci, co]), tf.tensor1d(op.bias)] });
        if (fused === null) out.push({ layer: activationLayer(op.activation, `${lname}_act`, node), weights: [] });
        shape = (layer.computeOutputShape([null, ...shape]) as number[]).slice(1);
        break;
      }
      case 'maxPool': {
        if (shape.length !== 3) throw unsupported(node, `input shape [${shape.join(',')}] is not [H, W, C]`);
        if (typeof op.padding !== 'string') throw unsupported(node, 'explicit padding is not supported yet');
        const layer = tfl.layers.maxPooling2d({ poolSize: [...op.poolSize], strides: [...op.strides], padding: op.padding, name: name(node.name) });
        out.push({ layer, weights: [] });
        shape = (layer.computeOutputShape([null, ...shape]) as number[]).slice(1);
        break;
      }
      default:
        throw unsupported(node, 'not supported by the layers builder yet');
    }
  }
  if (pendingChw) throw new QrobustError('unsupported_layer', "the graph ends in a 'chw' flatten");
  return out;
}

/**
 * Builds the TF.js model of a graph (see the module comment).
 * @throws QrobustError('unsupported_layer') naming the first node the builder cannot express.
 */
export function buildLayersModel(graph: ModelGraph, front?: FrontEnd): tfl.LayersModel {
  if (!isChain(graph)) throw new QrobustError('unsupported_layer', 'graphs with branches are not supported by the layers builder yet');
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
