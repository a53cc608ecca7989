/**
 * The state shared by the operator lowerings: constants, activations, the graph being written, and how many
 * readers each graph node still has, which decides whether an op may fold into the node before it.
 */
import { MODEL_INPUT, type GraphOp } from '../../graph/model-graph.js';
import type { NodeAttributes } from '../../onnx/attributes.js';
import type { ConstTensor } from '../../onnx/constants.js';
import type { OnnxNode } from '../../onnx/model.js';
import type { Activation } from './activations.js';
import type { GraphWriter } from './graph-writer.js';

/**
 * How the file's tensors are read. `per-example` (a model to import): axis 0 is the batch axis, and what would mix
 * the examples of a batch is refused. `as-declared` (the verifier's, whose properties speak of the file's own
 * input and output tensors): the graph at its declared input shape, batch 1, as it stands, so that an input may
 * have any rank and shapes may move or drop axis 0.
 */
export type OnnxReading = 'per-example' | 'as-declared';

export interface Lowering {
  /** The file name, for messages. */
  readonly source: string;
  readonly opset: number;
  readonly reading: OnnxReading;
  readonly consts: Map<string, ConstTensor>;
  readonly acts: Map<string, Activation>;
  readonly writer: GraphWriter;
  /** ONNX readers of each tensor name (a graph output counts as one). */
  readonly readers: ReadonlyMap<string, number>;
  /** Readers left of each graph node's value, over every ONNX tensor that carries it. */
  readonly uses: Map<string, number>;
  /** Counts of ops folded into earlier nodes, by ONNX operator (for the import details). */
  readonly folded: Map<string, number>;
}

/** What a lowering sees of one ONNX node. */
export interface NodeView {
  readonly node: OnnxNode;
  readonly attrs: NodeAttributes;
  /** Constant inputs (undefined for activations and omitted inputs). */
  readonly consts: readonly (ConstTensor | undefined)[];
  /** Activation inputs (undefined for constants and omitted inputs). */
  readonly acts: readonly (Activation | undefined)[];
  /** A name for the graph nodes this node becomes. */
  readonly name: string;
}

function readersOf(st: Lowering, tensor: string): number {
  return st.readers.get(tensor) ?? 0;
}

/** Binds an ONNX output to a new graph node's value. */
export function defineOutput(st: Lowering, tensor: string, act: Activation): void {
  st.acts.set(tensor, act);
  st.uses.set(act.ref, (st.uses.get(act.ref) ?? 0) + readersOf(st, tensor));
}

/**
 * Binds an ONNX output to the value of an existing graph node, as a pass-through or a fold does; `consumed` is
 * 1 when this happens by reading one of that node's uses (the input of a pass-through), 0 otherwise.
 */
export function defineAlias(st: Lowering, tensor: string, act: Activation, consumed: 0 | 1): void {
  st.acts.set(tensor, act);
  st.uses.set(act.ref, (st.uses.get(act.ref) ?? 0) + readersOf(st, tensor) - consumed);
}

/** Appends a graph node reading `inputs` and binds the ONNX node's first output to it. */
export function emit(st: Lowering, v: NodeView, op: GraphOp, inputs: readonly string[], out: (ref: string) => Activation): void {
  const ref = st.writer.add(v.name, op, inputs);
  defineOutput(st, v.node.outputs[0]!, out(ref));
}

/** Whether the ONNX node being lowered is the only reader left of this activation's graph node. */
export function soleReader(st: Lowering, act: Activation): boolean {
  return act.ref !== MODEL_INPUT && st.uses.get(act.ref) === 1;
}

export function countFold(st: Lowering, opType: string): void {
  st.folded.set(opType, (st.folded.get(opType) ?? 0) + 1);
}

/** The single activation input of a node (the lowerings of one-input ops call this). */
export function onlyActivation(v: NodeView): Activation {
  const dynamic = v.acts.filter((a): a is Activation => a !== undefined);
  if (dynamic.length !== 1 || v.acts[0] === undefined) v.attrs.fail('expects the activation as its first and only non-constant input');
  return dynamic[0]!;
}

/**
 * Refuses a result shape that does not keep axis 0 as a batch axis of 1 when the file is read per example (a
 * reshape that moves the batch axis would mix the examples of a batch).
 */
export function checkBatchAxis(st: Lowering, v: NodeView, shape: readonly number[]): void {
  if (st.reading === 'per-example' && shape[0] !== 1) v.attrs.fail(`the result [${shape.join(',')}] does not keep the batch axis first`);
}

/** Constant input `i`, or a one-line error naming what it is. */
export function constInput(v: NodeView, i: number, what: string): ConstTensor {
  return v.consts[i] ?? v.attrs.fail(`${what} (input ${i}) must be a constant`);
}
