/**
 * Elementwise activations: Relu (fused into the conv or dense before it when nothing else reads that node),
 * LeakyRelu, Clip (ReLU6 and friends; bounds as attributes before opset 11, as constant inputs from 11),
 * Sigmoid and Tanh.
 */
import type { Activation as GraphActivation } from '../../graph/model-graph.js';
import { onlyActivation, countFold, defineAlias, emit, soleReader, type Lowering, type NodeView } from './lowering.js';

/** The activation an ONNX node computes, or null when it is the identity. */
function activationOf(st: Lowering, v: NodeView): GraphActivation | null {
  switch (v.node.opType) {
    case 'Relu':
      return { kind: 'relu' };
    case 'LeakyRelu':
      return { kind: 'leakyRelu', alpha: v.attrs.float('alpha', 0.01) };
    case 'Sigmoid':
      return { kind: 'sigmoid' };
    case 'Tanh':
      return { kind: 'tanh' };
    case 'Clip': {
      let min: number;
      let max: number;
      if (st.opset < 11) {
        min = v.attrs.float('min', -Infinity);
        max = v.attrs.float('max', Infinity);
      } else {
        const bound = (i: number): number | undefined => {
          if (!v.node.inputs[i]) return undefined;
          const t = v.consts[i] ?? v.attrs.fail(`the ${i === 1 ? 'min' : 'max'} bound (input ${i}) must be a constant`);
          if (t.data.length !== 1) v.attrs.fail(`the ${i === 1 ? 'min' : 'max'} bound must be a scalar`);
          return t.data[0]!;
        };
        min = bound(1) ?? -Infinity;
        max = bound(2) ?? Infinity;
      }
      if (!(min <= max)) v.attrs.fail(`min ${min} is above max ${max}`);
      if (min === -Infinity && max === Infinity) return null;
      if (min === 0 && max === Infinity) return { kind: 'relu' };
      return { kind: 'clip', min, max };
    }
    default:
      return v.attrs.fail(`operator ${v.node.opType} is not an activation`);
  }
}

export function lowerActivation(st: Lowering, v: NodeView): void {
  const act = onlyActivation(v);
  const a = activationOf(st, v);
  const out = v.node.outputs[0]!;
  if (a === null) return defineAlias(st, out, act, 1);
  const prev = st.writer.opOf(act.ref);
  if (a.kind === 'relu' && soleReader(st, act) && (prev?.kind === 'conv2d' || prev?.kind === 'dense') && prev.activation.kind === 'linear') {
    st.writer.replaceOp(act.ref, { ...prev, activation: a });
    countFold(st, v.node.opType);
    return defineAlias(st, out, act, 1);
  }
  emit(st, v, { kind: 'activation', activation: a }, [act.ref], (ref) => ({ ...act, ref }));
}
