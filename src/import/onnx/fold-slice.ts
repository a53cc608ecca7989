/**
 * Constant folding of Slice, which PyTorch's exporter uses (from opset 11) to reorder the pad amounts of F.pad;
 * the shared folder of `onnx/constants.ts` does not evaluate it. Semantics of the ONNX operator: per axis,
 * negative starts and ends count from the end, then clamp to the axis ([0, d] for positive steps, [-1, d-1]
 * for negative ones).
 */
import type { NodeAttributes } from '../../onnx/attributes.js';
import { normalizeAxis, type ConstTensor } from '../../onnx/constants.js';
import { elementCount } from '../../onnx/model.js';

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Slice of a constant: starts/ends/axes/steps from inputs 1–4 (opset ≥ 10) or attributes (opset < 10). */
export function foldSlice(inputs: readonly (ConstTensor | undefined)[], attrs: NodeAttributes, opset: number): ConstTensor {
  const t = inputs[0] ?? attrs.fail('the data input is missing');
  const rank = t.shape.length;
  const list = (i: number, attr: string): number[] | null => {
    if (opset < 10) return attrs.ints(attr, null) ? [...attrs.ints(attr, null)!] : null;
    return inputs[i] ? [...inputs[i]!.data] : null;
  };
  const starts = list(1, 'starts') ?? attrs.fail('starts are missing');
  const ends = list(2, 'ends') ?? attrs.fail('ends are missing');
  const axes = (list(3, 'axes') ?? starts.map((_, i) => i)).map((a) => normalizeAxis(a, rank, attrs));
  const steps = (opset < 10 ? null : list(4, 'steps')) ?? starts.map(() => 1);
  const begin = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  const size = [...t.shape];
  axes.forEach((a, i) => {
    const d = t.shape[a]!;
    const s = steps[i]!;
    if (s === 0) attrs.fail('a step of 0');
    let b = starts[i]! < 0 ? starts[i]! + d : starts[i]!;
    let e = ends[i]! < 0 ? ends[i]! + d : ends[i]!;
    if (s > 0) [b, e] = [clamp(b, 0, d), clamp(e, 0, d)];
    else [b, e] = [clamp(b, 0, d - 1), clamp(e, -1, d - 1)];
    begin[a] = b;
    step[a] = s;
    size[a] = Math.max(0, Math.ceil((e - b) / s));
  });
  const strides = t.shape.map((_, i) => elementCount(t.shape.slice(i + 1)));
  const data = new Float64Array(elementCount(size));
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < data.length; k++) {
    let off = 0;
    for (let i = 0; i < rank; i++) off += (begin[i]! + idx[i]! * step[i]!) * strides[i]!;
    data[k] = t.data[off]!;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i]! < size[i]!) break;
      idx[i] = 0;
    }
  }
  return { shape: size, data };
}
