/**
 * Sum over every axis but the last, for the wasm backend: the bias gradient of every convolution and dense
 * layer (`db[c] = sum over n, h, w of dy[n, h, w, c]`).
 *
 * The stock wasm Sum first transposes the reduced axes to the end (a full copy of the gradient), then reduces.
 * Here the tensor is read once, as `rows x C`, keeping eight running column sums in local variables per pass
 * (JavaScript numbers, i.e. float64 accumulation) and rounding to float32 once at the end. Every other
 * reduction (other axes, other dtypes) goes to the stock kernel.
 */
import { tf } from '../tf.js';
import { allocF32, f32, inputOf, wasmBackendOf, type KernelArgs, type TensorInfo } from './wasm-heap.js';

/** Whether `axis` (as the Sum kernel receives it) names exactly the axes 0 .. rank-2. */
function reducesAllButLast(axis: number | number[], rank: number): boolean {
  const axes = tf.util.parseAxisParam(axis, new Array<number>(rank).fill(1));
  if (rank < 2 || axes.length !== rank - 1) return false;
  const sorted = [...axes].sort((a, b) => a - b);
  return sorted.every((a, i) => a === i);
}

/** `out[c] = sum over rows r of v[r*C + c]`, eight columns per pass. */
export function columnSums(v: Float32Array, columns: number, out: Float32Array): void {
  const n = v.length;
  let c0 = 0;
  for (; c0 + 8 <= columns; c0 += 8) {
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let a4 = 0;
    let a5 = 0;
    let a6 = 0;
    let a7 = 0;
    for (let i = c0; i < n; i += columns) {
      a0 += v[i];
      a1 += v[i + 1];
      a2 += v[i + 2];
      a3 += v[i + 3];
      a4 += v[i + 4];
      a5 += v[i + 5];
      a6 += v[i + 6];
      a7 += v[i + 7];
    }
    out[c0] = a0;
    out[c0 + 1] = a1;
    out[c0 + 2] = a2;
    out[c0 + 3] = a3;
    out[c0 + 4] = a4;
    out[c0 + 5] = a5;
    out[c0 + 6] = a6;
    out[c0 + 7] = a7;
  }
  for (; c0 < columns; c0++) {
    let a = 0;
    for (let i = c0; i < n; i += columns) a += v[i];
    out[c0] = a;
  }
}

/** Makes the Sum kernel function: the all-but-last-axis case here, everything else through `stock`. */
export function leadingAxesSum(stock: tf.KernelFunc): tf.KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const x = inputOf(args, 'x');
    const { axis, keepDims } = (args.attrs ?? {}) as { axis: number | number[]; keepDims?: boolean };
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || !reducesAllButLast(axis, rank) || tf.util.sizeFromShape(x.shape) === 0) {
      return stock(args as unknown as Parameters<tf.KernelFunc>[0]);
    }
    const backend = wasmBackendOf(args);
    const columns = x.shape[rank - 1]!;
    const out = allocF32(backend, [columns]);
    columnSums(f32(backend, x), columns, f32(backend, out));
    if (keepDims) out.shape = [...new Array<number>(rank - 1).fill(1), columns];
    return out;
  };
  return kernel as unknown as tf.KernelFunc;
}
