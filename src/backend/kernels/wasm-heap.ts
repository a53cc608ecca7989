/**
 * Direct access to the TF.js wasm backend's memory, for kernels written in plain TypeScript.
 *
 * Every wasm tensor lives in one `WebAssembly.Memory`; the backend records where (`memoryOffset`, in bytes) in
 * its `dataIdMap`. A kernel can therefore read its inputs and write its outputs through typed-array views on
 * that memory without copying. Views must be taken *after* the last allocation in a kernel: `malloc` may grow
 * the memory, which detaches every view made before.
 */
import { tf } from '../tf.js';

export type TensorInfo = tf.TensorInfo;
export type KernelFunc = tf.KernelFunc;
export type NamedAttrMap = tf.NamedAttrMap;

/** The parts of the wasm backend (`BackendWasm`) that qrobust's kernels use. */
export interface WasmBackend {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: {
    get(dataId: object): { id: number; memoryOffset: number; shape: number[]; dtype: string } | undefined;
  };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The arguments TF.js passes to a kernel function. */
export interface KernelArgs {
  readonly inputs: Record<string, TensorInfo | undefined>;
  readonly backend: unknown;
  readonly attrs?: NamedAttrMap;
}

/** The backend of a kernel call, typed as the wasm backend. */
export function wasmBackendOf(args: KernelArgs): WasmBackend {
  return args.backend as WasmBackend;
}

/** The input `name` of a kernel call; throws when TF.js did not pass it. */
export function inputOf(args: KernelArgs, name: string): TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`qrobust wasm kernel: missing input '${name}'`);
  return t;
}

/** A float32 view on the wasm memory holding `t` (take it after the kernel's last allocation). */
export function f32(backend: WasmBackend, t: TensorInfo): Float32Array {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error('qrobust wasm kernel: tensor is not on the wasm backend');
  if (data.dtype !== 'float32' || t.dtype !== 'float32') {
    throw new Error(`qrobust wasm kernel: expected a float32 tensor, got ${t.dtype}`);
  }
  return new Float32Array(backend.wasm.HEAPU8.buffer, data.memoryOffset, tf.util.sizeFromShape(t.shape));
}

/**
 * A float32 view on the whole wasm memory and the element offset of `t` in it, for copies between tensors
 * (`heap.copyWithin` is a native memmove, far faster than a JavaScript loop). Take it after the last allocation.
 */
export function heapF32(backend: WasmBackend): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8.buffer);
}

/** Element offset of the float32 tensor `t` in `heapF32(backend)`. */
export function offsetF32(backend: WasmBackend, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error('qrobust wasm kernel: tensor is not on the wasm backend');
  if (data.memoryOffset % 4 !== 0) throw new Error('qrobust wasm kernel: misaligned float32 tensor');
  return data.memoryOffset / 4;
}

/** Allocates an uninitialised float32 tensor on the wasm heap (its memory holds garbage until written). */
export function allocF32(backend: WasmBackend, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/** Frees an intermediate tensor that a kernel created (or received from another kernel) and does not return. */
export function free(backend: WasmBackend, t: TensorInfo): void {
  backend.disposeData(t.dataId);
}

/** The same data seen with another shape (no copy, no reference count change; only for passing to a kernel). */
export function withShape(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/**
 * Runs the wasm kernel registered *now* under `kernelName` (stock or qrobust's) and returns its output. The
 * caller owns the result and must `free` it unless it is the kernel's own output.
 */
export function callWasmKernel(
  kernelName: string,
  backend: WasmBackend,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const config = tf.getKernel(kernelName, 'wasm');
  if (config === undefined) throw new Error(`qrobust wasm kernel: no '${kernelName}' kernel on the wasm backend`);
  return single(config.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs: attrs as NamedAttrMap }));
}

/** The one output of a kernel function (kernels may return a TensorInfo or a one-element array). */
export function single(out: TensorInfo | TensorInfo[]): TensorInfo {
  if (Array.isArray(out)) {
    if (out.length !== 1 || out[0] === undefined) throw new Error('qrobust wasm kernel: expected one output');
    return out[0];
  }
  return out;
}
