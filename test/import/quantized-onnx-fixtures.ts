/**
 * Quantized ONNX files written the way ONNX Runtime's static quantizer writes them, for the import tests:
 * a float network (NCHW, PyTorch-style Conv/MaxPool/Flatten/Gemm) is calibrated by running its float ONNX form
 * in onnxruntime-node (min-max over real images), then written in QDQ form (QuantizeLinear/DequantizeLinear
 * pairs on activations, int8 weights per channel behind DequantizeLinear, int32 biases on s_x·s_w, uint8
 * activations) or in QOperator form (QLinearConv). The grids come from the reference runtime, not from qrobust.
 */
import * as ort from 'onnxruntime-node';
import { DataType } from '../../src/onnx/schema.js';
import { writeOnnxModel } from '../../src/onnx/index.js';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from '../../src/onnx/model.js';

export type FloatLayer =
  | { readonly kind: 'conv'; readonly weight: Float32Array; readonly dims: readonly [number, number, number, number]; readonly bias: Float32Array; readonly pads: number; readonly relu: boolean }
  | { readonly kind: 'gemm'; readonly weight: Float32Array; readonly dims: readonly [number, number]; readonly bias: Float32Array; readonly relu: boolean }
  | { readonly kind: 'maxpool' }
  | { readonly kind: 'flatten' };

interface Grid {
  readonly scale: number;
  /** uint8 zero point. */
  readonly zp: number;
}

const ints = (name: string, value: number[]): OnnxAttribute => ({ name, type: 'ints', value });
const int = (name: string, value: number): OnnxAttribute => ({ name, type: 'int', value });

/** Writes a test graph node by node (fresh names, initializers) and its model envelope (opset 13). */
export class Writer {
  readonly nodes: OnnxNode[] = [];
  readonly inits: OnnxTensor[] = [];
  private n = 0;
  fresh(stem: string): string {
    return `${stem}_${this.n++}`;
  }
  init(stem: string, dataType: number, dims: number[], values: OnnxTensor['values']): string {
    const name = this.fresh(stem);
    this.inits.push({ name, dataType, dims, values });
    return name;
  }
  node(opType: string, inputs: string[], attributes: OnnxAttribute[] = [], out?: string): string {
    return this.nodeWithOutputs(opType, inputs, attributes, [out ?? this.fresh(opType.toLowerCase())])[0]!;
  }
  /** A node with several named outputs (e.g. DynamicQuantizeLinear's codes, scale and zero point). */
  nodeWithOutputs(opType: string, inputs: string[], attributes: OnnxAttribute[], outputs: string[]): string[] {
    this.nodes.push({ name: `${outputs[0]}_node`, opType, domain: '', inputs, outputs, attributes });
    return outputs;
  }
  model(inputShape: readonly number[], output: string): OnnxModel {
    return {
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'qrobust-test',
      producerVersion: '0',
      domain: '',
      modelVersion: 1,
      docString: '',
      graph: {
        name: 'g',
        nodes: this.nodes,
        initializers: this.inits,
        inputs: [{ name: 'input', elemType: DataType.FLOAT, shape: ['N', ...inputShape.slice(1)] }],
        outputs: [{ name: output, elemType: DataType.FLOAT, shape: null }],
        valueInfo: [],
      },
      metadataProps: [],
    };
  }
}

/** The float network, with every layer output also a graph output (for calibration). */
function floatModel(layers: readonly FloatLayer[], inputShape: number[]): { model: OnnxModel; taps: string[] } {
  const w = new Writer();
  let x = 'input';
  const taps: string[] = [];
  for (const l of layers) {
    x = floatLayer(w, l, x);
    taps.push(x);
  }
  const model = w.model(inputShape, x);
  return { model: { ...model, graph: { ...model.graph, outputs: taps.map((name) => ({ name, elemType: DataType.FLOAT, shape: null })) } }, taps };
}

function floatLayer(w: Writer, l: FloatLayer, x: string): string {
  switch (l.kind) {
    case 'conv': {
      const y = w.node('Conv', [x, w.init('W', DataType.FLOAT, [...l.dims], l.weight), w.init('B', DataType.FLOAT, [l.dims[0]], l.bias)], [ints('pads', [l.pads, l.pads, l.pads, l.pads])]);
      return l.relu ? w.node('Relu', [y]) : y;
    }
    case 'gemm': {
      const y = w.node('Gemm', [x, w.init('W', DataType.FLOAT, [...l.dims], l.weight), w.init('B', DataType.FLOAT, [l.dims[0]], l.bias)], [int('transB', 1)]);
      return l.relu ? w.node('Relu', [y]) : y;
    }
    case 'maxpool':
      return w.node('MaxPool', [x], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]);
    case 'flatten':
      return w.node('Flatten', [x], [int('axis', 1)]);
  }
}

/** Min-max uint8 grids of every layer output, measured by onnxruntime-node on the calibration images. */
async function calibrate(layers: readonly FloatLayer[], inputShape: number[], images: Float32Array, n: number): Promise<Grid[]> {
  const { model, taps } = floatModel(layers, inputShape);
  const session = await ort.InferenceSession.create(writeOnnxModel(model));
  const out = await session.run({ input: new ort.Tensor('float32', images, [n, ...inputShape.slice(1)]) });
  return taps.map((t) => {
    const v = out[t]!.data as Float32Array;
    let lo = 0;
    let hi = 0;
    for (const x of v) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    const scale = Math.fround((hi - lo) / 255 || 1);
    return { scale, zp: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
  });
}

function perChannelInt8(weight: Float32Array, channels: number): { codes: Int8Array; scales: Float32Array } {
  const per = weight.length / channels;
  const scales = new Float32Array(channels);
  const codes = new Int8Array(weight.length);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(weight[c * per + i]!));
    scales[c] = Math.fround(m / 127 || 1);
    for (let i = 0; i < per; i++) codes[c * per + i] = Math.max(-127, Math.min(127, Math.round(weight[c * per + i]! / scales[c]!)));
  }
  return { codes, scales };
}

export interface QuantizedOnnxFixture {
  readonly bytes: Uint8Array;
  /** The output tensor ONNX Runtime returns (dequantized logits). */
  readonly output: string;
}

/**
 * Writes the network quantized: `qdq` (activations Q/DQ, weights per channel behind DequantizeLinear) or
 * `qoperator` (QuantizeLinear → QLinearConv/MaxPool → DequantizeLinear; conv layers only).
 */
export async function quantizedOnnx(
  form: 'qdq' | 'qoperator',
  layers: readonly FloatLayer[],
  inputShape: number[],
  calibration: Float32Array,
  n: number,
): Promise<QuantizedOnnxFixture> {
  const grids = await calibrate(layers, inputShape, calibration, n);
  const w = new Writer();
  const inGrid: Grid = { scale: Math.fround(1 / 255), zp: 0 };
  const gridConsts = (g: Grid): [string, string] => [w.init('s', DataType.FLOAT, [], Float32Array.of(g.scale)), w.init('zp', DataType.UINT8, [], Uint8Array.of(g.zp))];
  const qdq = (x: string, g: Grid): string => {
    const [s, z] = gridConsts(g);
    return w.node('DequantizeLinear', [w.node('QuantizeLinear', [x, s, z]), s, z]);
  };
  let grid = inGrid;
  let x = form === 'qdq' ? qdq('input', inGrid) : w.node('QuantizeLinear', ['input', ...gridConsts(inGrid)]);
  layers.forEach((l, k) => {
    // A MaxPool or Flatten keeps its input's grid (as ONNX Runtime's quantizer arranges it).
    const out = l.kind === 'conv' || l.kind === 'gemm' ? grids[k]! : grid;
    if (l.kind === 'maxpool' || l.kind === 'flatten') {
      x = floatLayer(w, l, x);
      if (form === 'qdq') x = qdq(x, out);
      return;
    }
    const channels = l.dims[0];
    const { codes, scales } = perChannelInt8(l.weight, channels);
    const biasScale = Float32Array.from(scales, (s) => Math.fround(grid.scale * s));
    const biasCodes = Int32Array.from(l.bias, (b, c) => Math.round(b / biasScale[c]!));
    const wq = w.init('Wq', DataType.INT8, [...l.dims], codes);
    const ws = w.init('ws', DataType.FLOAT, [channels], scales);
    const wz = w.init('wz', DataType.INT8, [channels], new Int8Array(channels));
    const bq = w.init('Bq', DataType.INT32, [channels], biasCodes);
    if (form === 'qdq') {
      const weight = w.node('DequantizeLinear', [wq, ws, wz], [int('axis', 0)]);
      const bias = w.node('DequantizeLinear', [bq, w.init('bs', DataType.FLOAT, [channels], biasScale), w.init('bz', DataType.INT32, [channels], new Int32Array(channels))], [int('axis', 0)]);
      const y = l.kind === 'conv'
        ? w.node('Conv', [x, weight, bias], [ints('pads', [l.pads, l.pads, l.pads, l.pads])])
        : w.node('Gemm', [x, weight, bias], [int('transB', 1)]);
      // ONNX Runtime's quantizer drops a ReLU whose output grid starts at zero; keep it otherwise.
      x = qdq(l.relu && out.zp !== 0 ? w.node('Relu', [y]) : y, out);
    } else {
      if (l.kind !== 'conv') throw new Error('the QOperator fixture writes conv layers only');
      const [xs, xz] = gridConsts(grid);
      const [ys, yz] = gridConsts(out);
      x = w.node('QLinearConv', [x, xs, xz, wq, ws, wz, ys, yz, bq], [ints('pads', [l.pads, l.pads, l.pads, l.pads])]);
    }
    grid = out;
  });
  if (form === 'qoperator') x = w.node('DequantizeLinear', [x, ...gridConsts(grid)]);
  const output = w.node('Identity', [x], [], 'logits');
  return { bytes: writeOnnxModel(w.model(inputShape, output)), output };
}
