/**
 * A weights-only Keras file (no `model_config`) as a graph: the topology from `--arch`, the weights matched to
 * its layers in the file's layer order (`layer_names`), every shape checked.
 */
import { QrobustError } from '../../core/errors.js';
import { MODEL_INPUT, type GraphNode, type ModelGraph } from '../../graph/model-graph.js';
import type { InputLayout } from '../types.js';
import { describeArchLayer, type ArchLayer } from './arch.js';
import { flipKernelSpatially, thKernelToHwio } from './kernels.js';
import type { KerasProvenance } from './keras-version.js';
import { flattenOrderOf } from './layout.js';
import { elementCount, shapeEquals, spatialOutput, type Shape } from './shapes.js';
import { shapeText, type KerasWeight, type LayerWeights } from './weights.js';

export interface WeightsOnlyInput {
  readonly file: string;
  readonly archText: string;
  readonly arch: readonly ArchLayer[];
  readonly layers: readonly LayerWeights[];
  readonly imageShape: readonly [number, number, number];
  readonly layout: InputLayout;
  readonly provenance: KerasProvenance;
}

function mismatch(file: string, message: string): QrobustError {
  return new QrobustError('weights_mismatch', `${file}: ${message}`);
}

/** The kernel and bias of a layer: by role where the names say it, else by rank (2+ kernel, 1 bias). */
function kernelAndBias(file: string, lw: LayerWeights): { kernel: KerasWeight; bias: KerasWeight | null } {
  const kernel = lw.weights.find((w) => w.role === 'kernel') ?? lw.weights.find((w) => w.shape.length >= 2);
  const bias = lw.weights.find((w) => w.role === 'bias') ?? lw.weights.find((w) => w.shape.length === 1 && w !== kernel) ?? null;
  const known = [kernel, bias].filter((w) => w !== undefined && w !== null).length;
  if (!kernel || known !== lw.weights.length) {
    throw mismatch(file, `layer '${lw.layer}' holds ${lw.weights.map((w) => `${w.name} ${shapeText(w.shape)}`).join(', ')}: expected a kernel and a bias`);
  }
  return { kernel, bias };
}

function checkShape(file: string, lw: LayerWeights, what: string, w: KerasWeight, expected: Shape, spec: ArchLayer): void {
  if (!shapeEquals(w.shape, expected)) {
    throw mismatch(file, `layer '${lw.layer}' (${describeArchLayer(spec)}): ${what} ${w.name} is ${shapeText(w.shape)} in the file, ${shapeText(expected)} expected`);
  }
}

function biasOf(file: string, lw: LayerWeights, bias: KerasWeight | null, units: number, spec: ArchLayer): Float32Array {
  if (!bias) return new Float32Array(units);
  checkShape(file, lw, 'bias', bias, [units], spec);
  return bias.data;
}

/** Builds the graph (see the module comment). */
export function weightsOnlyGraph(o: WeightsOnlyInput): ModelGraph {
  const withWeights = o.layers.filter((l) => l.weights.length > 0);
  const needing = o.arch.filter((l) => l.kind !== 'maxPool');
  if (withWeights.length !== needing.length) {
    const inFile = withWeights.map((l) => `${l.layer} ${l.weights.map((w) => shapeText(w.shape)).join('+')}`).join(', ');
    throw mismatch(o.file, `--arch ${o.archText} has ${needing.length} layers with weights, the file has ${withWeights.length} (${inFile || 'none'})`);
  }
  const nodes: GraphNode[] = [];
  let prev = MODEL_INPUT;
  let shape: Shape = o.imageShape;
  const add = (node: GraphNode, next: Shape): void => {
    nodes.push(node);
    prev = node.name;
    shape = next;
  };
  const thKernels = o.provenance.major === 1 && o.layout === 'nchw';
  const theano = o.provenance.backend === 'theano';
  let w = 0;
  o.arch.forEach((spec, i) => {
    const last = i === o.arch.length - 1;
    const activation = last ? ({ kind: 'linear' } as const) : ({ kind: 'relu' } as const);
    if (spec.kind === 'maxPool') {
      add({ name: `max_pool_${i + 1}`, op: { kind: 'maxPool', poolSize: [2, 2], strides: [2, 2], padding: 'valid' }, inputs: [prev] }, spatialOutput(shape, [2, 2], [2, 2], [1, 1], 'valid', shape[2]!));
      return;
    }
    const lw = withWeights[w++]!;
    const { kernel, bias } = kernelAndBias(o.file, lw);
    if (spec.kind === 'conv') {
      const ci = shape[2]!;
      const hwio = [3, 3, ci, spec.filters] as const;
      checkShape(o.file, lw, 'kernel', kernel, thKernels ? [spec.filters, ci, 3, 3] : hwio, spec);
      let data = thKernels ? thKernelToHwio(kernel.data, [spec.filters, ci, 3, 3]) : kernel.data;
      if (theano) data = flipKernelSpatially(data, hwio);
      const op = { kind: 'conv2d', kernel: data, kernelShape: hwio, bias: biasOf(o.file, lw, bias, spec.filters, spec), strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 1, activation } as const;
      add({ name: lw.layer, op, inputs: [prev] }, [shape[0]!, shape[1]!, spec.filters]);
      return;
    }
    if (shape.length === 3) {
      const order = flattenOrderOf(o.layout);
      add({ name: 'flatten', op: { kind: 'flatten', order }, inputs: [prev] }, [elementCount(shape)]);
    }
    checkShape(o.file, lw, 'kernel', kernel, [shape[0]!, spec.units], spec);
    add({ name: lw.layer, op: { kind: 'dense', kernel: kernel.data, kernelShape: [shape[0]!, spec.units], bias: biasOf(o.file, lw, bias, spec.units, spec), activation }, inputs: [prev] }, [spec.units]);
  });
  return { inputShape: o.imageShape, nodes, output: prev };
}
