/**
 * Building ONNX graphs node by node, for qrobust's exporters: fresh tensor names, initializers, nodes, and the
 * model envelope every exported file shares (IR version 7, opset 13, input `pixels` float32 NHWC with a symbolic
 * batch dimension).
 */
import { DataType } from './schema.js';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './model.js';

/** Opset 13: per-axis QuantizeLinear/DequantizeLinear, Max/Min on int8, Gemm, Conv, MaxPool with pads. */
export const EXPORT_OPSET = 13;
/** The name of the input every exported model takes (float32 NHWC pixels in the model's pixel range). */
export const PIXELS_INPUT = 'pixels';
/** The symbolic batch dimension of exported inputs and outputs. */
export const BATCH_DIM = 'batch';

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private counter = 0;

  fresh(stem: string): string {
    return `${stem}_${this.counter++}`;
  }

  constant(stem: string, dataType: number, dims: number[], values: OnnxTensor['values']): string {
    const name = this.fresh(stem);
    this.initializers.push({ name, dataType, dims, values });
    return name;
  }

  scalarFloat(stem: string, v: number): string {
    return this.constant(stem, DataType.FLOAT, [], Float32Array.of(v));
  }

  scalarInt8(stem: string, v: number): string {
    return this.constant(stem, DataType.INT8, [], Int8Array.of(v));
  }

  node(opType: string, inputs: string[], attributes: OnnxAttribute[] = [], stem = opType.toLowerCase()): string {
    const out = this.fresh(stem);
    this.nodes.push({ name: `${out}_node`, opType, domain: '', inputs, outputs: [out], attributes });
    return out;
  }

  /** A node that writes the graph output `output` (a name that `fresh` never makes). */
  output(opType: string, inputs: string[], output: string): void {
    this.nodes.push({ name: `${output}_node`, opType, domain: '', inputs, outputs: [output], attributes: [] });
  }
}

export function ints(name: string, value: number[]): OnnxAttribute {
  return { name, type: 'ints', value };
}

/** The Sub mean → Mul 1/std nodes of a normalize step (float32 mean and 1/std, one per channel or one for all). */
export function normalizeNodes(b: GraphBuilder, x: string, mean: Float32Array, invStd: Float32Array): string {
  const y = b.node('Sub', [x, b.constant('mean', DataType.FLOAT, [mean.length], mean)]);
  return b.node('Mul', [y, b.constant('inv_std', DataType.FLOAT, [invStd.length], invStd)]);
}

export interface ExportedGraph {
  readonly name: string;
  readonly docString: string;
  readonly builder: GraphBuilder;
  /** Per-example input shape `[H, W, C]`. */
  readonly inputShape: readonly [number, number, number];
  /** The graph outputs, each `[batch, size]`. */
  readonly outputs: readonly { readonly name: string; readonly elemType: number; readonly size: number }[];
}

/** The ONNX model of a built graph, with input `pixels` float32 `[batch, H, W, C]`. */
export function exportedModel(g: ExportedGraph): OnnxModel {
  const [h, w, c] = g.inputShape;
  const outputs: OnnxValueInfo[] = g.outputs.map((o) => ({ name: o.name, elemType: o.elemType, shape: [BATCH_DIM, o.size] }));
  return {
    irVersion: 7,
    opsetImport: [{ domain: '', version: EXPORT_OPSET }],
    producerName: 'qrobust',
    producerVersion: '',
    domain: '',
    modelVersion: 1,
    docString: g.docString,
    graph: {
      name: g.name,
      nodes: g.builder.nodes,
      initializers: g.builder.initializers,
      inputs: [{ name: PIXELS_INPUT, elemType: DataType.FLOAT, shape: [BATCH_DIM, h, w, c] }],
      outputs,
      valueInfo: [],
    },
    metadataProps: [],
  };
}
