/**
 * `ModelGraph` → functional TF.js model (`tf.model`) for graphs that are not a plain sequential chain: branches
 * (residual `add`, `concat`), depthwise and grouped convolutions, explicit padding, average and global pooling,
 * channel-affine nodes and activations beyond ReLU. Stock tfjs-layers classes wherever one fits; a `chw`
 * flatten read only by dense layers becomes a row permutation of their kernels, any other a Permute then Flatten.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { MODEL_INPUT, type GraphNode, type ModelGraph } from '../graph/model-graph.js';
import { Normalize } from '../models/normalize-layer.js';
import { activationLayer, chwDiffers, chwToHwcRows, convParts, denseParts, namer, poolParts, unsupported, type PlannedLayer } from './build-parts.js';
import type { FrontEnd } from './build-layers.js';
import { ChannelAffine } from './layers/channel-affine.js';
import { ConstantPad2D } from './layers/constant-pad.js';

type Sym = tfl.SymbolicTensor;

/** The per-example shape of a symbolic tensor. */
function shapeOf(x: Sym): number[] {
  return x.shape.slice(1) as number[];
}

/** Graph nodes that read each node. */
function readersOf(graph: ModelGraph): Map<string, GraphNode[]> {
  const readers = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  return readers;
}

class FunctionalBuilder {
  private readonly values = new Map<string, Sym>();
  /** Flatten nodes (chw of a map whose order differs) that their dense readers undo by permuting rows. */
  private readonly chwFolded = new Map<string, readonly [number, number, number]>();
  private readonly readers: Map<string, GraphNode[]>;
  private readonly name = namer();
  private readonly weights: tf.Tensor[] = [];

  constructor(private readonly graph: ModelGraph) {
    this.readers = readersOf(graph);
  }

  /** Applies layers in order, setting each one's weights once it is built. */
  private chain(parts: readonly PlannedLayer[], x: Sym | Sym[]): Sym {
    let y = x;
    for (const p of parts) {
      this.weights.push(...p.weights);
      y = p.layer.apply(y) as Sym;
      if (p.weights.length) p.layer.setWeights([...p.weights]);
    }
    return y as Sym;
  }

  private input(node: GraphNode, i = 0): Sym {
    return this.values.get(node.inputs[i]!)!;
  }

  private mapInput(node: GraphNode): Sym {
    const x = this.input(node);
    if (x.shape.length !== 4) throw unsupported(node, `input shape [${shapeOf(x).join(',')}] is not [H, W, C]`);
    return x;
  }

  private lower(node: GraphNode): Sym {
    const op = node.op;
    const lname = this.name(node.name);
    switch (op.kind) {
      case 'conv2d': {
        const x = this.mapInput(node);
        return this.chain(convParts(node, op, x.shape[3]!, lname), x);
      }
      case 'dense': {
        const x = this.input(node);
        const from = this.chwFolded.get(node.inputs[0]!);
        const kernel = from ? chwToHwcRows(op.kernel, from, op.kernelShape[1]) : op.kernel;
        if (x.shape.length !== 2 || x.shape[1] !== op.kernelShape[0]) throw unsupported(node, `input shape [${shapeOf(x).join(',')}] does not fit kernel [${op.kernelShape.join(',')}]`);
        return this.chain(denseParts(node, op, kernel, lname), x);
      }
      case 'maxPool':
      case 'avgPool':
        return this.chain(poolParts(op, lname), this.mapInput(node));
      case 'globalAvgPool':
        return this.chain([{ layer: tfl.layers.globalAveragePooling2d({ name: lname }), weights: [] }], this.mapInput(node));
      case 'channelAffine': {
        const x = this.input(node);
        const last = x.shape[x.shape.length - 1];
        if (op.scale.length !== last || op.offset.length !== last) throw unsupported(node, `${op.scale.length} scales for a last axis of ${last}`);
        return this.chain([{ layer: new ChannelAffine({ scale: [...op.scale], offset: [...op.offset], name: lname }), weights: [] }], x);
      }
      case 'flatten':
        return this.flatten(node, op.order, lname);
      case 'activation':
        return this.chain([{ layer: activationLayer(op.activation, lname, node), weights: [] }], this.input(node));
      case 'add': {
        const xs = node.inputs.map((_, i) => this.input(node, i));
        if (xs.length < 2) throw unsupported(node, 'needs two or more inputs');
        return this.chain([{ layer: tfl.layers.add({ name: lname }), weights: [] }], xs);
      }
      case 'concat': {
        const xs = node.inputs.map((_, i) => this.input(node, i));
        const rank = xs[0]!.shape.length - 1;
        const axis = op.axis < 0 ? op.axis : op.axis + 1;
        if (op.axis >= rank || op.axis < -rank) throw unsupported(node, `axis ${op.axis} is out of range for rank ${rank}`);
        if (xs.length === 1) return xs[0]!;
        return this.chain([{ layer: tfl.layers.concatenate({ axis, name: lname }), weights: [] }], xs);
      }
      case 'pad': {
        const [t, b, l, r] = op.pads;
        const layer = op.value === 0 ? tfl.layers.zeroPadding2d({ padding: [[t, b], [l, r]], name: lname }) : new ConstantPad2D({ pads: [t, b, l, r], value: op.value, name: lname });
        return this.chain([{ layer, weights: [] }], this.mapInput(node));
      }
    }
  }

  private flatten(node: GraphNode, order: 'chw' | 'hwc', lname: string): Sym {
    const x = this.input(node);
    const shape = shapeOf(x);
    if (shape.length === 1) return x;
    const flat = { layer: tfl.layers.flatten({ name: lname }), weights: [] };
    if (order === 'hwc' || !chwDiffers(shape)) return this.chain([flat], x);
    const readers = this.readers.get(node.name) ?? [];
    if (node.name !== this.graph.output && readers.length > 0 && readers.every((r) => r.op.kind === 'dense')) {
      this.chwFolded.set(node.name, shape as [number, number, number]);
      return this.chain([flat], x);
    }
    const permute = { layer: tfl.layers.permute({ dims: [3, 1, 2], name: `${lname}_chw` }), weights: [] };
    return this.chain([permute, flat], x);
  }

  build(front: FrontEnd | undefined): tfl.LayersModel {
    try {
      const input = tfl.input({ shape: [...this.graph.inputShape], name: this.name('pixels') });
      let x: Sym = input;
      if (front) x = this.chain([{ layer: new Normalize({ mean: [...front.mean], std: [...front.std], name: this.name('normalize') }), weights: [] }], x);
      this.values.set(MODEL_INPUT, x);
      for (const node of this.graph.nodes) {
        for (const i of node.inputs) if (!this.values.has(i)) throw unsupported(node, `reads '${i}', which no earlier node produces`);
        this.values.set(node.name, this.lower(node));
      }
      const output = this.values.get(this.graph.output);
      if (!output) throw new QrobustError('unsupported_layer', `the graph output '${this.graph.output}' is not a node`);
      if (output.shape.length !== 2) throw new QrobustError('unsupported_layer', `the graph output '${this.graph.output}' has shape [${shapeOf(output).join(',')}], not a vector of logits`);
      return tfl.model({ inputs: input, outputs: output });
    } finally {
      tf.dispose(this.weights);
    }
  }
}

/**
 * Builds a functional TF.js model of any graph the builder can express.
 * @throws QrobustError('unsupported_layer') naming the first node it cannot express.
 */
export function buildFunctionalModel(graph: ModelGraph, front?: FrontEnd): tfl.LayersModel {
  return new FunctionalBuilder(graph).build(front);
}
