/**
 * Gemm (alpha, beta, transA, transB) and MatMul by a constant weight matrix, on either side, on a vector: `dense`
 * nodes. A product of several rows (`[1, m, k] · [k, n]`, or `W · X` with the constant on the left) is one dense
 * map over the flattened elements, with a block kernel.
 */
import type { DenseOp } from '../../graph/model-graph.js';
import { broadcastShape, broadcastTo, showShape, type ConstTensor } from '../../onnx/constants.js';
import { elementCount } from '../../onnx/model.js';
import type { Activation } from './activations.js';
import { lowerBlockProduct } from './lower-block-product.js';
import { constInput, emit, type Lowering, type NodeView } from './lowering.js';
import { asVector } from './lower-shape.js';

function vectorInput(v: NodeView, what: string): Activation {
  const act = v.acts[0] ?? v.attrs.fail(`${what} (input 0) must be the activation; a constant first operand is not supported`);
  if (v.acts.slice(1).some((a) => a !== undefined)) v.attrs.fail('the weight operand must be a constant');
  return act;
}

export function lowerGemm(st: Lowering, v: NodeView): void {
  const act = vectorInput(v, 'A');
  if (act.shape.length !== 2) v.attrs.fail(`A must be 2-D, it is ${showShape(act.shape)} (a Flatten before it is supported)`);
  const transA = v.attrs.int('transA', 0) === 1;
  // A (or Aᵀ) must be one row: then Aᵀ lists the same elements, and the product is one dense map.
  const [rows, k] = transA ? [act.shape[1]!, act.shape[0]!] : [act.shape[0]!, act.shape[1]!];
  if (rows !== 1) v.attrs.fail(transA ? 'transA 1 would make the batch axis a feature axis' : `A ${showShape(act.shape)} has ${rows} rows; one (batch 1) is supported`);
  const alpha = v.attrs.float('alpha', 1);
  const beta = v.attrs.float('beta', 1);
  const transB = v.attrs.int('transB', 0) === 1;
  const b = constInput(v, 1, 'B');
  if (b.shape.length !== 2) v.attrs.fail(`B must be 2-D, it is ${showShape(b.shape)}`);
  const [bk, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (bk !== k) v.attrs.fail(`A ${showShape(act.shape)} and B ${showShape(b.shape)} do not match (transA=${+transA}, transB=${+transB})`);
  const kernel = new Float32Array(k * n);
  for (let t = 0; t < k; t++) for (let j = 0; j < n; j++) kernel[t * n + j] = alpha * (transB ? b.data[j * k + t]! : b.data[t * n + j]!);
  let bias = new Float32Array(n);
  if (v.node.inputs[2]) {
    const c = constInput(v, 2, 'C');
    const full = broadcastShape([1, n], c.shape);
    if (!full || full[0] !== 1 || full[1] !== n) v.attrs.fail(`C ${showShape(c.shape)} does not broadcast to [1,${n}]`);
    bias = Float32Array.from(broadcastTo(c, [1, n]), (x) => beta * x);
  }
  const op: DenseOp = { kind: 'dense', kernel, kernelShape: [k, n], bias, activation: { kind: 'linear' } };
  emit(st, v, op, [act.ref], (ref) => ({ kind: 'vector', ref, shape: [1, n] }));
}

export function lowerMatMul(st: Lowering, v: NodeView): void {
  const [x, y] = v.acts;
  if (x && y) v.attrs.fail('a product of two activations is not linear');
  const left = x === undefined;
  const w: ConstTensor = constInput(v, left ? 0 : 1, 'the weight matrix');
  if (w.shape.length !== 2) v.attrs.fail(`the weight matrix must be 2-D, it is ${showShape(w.shape)}`);
  const act = asVector(st, v, (x ?? y)!);
  const s = act.shape;
  if (elementCount(s.slice(0, -2)) !== 1) v.attrs.fail(`the activation ${showShape(s)} has leading axes of more than one element (a batched product is not supported)`);
  if (left || (s.length >= 2 && s[s.length - 2] !== 1)) return lowerBlockProduct(st, v, act, w, left);
  const k = s[s.length - 1]!;
  if (w.shape[0] !== k) v.attrs.fail(`${showShape(s)} · ${showShape(w.shape)} do not match`);
  const n = w.shape[1]!;
  const op: DenseOp = { kind: 'dense', kernel: Float32Array.from(w.data), kernelShape: [k, n], bias: new Float32Array(n), activation: { kind: 'linear' } };
  emit(st, v, op, [act.ref], (ref) => ({ kind: 'vector', ref, shape: [...s.slice(0, -1), n] }));
}
