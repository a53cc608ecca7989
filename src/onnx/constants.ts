/**
 * Constant folding for ONNX graphs: tensors known before any input is seen (initializers, `Constant` nodes and
 * every node computed only from them) are evaluated here, in float64, so that shape computations such as
 * PyTorch's `Shape → Gather → Unsqueeze → Concat → Reshape` and weight preprocessing chains reduce to values.
 */
import type { NodeAttributes } from './attributes.js';
import { elementCount, type OnnxNode, type OnnxTensor } from './model.js';

/** A constant tensor: C-order float64 values (integers are exact up to 2^53). */
export interface ConstTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function constFromOnnx(t: OnnxTensor): ConstTensor {
  const data = new Float64Array(t.values.length);
  for (let i = 0; i < data.length; i++) data[i] = Number(t.values[i]!);
  return { shape: [...t.dims], data };
}

/** The shape numpy-style broadcasting gives two shapes, or null when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** The values of `t` broadcast to `shape` (which must be a broadcast of t's shape), C order. */
export function broadcastTo(t: ConstTensor, shape: readonly number[]): Float64Array {
  const n = elementCount(shape);
  const out = new Float64Array(n);
  const rank = shape.length;
  const src = [...new Array(rank - t.shape.length).fill(1), ...t.shape];
  // Strides of the source, 0 along broadcast axes.
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = src[i] === 1 ? 0 : s;
    s *= src[i]!;
  }
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let i = 0; i < rank; i++) off += idx[i]! * strides[i]!;
    out[k] = t.data[off]!;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i]! < shape[i]!) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** The permutation of flat C-order indices that a Transpose with `perm` performs: out[k] = in[result[k]]. */
export function transposeIndices(shape: readonly number[], perm: readonly number[]): Int32Array {
  const rank = shape.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  const outShape = perm.map((p) => shape[p]!);
  const n = elementCount(shape);
  const result = new Int32Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let i = 0; i < rank; i++) off += idx[i]! * inStrides[perm[i]!]!;
    result[k] = off;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i]! < outShape[i]!) break;
      idx[i] = 0;
    }
  }
  return result;
}

/** Normalizes a possibly negative axis. */
export function normalizeAxis(axis: number, rank: number, attrs: NodeAttributes): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) attrs.fail(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** The output shape of Reshape: 0 copies the input dim (unless allowzero), −1 is inferred. */
export function reshapeShape(input: readonly number[], spec: readonly number[], allowZero: boolean, attrs: NodeAttributes): number[] {
  const out = spec.map((d, i) => (d === 0 && !allowZero ? input[i]! : d));
  const total = elementCount(input);
  const minus = out.filter((d) => d === -1).length;
  if (minus > 1) attrs.fail('more than one -1 in the target shape');
  if (minus === 1) {
    const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (known === 0 || total % known !== 0) attrs.fail(`cannot reshape [${input.join(',')}] to [${spec.join(',')}]`);
    out[out.indexOf(-1)] = total / known;
  }
  if (elementCount(out) !== total) attrs.fail(`cannot reshape [${input.join(',')}] (${total} values) to [${out.join(',')}]`);
  return out;
}

/** The output shape of Flatten at `axis`. */
export function flattenShape(input: readonly number[], axis: number): number[] {
  const a = axis < 0 ? axis + input.length : axis;
  return [elementCount(input.slice(0, a)), elementCount(input.slice(a))];
}

/** The axes a Squeeze/Unsqueeze acts on: from the attribute (opset < 13) or the second input. */
export function axesOf(attrs: NodeAttributes, inputs: readonly (ConstTensor | undefined)[]): number[] | null {
  const fromInput = inputs[1];
  if (fromInput) return [...fromInput.data];
  const a = attrs.ints('axes', null);
  return a ? [...a] : null;
}

export function squeezeShape(input: readonly number[], axes: number[] | null, attrs: NodeAttributes): number[] {
  if (axes === null) return input.filter((d) => d !== 1);
  const norm = axes.map((a) => normalizeAxis(a, input.length, attrs));
  for (const a of norm) if (input[a] !== 1) attrs.fail(`cannot squeeze axis ${a} of size ${input[a]}`);
  return input.filter((_, i) => !norm.includes(i));
}

export function unsqueezeShape(input: readonly number[], axes: number[], attrs: NodeAttributes): number[] {
  const rank = input.length + axes.length;
  const norm = axes.map((a) => normalizeAxis(a, rank, attrs)).sort((a, b) => a - b);
  const out = [...input];
  for (const a of norm) out.splice(a, 0, 1);
  return out;
}

function elementwise(a: ConstTensor, b: ConstTensor, f: (x: number, y: number) => number, attrs: NodeAttributes): ConstTensor {
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) attrs.fail(`shapes [${a.shape.join(',')}] and [${b.shape.join(',')}] do not broadcast`);
  const x = broadcastTo(a, shape);
  const y = broadcastTo(b, shape);
  return { shape, data: x.map((v, i) => f(v, y[i]!)) };
}

function matMul2d(a: ConstTensor, b: ConstTensor, attrs: NodeAttributes): ConstTensor {
  if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[1] !== b.shape[0]) {
    attrs.fail(`constant MatMul of [${a.shape.join(',')}] and [${b.shape.join(',')}] is not supported (2-D operands only)`);
  }
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let t = 0; t < k; t++) for (let j = 0; j < n; j++) out[i * n + j] += a.data[i * k + t]! * b.data[t * n + j]!;
  return { shape: [m, n], data: out };
}

/** A `Constant` node's value. */
export function constantNodeValue(attrs: NodeAttributes): ConstTensor {
  const t = attrs.tensor('value');
  if (t) return constFromOnnx(t);
  if (attrs.has('value_float')) return { shape: [], data: Float64Array.of(attrs.float('value_float', 0)) };
  if (attrs.has('value_int')) return { shape: [], data: Float64Array.of(attrs.int('value_int', 0)) };
  const fs = attrs.floats('value_floats');
  if (fs) return { shape: [fs.length], data: Float64Array.from(fs) };
  const is = attrs.ints('value_ints', null);
  if (is) return { shape: [is.length], data: Float64Array.from(is) };
  return attrs.fail('no supported value attribute (value, value_float(s), value_int(s))');
}

/**
 * Evaluates a node whose inputs are all constants (`inputs[i]` undefined for an omitted optional input), or
 * returns null when the operator is not one this folder evaluates.
 */
export function foldConstantNode(node: OnnxNode, inputs: readonly (ConstTensor | undefined)[], attrs: NodeAttributes, shapeOf?: (name: string) => readonly number[] | null): ConstTensor[] | null {
  const x = inputs[0];
  const need = (i: number): ConstTensor => inputs[i] ?? attrs.fail(`input ${i} is missing`);
  switch (node.opType) {
    case 'Constant':
      return [constantNodeValue(attrs)];
    case 'Identity':
    case 'Dropout':
      return [need(0)];
    case 'Add':
      return [elementwise(need(0), need(1), (a, b) => a + b, attrs)];
    case 'Sub':
      return [elementwise(need(0), need(1), (a, b) => a - b, attrs)];
    case 'Mul':
      return [elementwise(need(0), need(1), (a, b) => a * b, attrs)];
    case 'Div':
      return [elementwise(need(0), need(1), (a, b) => a / b, attrs)];
    case 'Neg':
      return [{ shape: need(0).shape, data: need(0).data.map((v) => -v) }];
    case 'Relu':
      return [{ shape: need(0).shape, data: need(0).data.map((v) => (v > 0 ? v : 0)) }];
    case 'Sqrt':
      return [{ shape: need(0).shape, data: need(0).data.map(Math.sqrt) }];
    case 'Reciprocal':
      return [{ shape: need(0).shape, data: need(0).data.map((v) => 1 / v) }];
    case 'MatMul':
      return [matMul2d(need(0), need(1), attrs)];
    case 'Cast': {
      const to = attrs.int('to', 1);
      // Float types keep their values; integer and bool types truncate (as ONNX Runtime does for finite values).
      const isFloat = to === 1 || to === 10 || to === 11 || to === 16;
      return [{ shape: need(0).shape, data: need(0).data.map((v) => (isFloat ? v : to === 9 ? (v !== 0 ? 1 : 0) : Math.trunc(v))) }];
    }
    case 'Reshape': {
      const shape = reshapeShape(need(0).shape, [...need(1).data], attrs.int('allowzero', 0) === 1, attrs);
      return [{ shape, data: need(0).data }];
    }
    case 'Flatten':
      return [{ shape: flattenShape(need(0).shape, attrs.int('axis', 1)), data: need(0).data }];
    case 'Squeeze':
      return [{ shape: squeezeShape(need(0).shape, axesOf(attrs, inputs), attrs), data: need(0).data }];
    case 'Unsqueeze': {
      const axes = axesOf(attrs, inputs) ?? attrs.fail('no axes given');
      return [{ shape: unsqueezeShape(need(0).shape, axes, attrs), data: need(0).data }];
    }
    case 'Transpose': {
      const t = need(0);
      const perm = attrs.ints('perm', null) ?? t.shape.map((_, i) => t.shape.length - 1 - i);
      const idx = transposeIndices(t.shape, perm);
      return [{ shape: perm.map((p) => t.shape[p]!), data: Float64Array.from(idx, (i) => t.data[i]!) }];
    }
    case 'Concat': {
      const parts = inputs.filter((t): t is ConstTensor => t !== undefined);
      const rank = parts[0]!.shape.length;
      if (parts.some((p) => p.shape.length !== rank)) attrs.fail(`inputs of different ranks: ${parts.map((p) => showShape(p.shape)).join(', ')}`);
      const axis = normalizeAxis(attrs.int('axis', 0), rank, attrs);
      const outer = elementCount(parts[0]!.shape.slice(0, axis));
      const chunks = parts.map((p) => elementCount(p.shape.slice(axis)));
      const data = new Float64Array(chunks.reduce((a, b) => a + b, 0) * outer);
      let o = 0;
      for (let r = 0; r < outer; r++) for (let p = 0; p < parts.length; p++) {
        data.set(parts[p]!.data.subarray(r * chunks[p]!, (r + 1) * chunks[p]!), o);
        o += chunks[p]!;
      }
      const shape = [...parts[0]!.shape];
      shape[axis] = parts.reduce((a, p) => a + p.shape[axis]!, 0);
      return [{ shape, data }];
    }
    case 'Gather': {
      const t = need(0);
      const ind = need(1);
      const axis = normalizeAxis(attrs.int('axis', 0), t.shape.length, attrs);
      const outer = elementCount(t.shape.slice(0, axis));
      const inner = elementCount(t.shape.slice(axis + 1));
      const dim = t.shape[axis]!;
      const data = new Float64Array(outer * ind.data.length * inner);
      let o = 0;
      for (let r = 0; r < outer; r++) for (const raw of ind.data) {
        const k = raw < 0 ? raw + dim : raw;
        if (k < 0 || k >= dim) attrs.fail(`index ${raw} is out of range for size ${dim}`);
        data.set(t.data.subarray((r * dim + k) * inner, (r * dim + k + 1) * inner), o);
        o += inner;
      }
      return [{ shape: [...t.shape.slice(0, axis), ...ind.shape, ...t.shape.slice(axis + 1)], data }];
    }
    case 'Shape': {
      const s = x ? x.shape : shapeOf?.(node.inputs[0]!);
      if (!s) return null;
      const rank = s.length;
      const clampAxis = (a: number): number => Math.min(rank, Math.max(0, a < 0 ? a + rank : a));
      const dims = s.slice(clampAxis(attrs.int('start', 0)), clampAxis(attrs.int('end', rank)));
      return [{ shape: [dims.length], data: Float64Array.from(dims) }];
    }
    case 'ConstantOfShape': {
      const shape = [...need(0).data];
      const v = attrs.tensor('value');
      const fill = v ? Number(v.values[0] ?? 0) : 0;
      return [{ shape, data: new Float64Array(elementCount(shape)).fill(fill) }];
    }
    default:
      return null;
  }
}

/** For error messages: a shape as [a,b,c]. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
