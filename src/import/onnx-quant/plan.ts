/**
 * The quantizers recovered from a quantized ONNX model (`strip.ts`) placed on the layer graph of its float
 * import: one `QuantPlan`, the same record post-training quantization writes, so the fake-quant and the
 * integer path run the file's own grids. Weight layers are matched in order (the float import keeps the
 * ONNX node order); each layer's input grid must be the previous layer's output grid (one grid per tensor, as
 * a chain of QLinearConv/QDQ groups has), and the codes that the plan gives the dequantized weights and
 * biases are checked against the file's codes.
 */
import { QrobustError } from '../../core/errors.js';
import { isWeightStep, weightStepIndices, type LayerGraph } from '../../models/graph.js';
import type { OnnxModel, OnnxNode } from '../../onnx/model.js';
import { prepareGraph, type LayerQuantParams, type QuantPlan } from '../../quant/plan.js';
import type { QuantParams } from '../../quant/quantizer.js';
import type { QuantSpec } from '../../quant/spec.js';
import type { OnnxGrid, QuantizedConstant, StrippedModel } from './strip.js';

/** A Conv, Gemm or MatMul with a constant weight, in the float model. */
export interface WeightOp {
  readonly node: OnnxNode;
  readonly weight: string;
  readonly bias: string | null;
  /** The ONNX axis of the weight that indexes output channels. */
  readonly outAxis: number;
}

/** Shape-only and order-preserving ops a grid passes through unchanged (codes are moved, not recomputed). */
const GRID_PRESERVING = new Set(['Identity', 'Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Transpose', 'MaxPool', 'Dropout', 'Relu']);

/** The weight operators of a float model in node order: the order of the weight layers its import builds. */
export function weightOps(model: OnnxModel, isConst: (name: string) => boolean): WeightOp[] {
  const out: WeightOp[] = [];
  for (const node of model.graph.nodes) {
    const [x, w, b] = node.inputs;
    if (node.opType === 'Conv' && w && isConst(w)) out.push({ node, weight: w, bias: b || null, outAxis: 0 });
    else if (node.opType === 'Gemm' && w && isConst(w)) {
      const transB = node.attributes.find((a) => a.name === 'transB');
      out.push({ node, weight: w, bias: b || null, outAxis: transB?.type === 'int' && transB.value === 1 ? 0 : 1 });
    } else if (node.opType === 'MatMul' && w && isConst(w)) out.push({ node, weight: w, bias: null, outAxis: 1 });
    else if (node.opType === 'MatMul' && x && isConst(x)) {
      throw new QrobustError('unsupported_layer', `node '${node.name}' (MatMul): a constant left operand is not supported for quantized models`);
    }
  }
  return out;
}

class GridTracer {
  private readonly producer = new Map<string, OnnxNode>();
  private readonly consumers = new Map<string, OnnxNode[]>();

  constructor(model: OnnxModel, private readonly grids: ReadonlyMap<string, OnnxGrid>, private readonly isConst: (n: string) => boolean) {
    for (const n of model.graph.nodes) {
      for (const o of n.outputs) this.producer.set(o, n);
      for (const i of n.inputs) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
    }
  }

  /** The grid the tensor's codes are on, looking back through grid-preserving ops. */
  before(tensor: string): OnnxGrid | null {
    for (let t: string | undefined = tensor; t !== undefined; ) {
      const g = this.grids.get(t);
      if (g) return g;
      const p = this.producer.get(t);
      if (!p || !GRID_PRESERVING.has(p.opType)) return null;
      t = p.inputs[0];
    }
    return null;
  }

  /** The grid a weight op's output is requantized to: forward through Identity, Relu, Clip and a bias Add. */
  after(tensor: string): OnnxGrid | null {
    for (let t: string | undefined = tensor; t !== undefined; ) {
      const g = this.grids.get(t);
      if (g) return g;
      const next: OnnxNode[] = this.consumers.get(t) ?? [];
      if (next.length !== 1) return null;
      const n = next[0]!;
      const biasAdd = n.opType === 'Add' && n.inputs.some((i) => i !== t && this.isConst(i));
      if (!['Identity', 'Relu', 'Clip'].includes(n.opType) && !biasAdd) return null;
      t = n.outputs[0];
    }
    return null;
  }
}

function activationParams(g: OnnxGrid): QuantParams {
  return { bits: 8, scheme: 'affine', qmin: -128, qmax: 127, scale: [g.scale[0]!], zeroPoint: [g.zeroPoint[0]!], granularity: 'per-tensor' };
}

function weightParams(c: QuantizedConstant, op: WeightOp, layer: string): QuantParams {
  if (c.grid.axis !== null) {
    const axis = c.grid.axis < 0 ? c.grid.axis + c.dims.length : c.grid.axis;
    if (axis !== op.outAxis) {
      throw new QrobustError('unsupported_layer', `layer '${layer}': weights quantized per channel along axis ${axis}, not along the output channels (axis ${op.outAxis})`);
    }
  }
  const symmetric = c.grid.zeroPoint.every((z) => z === 0) && c.codes.every((q) => q >= -127);
  return {
    bits: 8,
    scheme: symmetric ? 'symmetric' : 'affine',
    qmin: symmetric ? -127 : -128,
    qmax: 127,
    scale: [...c.grid.scale],
    zeroPoint: [...c.grid.zeroPoint],
    granularity: c.grid.axis === null ? 'per-tensor' : 'per-channel',
  };
}

function sortedCodes(codes: ArrayLike<number>): string {
  return Array.from(codes).sort((a, b) => a - b).join(',');
}

function sameGrid(a: OnnxGrid | null, b: OnnxGrid | null): boolean {
  if (a === null || b === null) return a === b;
  return a.scale[0] === b.scale[0] && a.zeroPoint[0] === b.zeroPoint[0];
}

export interface RecoveredQuantization {
  readonly plan: QuantPlan;
  readonly spec: QuantSpec;
  readonly label: string;
}

/**
 * Builds the plan (see the module comment).
 * @throws QrobustError('unsupported_layer') when the grids do not form a chain the plan can hold, or when the
 *   recovered codes differ from the file's.
 */
export function planFromStripped(stripped: StrippedModel, graph: LayerGraph, file: string): RecoveredQuantization {
  const fail = (why: string): never => {
    throw new QrobustError('unsupported_layer', `${file}: ${why}`);
  };
  const constNames = new Set(stripped.float.graph.initializers.map((t) => t.name));
  const isConst = (n: string): boolean => constNames.has(n);
  const ops = weightOps(stripped.float, isConst);
  const steps = weightStepIndices(graph);
  if (ops.length !== steps.length) fail(`${ops.length} weight operators in the file, ${steps.length} weight layers in its import`);
  const tracer = new GridTracer(stripped.float, stripped.activations, isConst);
  const layers: LayerQuantParams[] = [];
  let input: QuantParams | null = null;
  let previousOut: OnnxGrid | null = null;
  ops.forEach((op, k) => {
    const step = graph.steps[steps[k]!]!;
    const layerName = op.node.name || op.node.outputs[0]!;
    const wq = stripped.constants.get(op.weight);
    const inGrid = tracer.before(op.node.inputs[0]!);
    const outGrid = tracer.after(op.node.outputs[0]!);
    if (k === 0) input = inGrid ? activationParams(inGrid) : null;
    else if (!sameGrid(inGrid, previousOut)) fail(`layer '${layerName}' reads a grid other than the one the previous layer wrote`);
    previousOut = outGrid;
    layers.push({
      step: steps[k]!,
      name: step.name,
      weights: wq ? { kind: 'uniform', params: weightParams(wq, op, layerName) } : null,
      output: outGrid ? activationParams(outGrid) : null,
    });
  });
  const plan: QuantPlan = { input, layers };
  checkCodes(stripped, ops, graph, plan, fail);
  const perChannel = layers.some((l) => l.weights?.kind === 'uniform' && l.weights.params.granularity === 'per-channel');
  const affine = layers.some((l) => l.weights?.kind === 'uniform' && l.weights.params.scheme === 'affine');
  const spec: QuantSpec = {
    weights: layers.some((l) => l.weights) ? { bits: 8, scheme: affine ? 'affine' : 'symmetric', granularity: perChannel ? 'per-channel' : 'per-tensor', kind: 'uniform' } : null,
    activations: layers.some((l) => l.output) ? { bits: 8, scheme: 'affine', calibration: { method: 'minmax' } } : null,
    inputs: input ? { bits: 8 } : null,
    rounding: 'nearest',
    firstLast: 'same',
  };
  const label = `onnx-${stripped.form}-w${spec.weights ? 8 : 'f'}${spec.activations ? '-a8' : ''}${spec.inputs ? '-in8' : ''}`;
  return { plan, spec, label };
}

/** The plan must give the file's weight and bias codes back (sorted per layer: the import may reorder rows). */
function checkCodes(stripped: StrippedModel, ops: readonly WeightOp[], graph: LayerGraph, plan: QuantPlan, fail: (why: string) => never): void {
  const prepared = prepareGraph(graph, plan);
  ops.forEach((op, k) => {
    const p = prepared.steps[plan.layers[k]!.step]!;
    if (!isWeightStep(p.step)) return;
    const wq = stripped.constants.get(op.weight);
    if (wq && p.kernel?.codes && sortedCodes(p.kernel.codes) !== sortedCodes(wq.codes)) {
      fail(`layer '${p.step.name}': the dequantized weights do not give the file's codes back`);
    }
    const bq = op.bias ? stripped.constants.get(op.bias) : undefined;
    if (bq && p.biasCodes && Array.from(p.biasCodes).join(',') !== Array.from(bq.codes).join(',')) {
      fail(`layer '${p.step.name}': the bias codes on the grid s_in·s_w differ from the file's (its bias scale is not s_in·s_w)`);
    }
  });
}
