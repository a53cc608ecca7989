/**
 * Window operators on NCHW feature maps: Conv (groups, depthwise, pads, strides, dilations, auto_pad; a zero Pad
 * read only by the conv folds into its padding), MaxPool, AveragePool (count_include_pad), GlobalAveragePool and
 * GlobalMaxPool. ONNX kernels `[O, I/groups, kh, kw]` become graph kernels `[kh, kw, I/groups, O]`.
 */
import type { Conv2DOp } from '../../graph/model-graph.js';
import { showShape, type ConstTensor } from '../../onnx/constants.js';
import { NCHW_AXES, isNchw, type Activation, type FeatureMap } from './activations.js';
import { constInput, countFold, defineAlias, emit, onlyActivation, soleReader, type Lowering, type NodeView } from './lowering.js';
import { graphPadding, windowOf, windowOutput, type Window } from './window.js';

/** The activation as an NCHW feature map, or a one-line error. */
function nchwMap(v: NodeView, act: Activation): FeatureMap {
  if (act.kind !== 'map') v.attrs.fail(`needs a [1, C, H, W] feature map, the input is a flattened activation ${showShape(act.shape)}`);
  if (!isNchw(act)) v.attrs.fail(`needs an NCHW feature map, the input ${showShape(act.shape)} has another axis order (a Transpose to NCHW before it is supported)`);
  return act;
}

/** `[O, I, kh, kw]` → `[kh, kw, I, O]`. */
function toHwio(w: ConstTensor): Float32Array {
  const [o, i, kh, kw] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = w.data[((a * i + b) * kh + y) * kw + x]!;
    }
  }
  return out;
}

function convBias(v: NodeView, outChannels: number): Float32Array {
  if (!v.node.inputs[2]) return new Float32Array(outChannels);
  const b = constInput(v, 2, 'the bias');
  if (b.data.length !== outChannels) v.attrs.fail(`the bias has ${b.data.length} values for ${outChannels} output channels`);
  return Float32Array.from(b.data);
}

/** A zero Pad that only this node reads, whose padding can join the window's. */
function foldablePad(st: Lowering, act: FeatureMap): { readonly pads: readonly number[]; readonly input: string } | null {
  const op = st.writer.opOf(act.ref);
  if (op?.kind !== 'pad' || op.value !== 0 || !soleReader(st, act)) return null;
  return { pads: op.pads, input: st.writer.inputsOf(act.ref)[0]! };
}

export function lowerConv(st: Lowering, v: NodeView): void {
  const act = onlyActivation(v);
  const w = constInput(v, 1, 'the kernel');
  if (w.shape.length !== 4) v.attrs.fail(`only 2-D convolutions are supported, the kernel is ${showShape(w.shape)}`);
  const [o, ig, kh, kw] = w.shape as [number, number, number, number];
  const declared = v.attrs.ints('kernel_shape', null);
  if (declared && (declared[0] !== kh || declared[1] !== kw)) v.attrs.fail(`kernel_shape ${showShape(declared)} differs from the kernel ${showShape(w.shape)}`);
  const groups = v.attrs.int('group', 1);
  if (act.kind === 'vector' && act.shape.length === 4 && act.shape[2] === 1 && act.shape[3] === 1) return convOnPooled(st, v, act, w);
  const map = nchwMap(v, act);
  const c = map.shape[1];
  if (ig * groups !== c || o % groups !== 0) v.attrs.fail(`the kernel ${showShape(w.shape)} with group ${groups} does not fit ${c} input channels`);
  let input: Readonly<[number, number]> = [map.shape[2], map.shape[3]];
  let win: Window = windowOf(v.attrs, input, [kh, kw]);
  let ref = map.ref;
  const pad = foldablePad(st, map);
  if (pad) {
    const p = pad.pads;
    input = [input[0] - p[0]! - p[1]!, input[1] - p[2]! - p[3]!];
    win = { ...win, pads: [win.pads[0] + p[0]!, win.pads[1] + p[1]!, win.pads[2] + p[2]!, win.pads[3] + p[3]!] };
    ref = pad.input;
    countFold(st, 'Pad');
  }
  const [oh, ow] = windowOutput(input, win);
  const op: Conv2DOp = {
    kind: 'conv2d',
    kernel: toHwio(w),
    kernelShape: [kh, kw, ig, o],
    bias: convBias(v, o),
    strides: win.strides,
    dilations: win.dilations,
    padding: graphPadding(input, win),
    groups,
    activation: { kind: 'linear' },
  };
  emit(st, v, op, [ref], (r) => ({ kind: 'map', ref: r, shape: [1, o, oh, ow], axes: NCHW_AXES }));
}

/** A 1×1 convolution of a `[1, C, 1, 1]` vector (after a global pool) is a dense layer. */
function convOnPooled(st: Lowering, v: NodeView, act: Activation, w: ConstTensor): void {
  const [o, i, kh, kw] = w.shape as [number, number, number, number];
  const win = windowOf(v.attrs, [1, 1], [kh, kw]);
  if (kh !== 1 || kw !== 1 || win.pads.some((p) => p !== 0) || v.attrs.int('group', 1) !== 1 || i !== act.shape[1]) {
    v.attrs.fail(`on a pooled [1, C, 1, 1] vector only an ungrouped, unpadded 1x1 convolution is supported (kernel ${showShape(w.shape)})`);
  }
  const kernel = new Float32Array(i * o);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) kernel[b * o + a] = w.data[a * i + b]!;
  const op = { kind: 'dense', kernel, kernelShape: [i, o], bias: convBias(v, o), activation: { kind: 'linear' } } as const;
  emit(st, v, op, [act.ref], (ref) => ({ kind: 'vector', ref, shape: [1, o, 1, 1] }));
}

function checkSingleOutput(v: NodeView, st: Lowering): void {
  for (const extra of v.node.outputs.slice(1)) if (extra && (st.readers.get(extra) ?? 0) > 0) v.attrs.fail(`output '${extra}' is used; only the first output is supported`);
}

export function lowerPool(st: Lowering, v: NodeView): void {
  const map = nchwMap(v, onlyActivation(v));
  checkSingleOutput(v, st);
  const kernel = v.attrs.ints('kernel_shape', null) ?? v.attrs.fail('kernel_shape is required');
  if (kernel.length !== 2) v.attrs.fail(`only 2-D pooling is supported, kernel_shape is ${showShape(kernel)}`);
  const isMax = v.node.opType === 'MaxPool';
  if (isMax && v.attrs.int('storage_order', 0) !== 0) v.attrs.fail('storage_order 1 is not supported');
  const input: [number, number] = [map.shape[2], map.shape[3]];
  const win = windowOf(v.attrs, input, [kernel[0]!, kernel[1]!]);
  if (win.dilations.some((d) => d !== 1)) v.attrs.fail(`dilations ${showShape(win.dilations)} are not supported for pooling`);
  const countIncludePad = !isMax && v.attrs.int('count_include_pad', 0) === 1;
  if (!isMax && win.ceilPadded) v.attrs.fail('ceil_mode that adds a partial window is not supported for average pooling');
  let padding = graphPadding(input, win);
  // TF's 'same' average excludes the padding; with count_include_pad the pads must stay explicit.
  if (countIncludePad && padding === 'same') padding = [...win.pads];
  const [oh, ow] = windowOutput(input, win);
  const op = {
    kind: isMax ? 'maxPool' : 'avgPool',
    poolSize: win.kernel,
    strides: win.strides,
    padding,
    ...(!isMax && typeof padding !== 'string' ? { countIncludePad } : {}),
  } as const;
  emit(st, v, op, [map.ref], (ref) => ({ kind: 'map', ref, shape: [1, map.shape[1], oh, ow], axes: NCHW_AXES }));
}

export function lowerGlobalPool(st: Lowering, v: NodeView): void {
  const act = onlyActivation(v);
  if (act.kind === 'vector' && act.shape.length === 4 && act.shape[2] === 1 && act.shape[3] === 1) return defineAlias(st, v.node.outputs[0]!, act, 1);
  const map = nchwMap(v, act);
  const c = map.shape[1];
  if (v.node.opType === 'GlobalAveragePool') {
    emit(st, v, { kind: 'globalAvgPool' }, [map.ref], (ref) => ({ kind: 'vector', ref, shape: [1, c, 1, 1] }));
    return;
  }
  const [h, w] = [map.shape[2], map.shape[3]];
  emit(st, v, { kind: 'maxPool', poolSize: [h, w], strides: [h, w], padding: 'valid' }, [map.ref], (ref) => ({ kind: 'map', ref, shape: [1, c, 1, 1], axes: NCHW_AXES }));
}
