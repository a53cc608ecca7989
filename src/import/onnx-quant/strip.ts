/**
 * Quantized ONNX models (QDQ and QOperator forms, as ONNX Runtime's static quantizer and qrobust's own export
 * write them) split into a float ONNX model and the quantizers that were on its tensors.
 *
 * - Constants behind `DequantizeLinear` (weights, int32 biases) become float initializers holding the
 *   dequantized values `(q − zp) · scale`, with their codes and parameters kept.
 * - An activation `QuantizeLinear` or `DequantizeLinear` becomes `Identity`; the grid it puts on its output is
 *   recorded under the output's name (a QDQ pair records the same grid twice).
 * - `QLinearConv` / `QLinearMatMul` become `Conv` / `MatMul` on dequantized weights (the QLinearConv bias,
 *   int32 on the grid s_x·s_w, is dequantized too), with their input and output grids recorded.
 * - `MaxPool` on codes is kept: it commutes with the monotone dequantization.
 * Anything quantized that the integer path cannot hold (QLinearAdd and the other com.microsoft operators,
 * `ConvInteger`/`MatMulInteger` outside dynamic quantization, which `dynamic.ts` reads) is refused in one line.
 *
 * uint8 grids are stored as the equivalent int8 grids (zero point − 128): the real values, the rounding and
 * the saturation are the same, the codes are shifted by 128.
 */
import { QrobustError } from '../../core/errors.js';
import { describeNode } from '../../onnx/attributes.js';
import { DataType } from '../../onnx/schema.js';
import type { OnnxModel, OnnxNode, OnnxTensor } from '../../onnx/model.js';

/** A grid of one tensor, per tensor (one scale) or per channel along `axis` of the ONNX tensor. */
export interface OnnxGrid {
  readonly scale: readonly number[];
  /** In the int8 convention (uint8 zero points minus 128; int32 biases as they are). */
  readonly zeroPoint: readonly number[];
  /** Null for a per-tensor grid. */
  readonly axis: number | null;
  readonly source: 'int8' | 'uint8' | 'int32';
}

/** A quantized constant: its grid and codes (int8 convention). */
export interface QuantizedConstant {
  readonly grid: OnnxGrid;
  readonly codes: Int32Array;
  readonly dims: readonly number[];
}

export interface StrippedModel {
  readonly float: OnnxModel;
  readonly form: 'qdq' | 'qoperator';
  /** Grids on activation tensors of `float`, by tensor name. */
  readonly activations: ReadonlyMap<string, OnnxGrid>;
  /** Quantized constants of `float`, by initializer name. */
  readonly constants: ReadonlyMap<string, QuantizedConstant>;
}

const QUANTIZATION_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'QLinearConv', 'QLinearMatMul']);
const REFUSED: Readonly<Record<string, string>> = {
  DynamicQuantizeLinear: 'static and dynamic quantization in one model are not supported',
  ConvInteger: 'ConvInteger is supported only behind DynamicQuantizeLinear (dynamic quantization)',
  MatMulInteger: 'MatMulInteger is supported only behind DynamicQuantizeLinear (dynamic quantization)',
};

/** True when the model holds any quantization operator. */
export function isQuantizedOnnx(model: OnnxModel): boolean {
  return model.graph.nodes.some((n) => QUANTIZATION_OPS.has(n.opType) || n.opType in REFUSED || n.domain === 'com.microsoft');
}

class Stripper {
  readonly consts = new Map<string, OnnxTensor>();
  readonly activations = new Map<string, OnnxGrid>();
  readonly constants = new Map<string, QuantizedConstant>();
  readonly newInitializers: OnnxTensor[] = [];
  private counter = 0;

  constructor(readonly file: string, model: OnnxModel) {
    for (const t of model.graph.initializers) this.consts.set(t.name, t);
    for (const n of model.graph.nodes) {
      if (n.opType !== 'Constant') continue;
      const v = n.attributes.find((a) => a.name === 'value');
      if (v?.type === 'tensor') this.consts.set(n.outputs[0]!, { ...v.value, name: n.outputs[0]! });
    }
  }

  fail(node: OnnxNode, why: string): never {
    throw new QrobustError('unsupported_layer', `${this.file}: ${describeNode(node)}: ${why}`);
  }

  constant(node: OnnxNode, name: string | undefined, what: string): OnnxTensor {
    const t = name ? this.consts.get(name) : undefined;
    if (!t) this.fail(node, `${what} '${name ?? ''}' must be a constant`);
    return t;
  }

  /** The grid given by a scale and an optional zero-point input. */
  grid(node: OnnxNode, scaleName: string | undefined, zpName: string | undefined, axis: number | null): OnnxGrid {
    const scale = numbers(this.constant(node, scaleName, 'scale'));
    if (scale.some((s) => !(s > 0) || !Number.isFinite(s))) this.fail(node, `scale must be positive and finite, got ${scale.slice(0, 4).join(',')}`);
    const zpT = zpName ? this.constant(node, zpName, 'zero point') : null;
    const type = zpT?.dataType ?? DataType.UINT8;
    const source = type === DataType.UINT8 ? 'uint8' : type === DataType.INT8 ? 'int8' : type === DataType.INT32 ? 'int32' : null;
    if (source === null) this.fail(node, `zero point of data type ${type} is not supported (int8, uint8 or int32)`);
    const shift = source === 'uint8' ? 128 : 0;
    const zp = zpT ? numbers(zpT).map((v) => v - shift) : scale.map(() => -shift);
    if (zp.length !== scale.length) this.fail(node, `${scale.length} scales but ${zp.length} zero points`);
    return { scale, zeroPoint: zp, axis: scale.length === 1 ? null : axis, source };
  }

  /** Dequantizes a constant and records it; returns the name of the float initializer. */
  dequantizeConstant(node: OnnxNode, codesName: string, grid: OnnxGrid, outName: string): string {
    const t = this.constant(node, codesName, 'quantized constant');
    const expected = grid.source === 'int32' ? DataType.INT32 : grid.source === 'uint8' ? DataType.UINT8 : DataType.INT8;
    if (t.dataType !== expected && !(grid.source === 'int32' && t.dataType === DataType.INT32)) {
      this.fail(node, `constant '${codesName}' has data type ${t.dataType}, its zero point says ${grid.source}`);
    }
    const shift = grid.source === 'uint8' ? 128 : 0;
    const codes = Int32Array.from(numbers(t), (v) => v - shift);
    const dims = [...t.dims];
    const values = new Float32Array(codes.length);
    const { stride, count } = axisLayout(dims, grid.axis);
    for (let i = 0; i < codes.length; i++) {
      const c = grid.axis === null ? 0 : Math.floor(i / stride) % count;
      values[i] = Math.fround((codes[i]! - grid.zeroPoint[c]!) * grid.scale[c]!);
    }
    if (grid.axis !== null && count !== grid.scale.length) this.fail(node, `${grid.scale.length} scales for axis ${grid.axis} of size ${count}`);
    this.newInitializers.push({ name: outName, dataType: DataType.FLOAT, dims, values });
    this.consts.set(outName, this.newInitializers[this.newInitializers.length - 1]!);
    this.constants.set(outName, { grid, codes, dims });
    return outName;
  }

  fresh(stem: string): string {
    return `${stem}__dq${this.counter++}`;
  }
}

/** A constant's values as numbers (int64 included). */
function numbers(t: OnnxTensor): number[] {
  return Array.from(t.values as ArrayLike<number | bigint>, (v) => Number(v));
}

function axisLayout(dims: readonly number[], axis: number | null): { stride: number; count: number } {
  if (axis === null) return { stride: 1, count: 1 };
  const a = axis < 0 ? axis + dims.length : axis;
  return { stride: dims.slice(a + 1).reduce((x, y) => x * y, 1), count: dims[a] ?? 1 };
}

function axisAttr(node: OnnxNode, fallback: number): number {
  const a = node.attributes.find((x) => x.name === 'axis');
  return a?.type === 'int' ? a.value : fallback;
}

function identity(node: OnnxNode, input: string): OnnxNode {
  return { name: node.name, opType: 'Identity', domain: '', inputs: [input], outputs: [node.outputs[0]!], attributes: [] };
}

function sameGrid(a: OnnxGrid, b: OnnxGrid): boolean {
  return a.scale.length === b.scale.length && a.scale.every((s, i) => s === b.scale[i] && a.zeroPoint[i] === b.zeroPoint[i]);
}

/**
 * Splits a quantized ONNX model (see the module comment).
 * @throws QrobustError('unsupported_layer') naming the first quantized node that cannot be represented.
 */
export function stripQuantization(model: OnnxModel, file: string): StrippedModel {
  const s = new Stripper(file, model);
  const nodes: OnnxNode[] = [];
  let qoperator = false;
  const record = (node: OnnxNode, tensor: string, grid: OnnxGrid): void => {
    const old = s.activations.get(tensor);
    if (old && !sameGrid(old, grid)) s.fail(node, `tensor '${tensor}' is on two different grids`);
    s.activations.set(tensor, grid);
  };
  for (const node of model.graph.nodes) {
    const refused = REFUSED[node.opType];
    if (refused) s.fail(node, refused);
    if (node.domain === 'com.microsoft') s.fail(node, 'ONNX Runtime contrib operators (com.microsoft) are not supported');
    const [a, b, c, d, e, f, g, h, bias] = node.inputs;
    switch (node.opType) {
      case 'QuantizeLinear': {
        const grid = s.grid(node, b, c, axisAttr(node, 1));
        if (grid.source === 'int32') s.fail(node, 'quantizing an activation to int32 is not supported');
        if (s.consts.has(a!)) s.fail(node, 'quantizing a constant at run time is not supported');
        if (grid.axis !== null) s.fail(node, 'per-channel activation quantization is not supported');
        record(node, node.outputs[0]!, grid);
        nodes.push(identity(node, a!));
        break;
      }
      case 'DequantizeLinear': {
        const grid = s.grid(node, b, c, axisAttr(node, 1));
        if (s.consts.has(a!)) {
          s.dequantizeConstant(node, a!, grid, node.outputs[0]!);
          break;
        }
        if (grid.axis !== null) s.fail(node, 'per-channel activation quantization is not supported');
        record(node, node.outputs[0]!, grid);
        const producer = s.activations.get(a!);
        if (producer && !sameGrid(producer, grid)) s.fail(node, `dequantizes '${a}' with a grid other than the one it was quantized with`);
        nodes.push(identity(node, a!));
        break;
      }
      case 'QLinearConv': {
        qoperator = true;
        record(node, a!, s.grid(node, b, c, null));
        const wGrid = s.grid(node, e, f, 0);
        const w = s.dequantizeConstant(node, d!, wGrid, s.fresh(d!));
        record(node, node.outputs[0]!, s.grid(node, g, h, null));
        const inputs = [a!, w];
        if (bias) {
          const xs = s.activations.get(a!)!.scale[0]!;
          const bGrid: OnnxGrid = { scale: wGrid.scale.map((ws) => Math.fround(xs * ws)), zeroPoint: wGrid.scale.map(() => 0), axis: wGrid.axis === null ? null : 0, source: 'int32' };
          inputs.push(s.dequantizeConstant(node, bias, bGrid, s.fresh(bias)));
        }
        nodes.push({ ...node, opType: 'Conv', inputs });
        break;
      }
      case 'QLinearMatMul': {
        qoperator = true;
        record(node, a!, s.grid(node, b, c, null));
        const w = s.dequantizeConstant(node, d!, s.grid(node, e, f, 1), s.fresh(d!));
        record(node, node.outputs[0]!, s.grid(node, g, h, null));
        nodes.push({ ...node, opType: 'MatMul', inputs: [a!, w], attributes: [] });
        break;
      }
      default:
        if (node.opType.startsWith('QLinear')) s.fail(node, `${node.opType} is not supported (the integer path holds conv, dense and max-pool chains)`);
        nodes.push(node);
    }
  }
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...model.graph.initializers.filter((t) => used.has(t.name)), ...s.newInitializers.filter((t) => used.has(t.name))];
  const float: OnnxModel = { ...model, graph: { ...model.graph, nodes, initializers, valueInfo: [] } };
  return { float, form: qoperator ? 'qoperator' : 'qdq', activations: s.activations, constants: s.constants };
}
