/**
 * A matrix product of several rows by a constant, `X [m, k] · W [k, n]` or `W [p, m] · X [m, k]` (X may have
 * leading axes of size 1; a 1-D X on the right of W is a column), as one `dense` node over X's flattened
 * elements: the kernel holds W once per row of X (I ⊗ W), or once per column (W ⊗ I), and zeros elsewhere.
 */
import type { DenseOp } from '../../graph/model-graph.js';
import { showShape, type ConstTensor } from '../../onnx/constants.js';
import type { FlatVector } from './activations.js';
import { checkBatchAxis, emit, type Lowering, type NodeView } from './lowering.js';

/** The most entries a block kernel may have (64 MiB as float32); a bigger product is refused before allocation. */
export const MAX_BLOCK_KERNEL = 2 ** 24;

interface Block {
  readonly kernel: Float32Array;
  readonly inputs: number;
  readonly outputs: number;
  readonly shape: readonly number[];
}

function allocate(v: NodeView, inputs: number, outputs: number): Float32Array {
  const n = inputs * outputs;
  if (n > MAX_BLOCK_KERNEL) v.attrs.fail(`the product needs a dense kernel of ${n.toLocaleString('en-US')} entries (the limit is ${MAX_BLOCK_KERNEL.toLocaleString('en-US')})`);
  return new Float32Array(n);
}

/** `X [m, k] · W [k, n]`: output (i, j) = Σ_t X(i, t) W(t, j). */
function rowsTimesW(v: NodeView, s: readonly number[], w: ConstTensor): Block {
  const [m, k] = [s[s.length - 2]!, s[s.length - 1]!];
  if (w.shape[0] !== k) v.attrs.fail(`${showShape(s)} · ${showShape(w.shape)} do not match`);
  const n = w.shape[1]!;
  const kernel = allocate(v, m * k, m * n);
  for (let i = 0; i < m; i++) for (let t = 0; t < k; t++) for (let j = 0; j < n; j++) kernel[(i * k + t) * (m * n) + i * n + j] = w.data[t * n + j]!;
  return { kernel, inputs: m * k, outputs: m * n, shape: [...s.slice(0, -1), n] };
}

/** `W [p, m] · X [m, k]`: output (i, j) = Σ_t W(i, t) X(t, j). */
function wTimesColumns(v: NodeView, s: readonly number[], w: ConstTensor): Block {
  const [m, k] = s.length === 1 ? [s[0]!, 1] : [s[s.length - 2]!, s[s.length - 1]!];
  if (w.shape[1] !== m) v.attrs.fail(`${showShape(w.shape)} · ${showShape(s)} do not match`);
  const p = w.shape[0]!;
  const kernel = allocate(v, m * k, p * k);
  for (let i = 0; i < p; i++) for (let t = 0; t < m; t++) for (let j = 0; j < k; j++) kernel[(t * k + j) * (p * k) + i * k + j] = w.data[i * m + t]!;
  return { kernel, inputs: m * k, outputs: p * k, shape: s.length === 1 ? [p] : [...s.slice(0, -2), p, k] };
}

/** Lowers the product of the vector `act` and the constant `w` (on the left when `left`). */
export function lowerBlockProduct(st: Lowering, v: NodeView, act: FlatVector, w: ConstTensor, left: boolean): void {
  const b = left ? wTimesColumns(v, act.shape, w) : rowsTimesW(v, act.shape, w);
  checkBatchAxis(st, v, b.shape);
  const op: DenseOp = { kind: 'dense', kernel: b.kernel, kernelShape: [b.inputs, b.outputs], bias: new Float32Array(b.outputs), activation: { kind: 'linear' } };
  emit(st, v, op, [act.ref], (ref) => ({ kind: 'vector', ref, shape: b.shape }));
}
