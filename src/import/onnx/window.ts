/**
 * The geometry of a 2-D window op (Conv, MaxPool, AveragePool) from its ONNX attributes: strides, dilations and
 * padding (explicit pads or auto_pad), and the graph padding that expresses it: 'valid' for none, 'same' where
 * the pads are exactly TF's, explicit `[top, bottom, left, right]` otherwise.
 */
import type { NodeAttributes } from '../../onnx/attributes.js';
import { showShape } from '../../onnx/constants.js';
import type { Padding2D } from '../../graph/model-graph.js';

type Pair = readonly [number, number];
/** `[top, bottom, left, right]`. */
export type Pads = readonly [number, number, number, number];

export interface Window {
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly dilations: Pair;
  readonly pads: Pads;
  /** Whether ceil_mode added padding at the end (which an average pool would count differently). */
  readonly ceilPadded: boolean;
}

function pairAttr(attrs: NodeAttributes, name: string): Pair {
  const v = attrs.ints(name, [1, 1])!;
  if (v.length !== 2 || v.some((x) => !Number.isInteger(x) || x < 1)) attrs.fail(`${name} ${showShape(v)} is not two positive integers (2-D windows only)`);
  return [v[0]!, v[1]!];
}

function extent(k: number, d: number): number {
  return (k - 1) * d + 1;
}

/** TF's 'same' padding along one axis: output ceil(in / stride), the odd pixel at the end. */
function samePads(size: number, k: number, s: number, d: number): [number, number] {
  const total = Math.max(0, (Math.ceil(size / s) - 1) * s + extent(k, d) - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** The window of a node on an `[H, W]` input, with ceil_mode turned into extra padding at the end. */
export function windowOf(attrs: NodeAttributes, input: Pair, kernel: Pair): Window {
  const strides = pairAttr(attrs, 'strides');
  const dilations = pairAttr(attrs, 'dilations');
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  let pads: [number, number, number, number];
  if (autoPad === 'NOTSET') {
    const p = attrs.ints('pads', [0, 0, 0, 0])!;
    if (p.length !== 4) attrs.fail(`pads ${showShape(p)} must have 4 values for a 2-D window`);
    if (p.some((x) => x < 0)) attrs.fail('negative pads are not supported');
    pads = [p[0]!, p[2]!, p[1]!, p[3]!];
  } else if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const [h, w] = [0, 1].map((a) => samePads(input[a]!, kernel[a]!, strides[a]!, dilations[a]!)) as [[number, number], [number, number]];
    pads = autoPad === 'SAME_UPPER' ? [h[0], h[1], w[0], w[1]] : [h[1], h[0], w[1], w[0]];
  } else attrs.fail(`auto_pad '${autoPad}' is not supported`);
  let ceilPadded = false;
  for (const a of [0, 1]) {
    const span = input[a]! + pads[2 * a]! + pads[2 * a + 1]! - extent(kernel[a]!, dilations[a]!);
    if (span < 0) attrs.fail(`the window ${showShape(kernel)} is larger than the padded input ${showShape(input)}`);
    if (attrs.int('ceil_mode', 0) === 1) {
      let out = Math.ceil(span / strides[a]!) + 1;
      // The last window must start inside the input or its leading padding.
      if ((out - 1) * strides[a]! >= input[a]! + pads[2 * a]!) out--;
      const extra = Math.max(0, (out - 1) * strides[a]! - span);
      pads[2 * a + 1] += extra;
      if (extra > 0) ceilPadded = true;
    }
  }
  return { kernel, strides, dilations, pads, ceilPadded };
}

/** Output size `[H, W]` of a window. */
export function windowOutput(input: Pair, w: Window): [number, number] {
  return [0, 1].map((a) => Math.floor((input[a]! + w.pads[2 * a]! + w.pads[2 * a + 1]! - extent(w.kernel[a]!, w.dilations[a]!)) / w.strides[a]!) + 1) as [number, number];
}

/** The graph padding equal to these pads: 'valid', 'same' when they are TF's, or the explicit pads. */
export function graphPadding(input: Pair, w: Window): Padding2D {
  if (w.pads.every((p) => p === 0)) return 'valid';
  const same = [0, 1].flatMap((a) => samePads(input[a]!, w.kernel[a]!, w.strides[a]!, w.dilations[a]!));
  if (same.every((p, i) => p === w.pads[i])) return 'same';
  return [w.pads[0], w.pads[1], w.pads[2], w.pads[3]];
}
