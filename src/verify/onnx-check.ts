/**
 * The ONNX model itself as a counterexample check: onnxruntime-node runs the original graph in the input's own
 * element type (float32, or float64 for a DOUBLE input), the arithmetic VNN-COMP's own checker uses. The file is
 * read and un-gzipped here (so `.onnx.gz` works) and the bytes are handed to the runtime.
 *
 * A check that cannot run (no runtime, a session that cannot be created, `run` throwing, an output of the wrong
 * size) is never a pass: the check answers null, `confirmCounterexample` then accepts a point only if it is a
 * counterexample in exact real arithmetic, and the failure is kept in `failures` so that the caller can say so.
 */
import { readFile } from 'node:fs/promises';
import { maybeGunzip } from '../data/gzip.js';
import type { ModelCheck } from './counterexample.js';

interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly { readonly name: string; readonly isTensor?: boolean; readonly type?: string; readonly shape?: readonly (number | string)[] }[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { readonly data: ArrayLike<number> }>>;
}

interface OrtModule {
  readonly InferenceSession: { create(bytes: Uint8Array): Promise<OrtSession> };
  readonly Tensor: new (type: 'float32' | 'float64', data: Float32Array | Float64Array, dims: readonly number[]) => unknown;
}

/** An onnxruntime check and what became of it. */
export interface OnnxCheck {
  /** Always a function: where the runtime is missing it answers null (cannot run) for every point. */
  readonly check: ModelCheck;
  /** What the runtime computes in, e.g. 'onnxruntime (float32)'. */
  readonly label: string;
  /** Why no session exists, when none does. */
  readonly unavailable?: string;
  /** Why runs failed, the first few distinct reasons (empty while every run succeeded). */
  readonly failures: readonly string[];
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/**
 * A check running the ONNX file with onnxruntime. `inputSize` and `outputSize` are the flat sizes the IR has;
 * symbolic or missing dimensions of the declared input shape are taken as 1 (the batch).
 */
export async function onnxModelCheck(path: string, inputSize: number, outputSize: number): Promise<OnnxCheck> {
  const failures: string[] = [];
  const fail = (why: string): null => {
    if (failures.length < 3 && !failures.includes(why)) failures.push(why);
    return null;
  };
  const none = (why: string): OnnxCheck => ({ check: () => fail(why), label: 'onnxruntime', unavailable: why, failures });
  let ort: OrtModule;
  try {
    ort = (await import('onnxruntime-node')) as unknown as OrtModule;
  } catch (e) {
    return none(`onnxruntime-node is not available (${firstLine(e)})`);
  }
  let session: OrtSession;
  try {
    const { content } = await maybeGunzip(await readFile(path), path);
    session = await ort.InferenceSession.create(new Uint8Array(content.buffer, content.byteOffset, content.byteLength));
  } catch (e) {
    return none(`onnxruntime could not load ${path} (${firstLine(e)})`);
  }
  const name = session.inputNames[0]!;
  const meta = session.inputMetadata?.find((m) => m.name === name);
  const type = meta?.type ?? 'float32';
  if (type !== 'float32' && type !== 'float64') return none(`onnxruntime: input '${name}' of ${path} has element type ${type}, not float32 or float64`);
  const declared = meta?.shape;
  let dims = declared ? declared.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) : [1, inputSize];
  if (dims.reduce((a, b) => a * b, 1) !== inputSize) dims = [1, inputSize];
  const output = session.outputNames[0]!;
  const check: ModelCheck = async (x) => {
    try {
      const data = type === 'float64' ? Float64Array.from(x) : Float32Array.from(x);
      const result = await session.run({ [name]: new ort.Tensor(type, data, dims) });
      const y = Float64Array.from(result[output]!.data);
      return y.length === outputSize ? y : fail(`onnxruntime gave ${y.length} outputs, the network has ${outputSize}`);
    } catch (e) {
      return fail(`onnxruntime could not run ${path} (${firstLine(e)})`);
    }
  };
  return { check, label: `onnxruntime (${type})`, failures };
}
