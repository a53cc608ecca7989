/**
 * Model graph (any DAG of `graph/model-graph.ts`) → NetworkIR, the verifiers' chain of affine, ReLU and
 * max-pooling steps over one flat vector, exactly (in real arithmetic):
 *
 * - The vector holds every tensor still to be read (the live set), one after the other. A linear node
 *   (dense, convolution with any groups, dilations and padding, average and global average pooling,
 *   channel affine, flatten, constant pad, concat, residual add) is one affine step that copies the carried
 *   tensors and appends its output.
 * - A ReLU acts on the whole vector, so a tensor carried past it travels as the pair (relu(v), relu(−v)) and
 *   is put back as their difference by the next affine step (a tensor known to be ≥ 0, the output of a ReLU,
 *   travels as itself). LeakyReLU (relu(z) − α·relu(−z)) and Clip (lo + relu(z − lo) − relu(z − hi)) are exact
 *   the same way. Max-pooling carries other tensors as one-element groups.
 * - Sigmoid and tanh become `smooth` steps on the new tensor's elements only (sound linear bands in IBP and
 *   CROWN; complete methods refuse them); sign is refused in one line.
 * Consecutive linear maps are folded by `IrBuilder`. Indices follow NHWC (TF.js's flatten order), as for
 * model directories, unless a source file's own input order is given (an ONNX file's C order, `onnx-network.ts`):
 * then a permutation in front, folded into the first affine step, maps it onto the graph's input. The front
 * `Normalize` uses the float32 constants the layer computes with.
 */
import { QrobustError } from '../core/errors.js';
import { MODEL_INPUT, type Activation, type GraphNode, type ModelGraph, type Padding2D } from '../graph/model-graph.js';
import { padBefore } from '../models/graph.js';
import { flatIndex, poolGroups, type WindowGeometry } from './bounds/conv-matrix.js';
import { IrBuilder } from './bounds/ir-builder.js';
import { CsrBuilder, denseMatrix, densified, permutationMatrix } from './bounds/matrix.js';
import { checkFiniteParameters } from './finite-parameters.js';
import type { NetworkIR } from './ir.js';
import { EntryBudget } from './ir-size.js';

type Shape = readonly number[];

interface Live {
  readonly name: string;
  readonly shape: Shape;
  readonly size: number;
  /** Known to be ≥ 0 (a ReLU output): carried past a ReLU without a negative copy. */
  readonly nonNegative: boolean;
}

/** One row of a linear map over the state vector: (column, coefficient) pairs and a constant. */
interface Row {
  readonly cols: readonly [number, number][];
  readonly constant: number;
}

const sizeOf = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/** A row's (column, coefficient) pairs by increasing column, repeated columns summed. */
function ascending(cols: readonly [number, number][]): readonly [number, number][] {
  if (cols.every(([c], i) => i === 0 || c > cols[i - 1]![0])) return cols;
  const merged = new Map<number, number>();
  for (const [c, v] of cols) merged.set(c, (merged.get(c) ?? 0) + v);
  return [...merged.entries()].sort((a, b) => a[0] - b[0]);
}

function fail(source: string, node: GraphNode, why: string): never {
  throw new QrobustError('unsupported_layer', `${source}: node '${node.name}' (${node.op.kind}): ${why}`);
}

/** Window geometry along one axis: output size and the padding before the first element. */
function axisWindow(inSize: number, kernel: number, stride: number, dilation: number, padding: Padding2D, axis: 0 | 1): { out: number; before: number } {
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'same') return { out: Math.ceil(inSize / stride), before: padBefore(inSize, span, stride, 'same') };
  if (padding === 'valid') return { out: Math.floor((inSize - span) / stride) + 1, before: 0 };
  const before = axis === 0 ? padding[0] : padding[2];
  const after = axis === 0 ? padding[1] : padding[3];
  return { out: Math.floor((inSize + before + after - span) / stride) + 1, before };
}

function geometry(shape: Shape, kernel: readonly [number, number], strides: readonly [number, number], dilations: readonly [number, number], padding: Padding2D): WindowGeometry {
  const [inH, inW, channels] = shape as [number, number, number];
  const h = axisWindow(inH, kernel[0], strides[0], dilations[0], padding, 0);
  const w = axisWindow(inW, kernel[1], strides[1], dilations[1], padding, 1);
  return { channels, inH, inW, outH: h.out, outW: w.out, kernelH: kernel[0], kernelW: kernel[1], strideH: strides[0], strideW: strides[1], padTop: h.before, padLeft: w.before, dilationH: dilations[0], dilationW: dilations[1] };
}

/** Rows of a node's linear part, reading its inputs at the given state offsets; and the output shape. */
function linearRows(node: GraphNode, inputs: readonly { offset: number; shape: Shape }[], source: string): { rows: Row[]; shape: Shape } {
  const op = node.op;
  const [x] = inputs as [{ offset: number; shape: Shape }];
  const map3 = (): [number, number, number] => {
    if (x.shape.length !== 3) fail(source, node, `input shape [${x.shape.join(',')}] is not [H, W, C]`);
    return x.shape as [number, number, number];
  };
  switch (op.kind) {
    case 'dense': {
      const [nIn, nOut] = op.kernelShape;
      if (sizeOf(x.shape) !== nIn) fail(source, node, `input of ${sizeOf(x.shape)} values for a kernel of ${nIn} rows`);
      const rows: Row[] = [];
      for (let o = 0; o < nOut; o++) {
        const cols: [number, number][] = [];
        for (let k = 0; k < nIn; k++) {
          const w = op.kernel[k * nOut + o]!;
          if (w !== 0) cols.push([x.offset + k, w]);
        }
        rows.push({ cols, constant: op.bias[o]! });
      }
      return { rows, shape: [nOut] };
    }
    case 'conv2d': {
      const [, , ci] = map3();
      const [kh, kw, cig, co] = op.kernelShape;
      if (cig * op.groups !== ci || co % op.groups !== 0) fail(source, node, `kernel [${op.kernelShape.join(',')}] with ${op.groups} groups does not fit ${ci} input channels`);
      const g = geometry(x.shape, [kh, kw], op.strides, op.dilations, op.padding);
      const perGroup = co / op.groups;
      const rows: Row[] = [];
      for (let oh = 0; oh < g.outH; oh++) {
        for (let ow = 0; ow < g.outW; ow++) {
          for (let oc = 0; oc < co; oc++) {
            const group = Math.floor(oc / perGroup);
            const cols: [number, number][] = [];
            for (let a = 0; a < kh; a++) {
              const ih = oh * g.strideH - g.padTop + a * g.dilationH;
              if (ih < 0 || ih >= g.inH) continue;
              for (let b = 0; b < kw; b++) {
                const iw = ow * g.strideW - g.padLeft + b * g.dilationW;
                if (iw < 0 || iw >= g.inW) continue;
                for (let k = 0; k < cig; k++) {
                  const w = op.kernel[((a * kw + b) * cig + k) * co + oc]!;
                  cols.push([x.offset + flatIndex('NHWC', ci, g.inH, g.inW, group * cig + k, ih, iw), w]);
                }
              }
            }
            rows.push({ cols, constant: op.bias[oc]! });
          }
        }
      }
      return { rows, shape: [g.outH, g.outW, co] };
    }
    case 'avgPool': {
      const [, , c] = map3();
      const g = geometry(x.shape, op.poolSize, op.strides, [1, 1], op.padding);
      const full = typeof op.padding !== 'string' && op.countIncludePad === true;
      const { offsets, indices } = poolGroups(g, 'NHWC');
      const rows: Row[] = [];
      for (let r = 0; r + 1 < offsets.length; r++) {
        const n = offsets[r + 1]! - offsets[r]!;
        if (n === 0) fail(source, node, 'a window lies entirely in the padding');
        const divisor = full ? op.poolSize[0] * op.poolSize[1] : n;
        const cols: [number, number][] = [];
        for (let k = offsets[r]!; k < offsets[r + 1]!; k++) cols.push([x.offset + indices[k]!, 1 / divisor]);
        rows.push({ cols, constant: 0 });
      }
      return { rows, shape: [g.outH, g.outW, c] };
    }
    case 'globalAvgPool': {
      const [h, w, c] = map3();
      const rows: Row[] = [];
      for (let ch = 0; ch < c; ch++) {
        const cols: [number, number][] = [];
        for (let p = 0; p < h * w; p++) cols.push([x.offset + p * c + ch, 1 / (h * w)]);
        rows.push({ cols, constant: 0 });
      }
      return { rows, shape: [c] };
    }
    case 'channelAffine': {
      const c = x.shape[x.shape.length - 1]!;
      if (op.scale.length !== c) fail(source, node, `${op.scale.length} scales for ${c} channels`);
      const rows = Array.from({ length: sizeOf(x.shape) }, (_, i): Row => ({ cols: [[x.offset + i, op.scale[i % c]!]], constant: op.offset[i % c]! }));
      return { rows, shape: x.shape };
    }
    case 'flatten': {
      const n = sizeOf(x.shape);
      if (op.order === 'hwc' || x.shape.length !== 3) return { rows: Array.from({ length: n }, (_, i): Row => ({ cols: [[x.offset + i, 1]], constant: 0 })), shape: [n] };
      const [h, w, c] = x.shape as [number, number, number];
      const rows: Row[] = [];
      for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) rows.push({ cols: [[x.offset + (y * w + z) * c + ch, 1]], constant: 0 });
      return { rows, shape: [n] };
    }
    case 'pad': {
      const [h, w, c] = map3();
      const [t, b, l, r] = op.pads;
      const H = h + t + b;
      const W = w + l + r;
      const rows: Row[] = [];
      for (let y = 0; y < H; y++) {
        for (let z = 0; z < W; z++) {
          for (let ch = 0; ch < c; ch++) {
            const iy = y - t;
            const iz = z - l;
            const inside = iy >= 0 && iy < h && iz >= 0 && iz < w;
            rows.push(inside ? { cols: [[x.offset + (iy * w + iz) * c + ch, 1]], constant: 0 } : { cols: [], constant: op.value });
          }
        }
      }
      return { rows, shape: [H, W, c] };
    }
    case 'add': {
      const n = sizeOf(x.shape);
      for (const other of inputs) if (other.shape.join(',') !== x.shape.join(',')) fail(source, node, `adds [${other.shape.join(',')}] to [${x.shape.join(',')}]`);
      const rows = Array.from({ length: n }, (_, i): Row => ({ cols: inputs.map((inp): [number, number] => [inp.offset + i, 1]), constant: 0 }));
      return { rows, shape: x.shape };
    }
    case 'concat': {
      const rank = x.shape.length;
      const axis = op.axis < 0 ? op.axis + rank : op.axis;
      if (axis < 0 || axis >= rank) fail(source, node, `axis ${op.axis} for rank ${rank}`);
      const outer = sizeOf(x.shape.slice(0, axis));
      const inner = sizeOf(x.shape.slice(axis + 1));
      for (const other of inputs) {
        if (other.shape.length !== rank || other.shape.some((d, i) => i !== axis && d !== x.shape[i])) fail(source, node, `concatenates [${other.shape.join(',')}] with [${x.shape.join(',')}]`);
      }
      const rows: Row[] = [];
      for (let o = 0; o < outer; o++) {
        for (const inp of inputs) {
          const span = inp.shape[axis]! * inner;
          for (let k = 0; k < span; k++) rows.push({ cols: [[inp.offset + o * span + k, 1]], constant: 0 });
        }
      }
      const shape = [...x.shape];
      shape[axis] = inputs.reduce((s, inp) => s + inp.shape[axis]!, 0);
      return { rows, shape };
    }
    case 'activation':
      return { rows: Array.from({ length: sizeOf(x.shape) }, (_, i): Row => ({ cols: [[x.offset + i, 1]], constant: 0 })), shape: x.shape };
    case 'maxPool':
      return fail(source, node, 'max-pooling is not linear');
  }
}

/** Matrix entries the node's step will hold (weights, window taps, copies), counted before its rows are built. */
function entriesOf(node: GraphNode, inputs: readonly { shape: Shape }[]): number {
  const op = node.op;
  const x = inputs[0]!.shape;
  const spatial = x.length === 3;
  switch (op.kind) {
    case 'dense':
      return op.kernel.length;
    case 'conv2d': {
      if (!spatial) return 0;
      const [kh, kw, cig, co] = op.kernelShape;
      const g = geometry(x, [kh, kw], op.strides, op.dilations, op.padding);
      return g.outH * g.outW * co * kh * kw * cig;
    }
    case 'avgPool':
    case 'maxPool': {
      if (!spatial) return 0;
      const g = geometry(x, op.poolSize, op.strides, [1, 1], op.padding);
      return g.outH * g.outW * g.channels * op.poolSize[0] * op.poolSize[1];
    }
    default:
      return inputs.reduce((s, i) => s + sizeOf(i.shape), 0);
  }
}

/** The activation applied after a node's linear part. */
function activationOf(node: GraphNode): Activation {
  const op = node.op;
  if (op.kind === 'activation' || op.kind === 'dense' || op.kind === 'conv2d') return op.activation;
  return { kind: 'linear' };
}

class DagLowering {
  private live: Live[] = [];
  private readonly lastUse = new Map<string, number>();
  readonly b: IrBuilder;
  private readonly budget: EntryBudget;

  constructor(private readonly graph: ModelGraph, private readonly source: string) {
    this.b = new IrBuilder(sizeOf(graph.inputShape), source);
    this.budget = new EntryBudget(source);
    graph.nodes.forEach((n, k) => n.inputs.forEach((i) => this.lastUse.set(i, k)));
    this.lastUse.set(graph.output, graph.nodes.length);
    this.live = [{ name: MODEL_INPUT, shape: graph.inputShape, size: sizeOf(graph.inputShape), nonNegative: false }];
  }

  private offsetOf(name: string): number {
    let offset = 0;
    for (const t of this.live) {
      if (t.name === name) return offset;
      offset += t.size;
    }
    throw new QrobustError('unsupported_layer', `${this.source}: tensor '${name}' is read but not live`);
  }

  private stateSize(): number {
    return this.live.reduce((s, t) => s + t.size, 0);
  }

  /** Emits an affine step: the carried tensors copied, then the given rows. */
  private affine(carried: readonly Live[], rows: readonly Row[], name: string): void {
    const m = new CsrBuilder(this.stateSize());
    const bias: number[] = [];
    for (const t of carried) {
      const off = this.offsetOf(t.name);
      for (let i = 0; i < t.size; i++) {
        m.add(off + i, 1);
        m.endRow();
        bias.push(0);
      }
    }
    for (const r of rows) {
      for (const [c, v] of ascending(r.cols)) m.add(c, v);
      m.endRow();
      bias.push(r.constant);
    }
    this.b.linear(densified(m.finish()), Float64Array.from(bias), name);
  }

  lower(node: GraphNode, k: number): void {
    const carried = this.live.filter((t) => (this.lastUse.get(t.name) ?? -1) > k);
    const inputs = node.inputs.map((i) => ({ offset: this.offsetOf(i), shape: this.live.find((t) => t.name === i)!.shape }));
    this.budget.reserve(node.name, entriesOf(node, inputs) + carried.reduce((s, t) => s + 2 * t.size, 0));
    if (node.op.kind === 'maxPool') {
      this.maxPool(node, carried, inputs[0]!);
      return;
    }
    if (this.chainDense(node, carried) || this.chainChannelAffine(node, carried)) return;
    const { rows, shape } = linearRows(node, inputs, this.source);
    const act = activationOf(node);
    const out: Live = { name: node.name, shape, size: rows.length, nonNegative: act.kind === 'relu' || (act.kind === 'clip' && act.min >= 0) };
    if (act.kind === 'linear' || act.kind === 'sigmoid' || act.kind === 'tanh') {
      this.affine(carried, rows, node.name);
      const from = carried.reduce((s, t) => s + t.size, 0);
      if (act.kind !== 'linear') this.b.smooth(act.kind, from, from + rows.length, `${node.name}/${act.kind}`);
      this.live = [...carried, out];
      return;
    }
    this.nonlinear(node, carried, rows, act, out);
  }

  /**
   * A dense layer (linear or ReLU) that reads the whole state and leaves nothing carried, as one dense matrix:
   * what the general path builds, without the rows. False when the node is not such a layer.
   */
  private chainDense(node: GraphNode, carried: readonly Live[]): boolean {
    const op = node.op;
    if (op.kind !== 'dense' || carried.length > 0 || (op.activation.kind !== 'linear' && op.activation.kind !== 'relu')) return false;
    const [nIn, nOut] = op.kernelShape;
    if (this.live.length !== 1 || this.live[0]!.size !== nIn) return false;
    const data = new Float64Array(nOut * nIn);
    for (let k = 0; k < nIn; k++) for (let o = 0; o < nOut; o++) data[o * nIn + k] = op.kernel[k * nOut + o]!;
    this.b.linear(denseMatrix(nOut, nIn, data), Float64Array.from(op.bias), node.name);
    if (op.activation.kind === 'relu') this.b.relu(`${node.name}/relu`);
    this.live = [{ name: node.name, shape: [nOut], size: nOut, nonNegative: op.activation.kind === 'relu' }];
    return true;
  }

  /**
   * A channel affine that reads the whole state and leaves nothing carried, as element-wise steps (a scale,
   * then a shift, each left out when it is the identity): the IR builder then counts their float32 roundings
   * as it does for the file's Mul, Div, Sub and Add. False when the node is not such a layer.
   */
  private chainChannelAffine(node: GraphNode, carried: readonly Live[]): boolean {
    const op = node.op;
    if (op.kind !== 'channelAffine' || carried.length > 0 || this.live.length !== 1) return false;
    const x = this.live[0]!;
    const c = x.shape[x.shape.length - 1]!;
    if (op.scale.length !== c) return false;
    const scale = Float64Array.from({ length: x.size }, (_, i) => op.scale[i % c]!);
    const offset = Float64Array.from({ length: x.size }, (_, i) => op.offset[i % c]!);
    if (scale.some((s) => s !== 1)) this.b.scale(scale, node.name);
    if (offset.some((o) => o !== 0)) this.b.add(offset, node.name);
    this.live = [{ name: node.name, shape: x.shape, size: x.size, nonNegative: false }];
    return true;
  }

  /** relu over [carried as (v, −v) or v] ++ pieces of z; then the next affine step puts them back together. */
  private nonlinear(node: GraphNode, carried: readonly Live[], z: readonly Row[], act: Activation, out: Live): void {
    const shift = (r: Row, sign: number, c: number): Row => ({ cols: r.cols.map(([i, v]) => [i, sign * v]), constant: sign * r.constant + c });
    let pieces: { sign: number; shift: number; weight: number }[];
    let base = 0;
    switch (act.kind) {
      case 'relu':
        pieces = [{ sign: 1, shift: 0, weight: 1 }];
        break;
      case 'leakyRelu':
        pieces = [{ sign: 1, shift: 0, weight: 1 }, { sign: -1, shift: 0, weight: -act.alpha }];
        break;
      case 'clip':
        if (!(act.min < act.max)) fail(this.source, node, `clip to [${act.min}, ${act.max}] is empty`);
        base = act.min;
        pieces = [{ sign: 1, shift: -act.min, weight: 1 }, { sign: 1, shift: -act.max, weight: -1 }];
        break;
      default:
        return fail(this.source, node, `${act.kind} activations are not supported by the verifier (ReLU, LeakyReLU, Clip, sigmoid and tanh are)`);
    }
    // Step 1: affine to [carried copies (and negated copies)] ++ [z pieces]; step 2: ReLU.
    const split: Row[] = [];
    const layout: { t: Live; negative: boolean }[] = [];
    for (const t of carried) {
      const off = this.offsetOf(t.name);
      for (let i = 0; i < t.size; i++) split.push({ cols: [[off + i, 1]], constant: 0 });
      layout.push({ t, negative: false });
      if (!t.nonNegative) {
        for (let i = 0; i < t.size; i++) split.push({ cols: [[off + i, -1]], constant: 0 });
        layout.push({ t, negative: true });
      }
    }
    for (const p of pieces) for (const r of z) split.push(shift(r, p.sign, p.shift));
    this.affine([], split, node.name);
    this.b.relu(`${node.name}/relu`);
    // A plain ReLU with nothing carried needs no recombination (and the next affine step stays as it is).
    if (carried.length === 0 && pieces.length === 1 && base === 0) {
      this.live = [out];
      return;
    }
    // Step 3: recombine into [carried] ++ [out].
    const recombined: Row[] = [];
    let offset = 0;
    const positive = new Map<string, number>();
    const negative = new Map<string, number>();
    for (const l of layout) {
      (l.negative ? negative : positive).set(l.t.name, offset);
      offset += l.t.size;
    }
    for (const t of carried) {
      const p = positive.get(t.name)!;
      const n = negative.get(t.name);
      for (let i = 0; i < t.size; i++) recombined.push({ cols: n === undefined ? [[p + i, 1]] : [[p + i, 1], [n + i, -1]], constant: 0 });
    }
    const zStart = offset;
    for (let i = 0; i < z.length; i++) {
      recombined.push({ cols: pieces.map((p, j): [number, number] => [zStart + j * z.length + i, p.weight]), constant: base });
    }
    const m = new CsrBuilder(offset + pieces.length * z.length);
    for (const r of recombined) {
      for (const [c, v] of r.cols) m.add(c, v);
      m.endRow();
    }
    this.b.linear(m.finish(), Float64Array.from(recombined, (r) => r.constant), `${node.name}/recombine`);
    this.live = [...carried, out];
  }

  private maxPool(node: GraphNode, carried: readonly Live[], x: { offset: number; shape: Shape }): void {
    const op = node.op;
    if (op.kind !== 'maxPool') return;
    if (x.shape.length !== 3) fail(this.source, node, `input shape [${x.shape.join(',')}] is not [H, W, C]`);
    const g = geometry(x.shape, op.poolSize, op.strides, [1, 1], op.padding);
    const pooled = poolGroups(g, 'NHWC');
    const offsets: number[] = [0];
    const indices: number[] = [];
    for (const t of carried) {
      const off = this.offsetOf(t.name);
      for (let i = 0; i < t.size; i++) {
        indices.push(off + i);
        offsets.push(indices.length);
      }
    }
    for (let r = 0; r + 1 < pooled.offsets.length; r++) {
      for (let k = pooled.offsets[r]!; k < pooled.offsets[r + 1]!; k++) indices.push(x.offset + pooled.indices[k]!);
      offsets.push(indices.length);
    }
    this.b.maxpool(Int32Array.from(offsets), Int32Array.from(indices), node.name);
    const input = this.live.find((t) => t.name === node.inputs[0])!;
    this.live = [...carried, { name: node.name, shape: [g.outH, g.outW, g.channels], size: g.outH * g.outW * g.channels, nonNegative: input.nonNegative }];
  }

  finish(inputShape: Shape): NetworkIR {
    if (this.live.length !== 1 || this.live[0]!.name !== this.graph.output) {
      throw new QrobustError('unsupported_layer', `${this.source}: the graph output '${this.graph.output}' is not the last tensor`);
    }
    return this.b.finish(inputShape);
  }
}

/**
 * A source file's own input, when the IR's input is to be the file's elements rather than the graph's NHWC
 * image: graph input element g is the file's element `order[g]` (null: the same order), and `shape` is the shape
 * the IR reports.
 */
export interface FileInput {
  readonly order: Int32Array | null;
  readonly shape: readonly number[];
}

/**
 * The IR of a model graph with an optional front normalization (see the module comment), on the graph's NHWC
 * input or, given `fileInput`, on the file's input elements in their own order.
 * @throws QrobustError('invalid_model') for a parameter that is not finite, QrobustError('unsupported_layer')
 *   naming the first node with no exact form, or the node that makes the network too large (`ir-size.ts`).
 */
export function irFromModelGraph(graph: ModelGraph, front: { readonly mean: readonly number[]; readonly std: readonly number[] } | undefined, source: string, fileInput?: FileInput): NetworkIR {
  checkFiniteParameters(graph, source);
  const d = new DagLowering(graph, source);
  if (fileInput?.order) d.b.linear(permutationMatrix(fileInput.order), null, 'input order');
  if (front) {
    const n = sizeOf(graph.inputShape);
    const c = graph.inputShape[2];
    const at = (v: readonly number[], i: number): number => v[v.length === 1 ? 0 : i % c]!;
    d.b.add(Float64Array.from({ length: n }, (_, i) => -Math.fround(at(front.mean, i))), 'normalize');
    d.b.scale(Float64Array.from({ length: n }, (_, i) => Math.fround(1 / at(front.std, i))), 'normalize');
  }
  graph.nodes.forEach((node, k) => d.lower(node, k));
  return d.finish(fileInput?.shape ?? graph.inputShape);
}
