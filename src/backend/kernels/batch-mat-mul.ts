/**
 * BatchMatMul and _FusedMatMul wrappers for the wasm backend.
 *
 * The stock wasm matrix product only uses XNNPACK when neither operand is flagged as transposed; with
 * `transposeA` / `transposeB` it falls back to a scalar loop about ten times slower (and, in the fused
 * version, adds the bias at the wrong positions). Autodiff asks for exactly those products in every
 * dense-layer backward pass (`da = dy · bᵀ`, `db = aᵀ · dy`). The wrappers therefore make the transposes
 * explicit (last two axes, stock Transpose kernel) and call the stock kernel with both flags off.
 *
 * XNNPACK also repacks its right operand on every call with a new tensor, so for the plain product the
 * wrapper picks, by the number of elements copied, between transposing the flagged operands and computing the
 * transposed product instead: `a · bᵀ = (b · aᵀ)ᵀ` and `aᵀ · bᵀ = (b · a)ᵀ`. For the dense input gradient
 * `dy · Wᵀ` (batch 128, 1568 inputs, 128 units) the second form copies about half as much.
 * Untransposed calls go straight through.
 */
import { tf } from '../tf.js';
import { callWasmKernel, free, single, wasmBackendOf, type KernelArgs, type TensorInfo, type WasmBackend } from './wasm-heap.js';

/** Swaps the last two axes of `t` with the wasm Transpose kernel; the caller frees the result. */
function transposeLastTwo(backend: WasmBackend, t: TensorInfo): TensorInfo {
  const r = t.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return callWasmKernel('Transpose', backend, { x: t }, { perm });
}

type Stock = (a: TensorInfo, b: TensorInfo) => TensorInfo;

/**
 * `op(a) · op(b)` from untransposed products only. `swapAllowed`: the result may be computed as the transpose
 * of the swapped product (not for fused products, whose bias runs along the last axis).
 */
function product(backend: WasmBackend, stock: Stock, a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean, swapAllowed: boolean): TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  // op(a) is M x K, op(b) is K x N (per batch entry; sizes only steer the choice).
  const M = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = tA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const N = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  // Elements copied: transposed operands, the packed right operand, a transposed result.
  const direct = (tA ? M * K : 0) + (tB ? K * N : 0) + K * N;
  const swapped = (tA ? 0 : M * K) + (tB ? 0 : K * N) + K * M + M * N;
  const temps: TensorInfo[] = [];
  try {
    if (swapAllowed && swapped < direct) {
      // op(a) · op(b) = (op(b)ᵀ · op(a)ᵀ)ᵀ, where op(b)ᵀ is b itself when tB and op(a)ᵀ is a itself when tA.
      const left = tB ? b : transposeLastTwo(backend, b);
      if (left !== b) temps.push(left);
      const right = tA ? a : transposeLastTwo(backend, a);
      if (right !== a) temps.push(right);
      const out = stock(left, right);
      temps.push(out);
      return transposeLastTwo(backend, out);
    }
    const left = tA ? transposeLastTwo(backend, a) : a;
    if (left !== a) temps.push(left);
    const right = tB ? transposeLastTwo(backend, b) : b;
    if (right !== b) temps.push(right);
    return stock(left, right);
  } finally {
    for (const t of temps) free(backend, t);
  }
}

/**
 * Makes a kernel function that forwards to `stock` (the original wasm BatchMatMul or _FusedMatMul kernel,
 * named by `kernelName`) without the `transposeA` / `transposeB` flags.
 */
export function explicitTransposeMatMul(stock: tf.KernelFunc, kernelName: string): tf.KernelFunc {
  const fused = kernelName !== tf.BatchMatMul;
  const kernel = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const a = args.inputs['a'];
    const b = args.inputs['b'];
    const tA = attrs.transposeA === true;
    const tB = attrs.transposeB === true;
    if ((!tA && !tB) || a === undefined || b === undefined || a.shape.length < 2 || b.shape.length < 2) {
      return stock(args as unknown as Parameters<tf.KernelFunc>[0]);
    }
    const backend = wasmBackendOf(args);
    const run: Stock = (left, right) =>
      single(
        stock({
          inputs: { ...args.inputs, a: left, b: right },
          backend: args.backend as tf.KernelBackend,
          attrs: { ...args.attrs, transposeA: false, transposeB: false },
        } as unknown as Parameters<tf.KernelFunc>[0]),
      );
    return product(backend, run, a, b, tA, tB, !fused);
  };
  return kernel as unknown as tf.KernelFunc;
}
