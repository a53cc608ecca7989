/**
 * ONNX Runtime's dynamic quantization (`quantize_dynamic`) split into a float ONNX model and the record of its
 * run-time quantization. The quantizer rewrites each MatMul or Conv `y = op(x, W)` as
 *
 *     (x_q, s_x, zp_x) = DynamicQuantizeLinear(x)
 *     y = Mul(Cast(MatMulInteger | ConvInteger(x_q, W_q, zp_x, zp_w), to float), Mul(s_x, s_w))
 *
 * (the bias stays a float Add). The split gives back `op(x, W_deq)` with `W_deq = (W_q − zp_w) · s_w` in
 * float32, so the float importer builds the graph, and records each such layer as a `DynamicRangeLayer` with
 * `inputQuantization: 'dynamic-quantize-linear'`, whose deployed semantics `quant/hybrid/` executes. Anything
 * around these operators that does not have exactly this shape is refused in one line naming the node.
 */
import { QrobustError } from '../../core/errors.js';
import { describeNode } from '../../onnx/attributes.js';
import type { OnnxModel, OnnxNode, OnnxTensor } from '../../onnx/model.js';
import { DataType } from '../../onnx/schema.js';
import type { DynamicRangeLayer } from '../types.js';
import { weightOps } from './plan.js';

/** True when the model holds ONNX Runtime's dynamic quantization. */
export function isDynamicallyQuantized(model: OnnxModel): boolean {
  return model.graph.nodes.some((n) => n.opType === 'DynamicQuantizeLinear');
}

export interface DynamicStrippedModel {
  readonly float: OnnxModel;
  /** The dynamically quantized layers, as `qrobust.json` records them (`weightIndex`: among the float model's weight operators). */
  readonly layers: readonly DynamicRangeLayer[];
}

interface DynamicInput {
  readonly x: string;
  readonly scale: string;
  readonly zeroPoint: string;
}

class DynamicStripper {
  readonly consts = new Map<string, OnnxTensor>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly producers = new Map<string, OnnxNode>();
  readonly inputs = new Map<string, DynamicInput>();
  /** The Cast and Mul nodes folded into a rewritten MatMul/Conv. */
  readonly absorbed = new Set<OnnxNode>();
  readonly newInitializers: OnnxTensor[] = [];
  readonly grids = new Map<string, { scale: number[]; zeroPoint: number[]; op: string; node: string }>();

  constructor(readonly file: string, model: OnnxModel) {
    for (const t of model.graph.initializers) this.consts.set(t.name, t);
    for (const n of model.graph.nodes) {
      if (n.opType === 'Constant') {
        const v = n.attributes.find((a) => a.name === 'value');
        if (v?.type === 'tensor') this.consts.set(n.outputs[0]!, { ...v.value, name: n.outputs[0]! });
      }
      for (const i of n.inputs) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
      for (const o of n.outputs) this.producers.set(o, n);
    }
  }

  fail(node: OnnxNode, why: string): never {
    throw new QrobustError('unsupported_layer', `${this.file}: ${describeNode(node)}: ${why}`);
  }

  constant(node: OnnxNode, name: string | undefined, what: string): OnnxTensor {
    const t = name ? this.consts.get(name) : undefined;
    return t ?? this.fail(node, `${what} '${name ?? ''}' must be a constant`);
  }

  /** The single consumer of `tensor`, which must be an `opType`. */
  only(node: OnnxNode, tensor: string, opType: string): OnnxNode {
    const next = this.consumers.get(tensor) ?? [];
    if (next.length !== 1 || next[0]!.opType !== opType) this.fail(node, `its output must feed one ${opType} (ONNX Runtime's dynamic quantization pattern), not ${next.map((n) => n.opType).join(', ') || 'nothing'}`);
    return next[0]!;
  }

  /**
   * Rewrites one MatMulInteger/ConvInteger and the Cast and Muls after it as a float MatMul/Conv.
   * `outAxis`: the axis of the ONNX weight that indexes output channels.
   */
  rewrite(node: OnnxNode, outAxis: number): OnnxNode {
    const [xq, wq, xzp, wzp] = node.inputs;
    const input = this.inputs.get(xq!) ?? this.fail(node, `input '${xq}' must come from DynamicQuantizeLinear`);
    if (xzp !== input.zeroPoint) this.fail(node, `its input zero point must be the one DynamicQuantizeLinear computed for '${input.x}'`);
    const cast = this.only(node, node.outputs[0]!, 'Cast');
    const to = cast.attributes.find((a) => a.name === 'to');
    if (to?.type !== 'int' || to.value !== DataType.FLOAT) this.fail(cast, 'must cast to float');
    const mul = this.only(cast, cast.outputs[0]!, 'Mul');
    const scaleTensor = mul.inputs.find((i) => i !== cast.outputs[0]) ?? this.fail(mul, 'must multiply by the scales');
    const scaleMul = this.producers.get(scaleTensor);
    if (!scaleMul || scaleMul.opType !== 'Mul' || !scaleMul.inputs.includes(input.scale)) this.fail(mul, `must multiply by Mul(${input.scale}, weight scale)`);
    const wsName = scaleMul.inputs.find((i) => i !== input.scale);
    const ws = numbers(this.constant(scaleMul, wsName, 'weight scale'));
    const w = this.constant(node, wq, 'weight');
    const signed = w.dataType === DataType.INT8;
    if (!signed && w.dataType !== DataType.UINT8) this.fail(node, `weights of data type ${w.dataType} are not supported (int8 or uint8)`);
    const shift = signed ? 0 : 128;
    const zp = wzp ? numbers(this.constant(node, wzp, 'weight zero point')).map((v) => v - shift) : ws.map(() => -shift);
    const channels = w.dims[outAxis] ?? 1;
    if ((ws.length !== 1 && ws.length !== channels) || (zp.length !== 1 && zp.length !== channels)) {
      this.fail(node, `${ws.length} weight scales and ${zp.length} zero points for ${channels} output channels`);
    }
    const perChannel = ws.length > 1 || zp.length > 1;
    const scale = perChannel ? Array.from({ length: channels }, (_, c) => ws[ws.length > 1 ? c : 0]!) : ws;
    const zeroPoint = perChannel ? Array.from({ length: channels }, (_, c) => zp[zp.length > 1 ? c : 0]!) : zp;
    if (scale.some((s) => !(s > 0) || !Number.isFinite(s))) this.fail(scaleMul, `weight scales must be positive and finite`);
    const weightName = `${wq}__dynamic_dq`;
    this.newInitializers.push({ name: weightName, dataType: DataType.FLOAT, dims: [...w.dims], values: dequantize(numbers(w).map((v) => v - shift), w.dims, outAxis, scale, zeroPoint) });
    const op = node.opType === 'ConvInteger' ? 'Conv' : 'MatMul';
    const out = mul.outputs[0]!;
    this.grids.set(out, { scale, zeroPoint, op: node.opType, node: node.name || out });
    [cast, mul].forEach((n) => this.absorbed.add(n));
    return { ...node, opType: op, inputs: [input.x, weightName], outputs: [out], attributes: op === 'Conv' ? node.attributes : [] };
  }
}

function numbers(t: OnnxTensor): number[] {
  return Array.from(t.values as ArrayLike<number | bigint>, (v) => Number(v));
}

function dequantize(codes: readonly number[], dims: readonly number[], axis: number, scale: readonly number[], zp: readonly number[]): Float32Array {
  const stride = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const count = dims[axis] ?? 1;
  return Float32Array.from(codes, (q, i) => {
    const c = scale.length === 1 ? 0 : Math.floor(i / stride) % count;
    return Math.fround((q - zp[c]!) * scale[c]!);
  });
}

/**
 * Splits a dynamically quantized ONNX model (see the module comment).
 * @throws QrobustError('unsupported_layer') naming the first node outside ONNX Runtime's pattern.
 */
export function stripDynamicQuantization(model: OnnxModel, file: string): DynamicStrippedModel {
  const s = new DynamicStripper(file, model);
  const nodes: OnnxNode[] = [];
  const scaleMuls = new Set<OnnxNode>();
  for (const node of model.graph.nodes) {
    if (node.domain === 'com.microsoft') s.fail(node, 'ONNX Runtime contrib operators (com.microsoft) are not supported');
    if (s.absorbed.has(node)) continue;
    switch (node.opType) {
      case 'DynamicQuantizeLinear': {
        const [xq, scale, zeroPoint] = node.outputs;
        s.inputs.set(xq!, { x: node.inputs[0]!, scale: scale!, zeroPoint: zeroPoint! });
        break;
      }
      case 'MatMulInteger':
        nodes.push(s.rewrite(node, 1));
        break;
      case 'ConvInteger':
        nodes.push(s.rewrite(node, 0));
        break;
      case 'QuantizeLinear':
      case 'DequantizeLinear':
        s.fail(node, 'static and dynamic quantization in one model are not supported');
        break;
      default:
        if (node.opType.startsWith('QLinear')) s.fail(node, 'static and dynamic quantization in one model are not supported');
        if (node.opType === 'Mul' && [...s.inputs.values()].some((i) => node.inputs.includes(i.scale))) {
          scaleMuls.add(node);
          break;
        }
        nodes.push(node);
    }
  }
  // The quantized tensors and the scale products may feed nothing else.
  const dynamicTensors = new Set([...s.inputs.entries()].flatMap(([xq, i]) => [xq, i.scale, i.zeroPoint]));
  const scaleOutputs = new Set([...scaleMuls].map((n) => n.outputs[0]!));
  for (const node of nodes) {
    const bad = node.inputs.find((i) => dynamicTensors.has(i) || scaleOutputs.has(i));
    if (bad) s.fail(node, `reads '${bad}', a dynamically quantized tensor or scale, outside the MatMulInteger/ConvInteger pattern`);
  }
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...model.graph.initializers.filter((t) => used.has(t.name)), ...s.newInitializers];
  const float: OnnxModel = { ...model, graph: { ...model.graph, nodes, initializers, valueInfo: [] } };
  const constNames = new Set(initializers.map((t) => t.name));
  const layers: DynamicRangeLayer[] = [];
  weightOps(float, (n) => constNames.has(n)).forEach((op, weightIndex) => {
    const g = s.grids.get(op.node.outputs[0]!);
    if (!g) return;
    layers.push({
      node: g.node, weightIndex, op: g.op, weightBits: 8, weightScale: g.scale, weightZeroPoint: g.zeroPoint,
      inputQuantization: 'dynamic-quantize-linear', inputBits: 8,
    });
  });
  return { float, layers };
}
