/**
 * Shape operators on activations: Flatten, Reshape, Squeeze, Unsqueeze and Transpose change how an ONNX shape
 * sits on a graph value (a flatten node where a feature map becomes a vector, nothing otherwise); Concat and Pad
 * become graph nodes.
 */
import { axesOf, flattenShape, normalizeAxis, reshapeShape, showShape, squeezeShape, unsqueezeShape } from '../../onnx/constants.js';
import { elementCount } from '../../onnx/model.js';
import { flattenOrderOf, mapShape, sameShape, type Activation, type AxisMap, type FlatVector } from './activations.js';
import { checkBatchAxis, constInput, defineAlias, emit, onlyActivation, type Lowering, type NodeView } from './lowering.js';

/** Binds the node's output to `act` seen with the ONNX shape `shape` (same elements in C order). */
export function reshapeActivation(st: Lowering, v: NodeView, act: Activation, shape: readonly number[]): void {
  const out = v.node.outputs[0]!;
  checkBatchAxis(st, v, shape);
  if (sameShape(shape, act.shape)) return defineAlias(st, out, act, 1);
  if (act.kind === 'vector') {
    const back = act.unflattened;
    if (back && sameShape(shape, back.shape)) return defineAlias(st, out, back, 0);
    return defineAlias(st, out, { ...act, shape: [...shape] }, 1);
  }
  const order = flattenOrderOf(act) ?? v.attrs.fail(`flattening a feature map with ONNX axes ${showShape(act.axes)} of NHWC is not supported`);
  emit(st, v, { kind: 'flatten', order }, [act.ref], (ref) => ({ kind: 'vector', ref, shape: [...shape], unflattened: act }));
}

/** The activation as a vector of the same ONNX shape: a feature map gets a flatten node in its C order. */
export function asVector(st: Lowering, v: NodeView, act: Activation): FlatVector {
  if (act.kind === 'vector') return act;
  const order = flattenOrderOf(act) ?? v.attrs.fail(`flattening a feature map with ONNX axes ${showShape(act.axes)} of NHWC is not supported`);
  const ref = st.writer.add(`${v.name}_flatten`, { kind: 'flatten', order }, [act.ref]);
  return { kind: 'vector', ref, shape: act.shape, unflattened: act };
}

export function lowerFlatten(st: Lowering, v: NodeView): void {
  const act = onlyActivation(v);
  const axis = v.attrs.int('axis', 1);
  if (axis === 0 && st.reading === 'per-example') v.attrs.fail('axis 0 folds the batch axis into the features');
  reshapeActivation(st, v, act, flattenShape(act.shape, axis));
}

export function lowerReshape(st: Lowering, v: NodeView): void {
  const act = onlyActivation(v);
  const spec = [...constInput(v, 1, 'the target shape').data];
  reshapeActivation(st, v, act, reshapeShape(act.shape, spec, v.attrs.int('allowzero', 0) === 1, v.attrs));
}

export function lowerSqueeze(st: Lowering, v: NodeView): void {
  const act = onlyActivation(v);
  // Without axes, every axis of size 1; read per example, but the batch axis (1 only because batch 1 is traced).
  const first = st.reading === 'per-example' ? 1 : 0;
  const axes = axesOf(v.attrs, v.consts) ?? act.shape.flatMap((d, i) => (i >= first && d === 1 ? [i] : []));
  reshapeActivation(st, v, act, squeezeShape(act.shape, axes, v.attrs));
}

export function lowerUnsqueeze(st: Lowering, v: NodeView): void {
  const act = onlyActivation(v);
  const axes = axesOf(v.attrs, v.consts) ?? v.attrs.fail('no axes given');
  reshapeActivation(st, v, act, unsqueezeShape(act.shape, axes, v.attrs));
}

export function lowerTranspose(st: Lowering, v: NodeView): void {
  const act = onlyActivation(v);
  const rank = act.shape.length;
  const perm = v.attrs.ints('perm', null) ?? act.shape.map((_, i) => rank - 1 - i);
  if (perm.length !== rank || !sameShape([...perm].sort((a, b) => a - b), act.shape.map((_, i) => i))) {
    v.attrs.fail(`perm ${showShape(perm)} is not a permutation of ${rank} axes`);
  }
  const shape = perm.map((p) => act.shape[p]!);
  const out = v.node.outputs[0]!;
  if (act.kind === 'map') {
    if (perm[0] !== 0) v.attrs.fail(`perm ${showShape(perm)} moves the batch axis`);
    const axes: AxisMap = [act.axes[perm[1]! - 1]!, act.axes[perm[2]! - 1]!, act.axes[perm[3]! - 1]!];
    return defineAlias(st, out, { kind: 'map', ref: act.ref, shape: mapShape(shape), axes }, 1);
  }
  // On a vector only axes of size 1 may move: then the elements keep their order.
  const big = (p: readonly number[]): number[] => p.filter((a) => act.shape[a]! > 1);
  if (!sameShape(big(perm), big(act.shape.map((_, i) => i)))) v.attrs.fail(`perm ${showShape(perm)} reorders the elements of a flattened activation ${showShape(act.shape)}`);
  defineAlias(st, out, { ...act, shape }, 1);
}

export function lowerConcat(st: Lowering, v: NodeView): void {
  if (v.acts.some((a) => a === undefined)) v.attrs.fail('concatenating constants with activations is not supported');
  const parts = v.acts as readonly Activation[];
  const first = parts[0]!;
  const rank = first.shape.length;
  if (parts.some((p) => p.shape.length !== rank)) v.attrs.fail(`inputs of different ranks: ${parts.map((p) => showShape(p.shape)).join(', ')}`);
  const axis = normalizeAxis(v.attrs.int('axis', 1), rank, v.attrs);
  if (axis === 0) v.attrs.fail('concatenation along the batch axis is not supported');
  for (const p of parts) {
    if (!p.shape.every((d, i) => i === axis || d === first.shape[i])) v.attrs.fail(`inputs ${parts.map((q) => showShape(q.shape)).join(', ')} differ off axis ${axis}`);
  }
  const shape = [...first.shape];
  shape[axis] = parts.reduce((a, p) => a + p.shape[axis]!, 0);
  const refs = parts.map((p) => p.ref);
  if (first.kind === 'map') {
    if (parts.some((p) => p.kind !== 'map' || !sameShape(p.axes, first.axes))) v.attrs.fail('inputs are feature maps in different layouts');
    const g = first.axes[axis - 1]!;
    const axes = first.axes;
    emit(st, v, { kind: 'concat', axis: g === 2 ? -1 : g }, refs, (ref) => ({ kind: 'map', ref, shape: mapShape(shape), axes }));
    return;
  }
  if (parts.some((p) => p.kind !== 'vector')) v.attrs.fail('inputs mix feature maps and flattened activations');
  if (elementCount(first.shape.slice(1, axis)) !== 1) v.attrs.fail(`concatenating ${showShape(first.shape)}-shaped vectors along axis ${axis} interleaves their elements`);
  emit(st, v, { kind: 'concat', axis: -1 }, refs, (ref) => ({ kind: 'vector', ref, shape }));
}

export function lowerPad(st: Lowering, v: NodeView): void {
  const act = onlyActivation(v);
  const mode = v.attrs.string('mode', 'constant');
  if (mode !== 'constant') v.attrs.fail(`mode '${mode}' is not supported (constant)`);
  if (act.kind !== 'map') v.attrs.fail(`padding a flattened activation ${showShape(act.shape)} is not supported`);
  const rank = act.shape.length;
  let pads: number[];
  let value: number;
  if (st.opset < 11) {
    pads = [...(v.attrs.ints('pads', null) ?? v.attrs.fail('pads is required'))];
    value = v.attrs.float('value', 0);
  } else {
    const given = [...constInput(v, 1, 'pads').data];
    value = v.consts[2] ? v.consts[2].data[0] ?? 0 : 0;
    if (v.node.inputs[2] && !v.consts[2]) v.attrs.fail('constant_value (input 2) must be a constant');
    const axesT = v.node.inputs[3] ? constInput(v, 3, 'axes') : undefined;
    if (axesT) {
      const axes = [...axesT.data].map((a) => normalizeAxis(a, rank, v.attrs));
      pads = new Array<number>(2 * rank).fill(0);
      axes.forEach((a, i) => {
        pads[a] = given[i]!;
        pads[a + rank] = given[i + axes.length]!;
      });
    } else pads = given;
  }
  if (pads.length !== 2 * rank) v.attrs.fail(`pads has ${pads.length} values for rank ${rank}`);
  if (pads.some((p) => p < 0)) v.attrs.fail('negative pads (cropping) are not supported');
  // Per graph axis (H, W, C): pads before and after.
  const before = [0, 0, 0];
  const after = [0, 0, 0];
  act.axes.forEach((g, i) => {
    before[g] = pads[i + 1]!;
    after[g] = pads[i + 1 + rank]!;
  });
  if (pads[0] !== 0 || pads[rank] !== 0 || before[2] !== 0 || after[2] !== 0) v.attrs.fail('only spatial (H, W) padding is supported');
  const shape = mapShape(act.shape.map((d, i) => d + pads[i]! + pads[i + rank]!));
  if (pads.every((p) => p === 0)) return defineAlias(st, v.node.outputs[0]!, act, 1);
  const axes = act.axes;
  emit(st, v, { kind: 'pad', pads: [before[0]!, after[0]!, before[1]!, after[1]!], value }, [act.ref], (ref) => ({ kind: 'map', ref, shape, axes }));
}
