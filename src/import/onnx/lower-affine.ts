/**
 * Affine operators: Add, Sub, Mul and Div by constants and inference BatchNormalization become `x · scale +
 * offset` per channel, folded into the conv, dense or channel-affine node before them when nothing else reads
 * that node, else a `channelAffine` node; Add (and Sub) of two activations of one shape is an `add` node.
 */
import type { GraphOp } from '../../graph/model-graph.js';
import { broadcastShape, broadcastTo, showShape, type ConstTensor } from '../../onnx/constants.js';
import { sameShape, sizeOf, type Activation } from './activations.js';
import { constInput, countFold, defineAlias, emit, soleReader, type Lowering, type NodeView } from './lowering.js';

/** `x · scale + offset` along the graph value's last axis (feature-map channels, or every vector element). */
interface Affine {
  readonly scale: Float64Array;
  readonly offset: Float64Array;
}

/** The graph-axis length an affine acts along: C for a feature map, N for a vector. */
function affineLength(act: Activation): number {
  return act.kind === 'map' ? act.shape[act.axes.indexOf(2) + 1]! : sizeOf(act);
}

/**
 * A constant broadcast against the activation, as one value per graph channel (feature map) or element (vector).
 * @throws QrobustError('unsupported_layer') when broadcasting would change the activation's shape or the constant
 *   varies along a spatial axis of a feature map.
 */
function perChannel(v: NodeView, act: Activation, k: ConstTensor): Float64Array {
  const full = broadcastShape(act.shape, k.shape);
  if (!full || !sameShape(full, act.shape)) v.attrs.fail(`broadcasting the constant ${showShape(k.shape)} would change the activation's shape ${showShape(act.shape)}`);
  const values = broadcastTo(k, act.shape);
  if (act.kind === 'vector') return values;
  const [, d1, d2, d3] = act.shape;
  const cAxis = act.axes.indexOf(2) + 1;
  const out = new Float64Array(affineLength(act));
  const seen = new Uint8Array(out.length);
  for (let i = 0; i < d1; i++) {
    for (let j = 0; j < d2; j++) {
      for (let l = 0; l < d3; l++) {
        const c = cAxis === 1 ? i : cAxis === 2 ? j : l;
        const x = values[(i * d2 + j) * d3 + l]!;
        if (seen[c] && out[c] !== x) v.attrs.fail(`the constant ${showShape(k.shape)} varies over the spatial axes; only per-channel constants are supported`);
        out[c] = x;
        seen[c] = 1;
      }
    }
  }
  return out;
}

/** The op before the activation with the affine folded in, or null when it does not fold. */
function folded(op: GraphOp | null, a: Affine): GraphOp | null {
  if (op?.kind === 'channelAffine') {
    return { kind: 'channelAffine', scale: op.scale.map((s, i) => s * a.scale[i]!), offset: op.offset.map((o, i) => o * a.scale[i]! + a.offset[i]!) };
  }
  if ((op?.kind !== 'conv2d' && op?.kind !== 'dense') || op.activation.kind !== 'linear') return null;
  const units = op.bias.length;
  if (units !== a.scale.length) return null;
  const kernel = op.kernel.map((w, i) => w * a.scale[i % units]!);
  const bias = op.bias.map((b, i) => b * a.scale[i]! + a.offset[i]!);
  return { ...op, kernel, bias };
}

/**
 * Applies `x · scale + offset` to the activation: folded into the node before it, or a new node. Read as
 * declared nothing is folded: the verifier keeps each element-wise op as the file computes it (its float32
 * margin counts the roundings of each, and a folded product would be one more rounding of the weights).
 */
export function applyAffine(st: Lowering, v: NodeView, act: Activation, a: Affine): void {
  const out = v.node.outputs[0]!;
  if (a.scale.every((s) => s === 1) && a.offset.every((o) => o === 0)) return defineAlias(st, out, act, 1);
  const merged = st.reading === 'per-example' && soleReader(st, act) ? folded(st.writer.opOf(act.ref), a) : null;
  if (merged) {
    st.writer.replaceOp(act.ref, merged);
    countFold(st, v.node.opType);
    return defineAlias(st, out, act, 1);
  }
  const op = { kind: 'channelAffine', scale: Float32Array.from(a.scale), offset: Float32Array.from(a.offset) } as const;
  emit(st, v, op, [act.ref], (ref) => ({ ...act, ref }));
}

function affineOf(n: number, scale: number | Float64Array, offset: number | Float64Array): Affine {
  const full = (x: number | Float64Array): Float64Array => (typeof x === 'number' ? new Float64Array(n).fill(x) : x);
  return { scale: full(scale), offset: full(offset) };
}

export function lowerArithmetic(st: Lowering, v: NodeView): void {
  const [a, b] = v.acts;
  const op = v.node.opType;
  if (a && b) return lowerTwoActivations(st, v, a, b);
  const act = (a ?? b)!;
  const k = perChannel(v, act, constInput(v, a ? 1 : 0, 'the other operand'));
  const n = k.length;
  const left = a === undefined;
  switch (op) {
    case 'Add':
      return applyAffine(st, v, act, affineOf(n, 1, k));
    case 'Mul':
      return applyAffine(st, v, act, affineOf(n, k, 0));
    case 'Sub':
      return applyAffine(st, v, act, left ? affineOf(n, -1, k) : affineOf(n, 1, k.map((x) => -x)));
    case 'Div':
      if (left) v.attrs.fail('division by an activation is not linear');
      if (k.some((x) => x === 0)) v.attrs.fail('division by zero');
      return applyAffine(st, v, act, affineOf(n, k.map((x) => 1 / x), 0));
    default:
      v.attrs.fail(`operator ${op} is not an arithmetic operator`);
  }
}

function lowerTwoActivations(st: Lowering, v: NodeView, a: Activation, b: Activation): void {
  const op = v.node.opType;
  if (op !== 'Add' && op !== 'Sub') v.attrs.fail(`${op} of two activations is not supported (Add and Sub are)`);
  if (!sameShape(a.shape, b.shape) || a.kind !== b.kind || (a.kind === 'map' && b.kind === 'map' && !sameShape(a.axes, b.axes))) {
    v.attrs.fail(`the operands ${showShape(a.shape)} and ${showShape(b.shape)} differ in shape or layout (broadcasting two activations is not supported)`);
  }
  let right = b.ref;
  if (op === 'Sub') {
    const n = affineLength(b);
    right = st.writer.add(`${v.name}_negate`, { kind: 'channelAffine', scale: new Float32Array(n).fill(-1), offset: new Float32Array(n) }, [b.ref]);
  }
  emit(st, v, { kind: 'add' }, [a.ref, right], (ref) => ({ ...a, ref }));
}

export function lowerBatchNorm(st: Lowering, v: NodeView): void {
  const act = v.acts[0] ?? v.attrs.fail('the input X must be the activation');
  if (v.attrs.int('training_mode', 0) !== 0) v.attrs.fail('training_mode 1 is not supported (inference only)');
  for (const extra of v.node.outputs.slice(1)) if (extra && (st.readers.get(extra) ?? 0) > 0) v.attrs.fail(`output '${extra}' (training statistics) is used`);
  if (act.shape.length < 2) v.attrs.fail(`needs a channel axis, the activation is ${showShape(act.shape)}`);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => constInput(v, i, ['scale', 'B', 'mean', 'var'][i - 1]!)) as [ConstTensor, ConstTensor, ConstTensor, ConstTensor];
  const eps = v.attrs.float('epsilon', 1e-5);
  const channels = act.shape[1]!;
  for (const [t, what] of [[scale, 'scale'], [bias, 'B'], [mean, 'mean'], [variance, 'var']] as const) {
    if (t.data.length !== channels) v.attrs.fail(`${what} has ${t.data.length} values for ${channels} channels`);
  }
  // The per-channel factors as constants of shape [C, 1, …, 1], broadcast like Mul and Add would be.
  const shaped = (data: Float64Array): ConstTensor => ({ shape: [channels, ...act.shape.slice(2).map(() => 1)], data });
  const f = scale.data.map((s, i) => s / Math.sqrt(variance.data[i]! + eps));
  const shift = bias.data.map((b, i) => b - f[i]! * mean.data[i]!);
  applyAffine(st, v, act, { scale: perChannel(v, act, shaped(f)), offset: perChannel(v, act, shaped(shift)) });
}
