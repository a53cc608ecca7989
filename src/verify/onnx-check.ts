/**
 * The ONNX model itself as a counterexample check: onnxruntime-node runs the original graph in float32, the
 * arithmetic VNN-COMP's own checker uses. Loaded lazily; where the runtime cannot be loaded the check is
 * reported as unavailable and counterexamples rest on the float64 IR re-check alone.
 */
import type { ModelCheck } from './counterexample.js';

interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly { readonly name: string; readonly shape?: readonly (number | string)[] }[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { readonly data: ArrayLike<number> }>>;
}

interface OrtModule {
  readonly InferenceSession: { create(path: string): Promise<OrtSession> };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

/**
 * A `ModelCheck` running the ONNX file with onnxruntime, or null (with the reason) when the runtime or the
 * session cannot be created. `inputSize` is the flat input length; symbolic or missing dimensions of the
 * declared input shape are taken as 1 (the batch).
 */
export async function onnxModelCheck(path: string, inputSize: number): Promise<{ check: ModelCheck | null; reason?: string }> {
  let ort: OrtModule;
  try {
    ort = (await import('onnxruntime-node')) as unknown as OrtModule;
  } catch (e) {
    return { check: null, reason: `onnxruntime-node is not available (${(e as Error).message.split('\n')[0]})` };
  }
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(path);
  } catch (e) {
    return { check: null, reason: `onnxruntime could not load ${path} (${(e as Error).message.split('\n')[0]})` };
  }
  const name = session.inputNames[0]!;
  const declared = session.inputMetadata?.find((m) => m.name === name)?.shape;
  let dims = declared ? declared.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) : [1, inputSize];
  if (dims.reduce((a, b) => a * b, 1) !== inputSize) dims = [1, inputSize];
  const output = session.outputNames[0]!;
  const check: ModelCheck = async (x) => {
    try {
      const result = await session.run({ [name]: new ort.Tensor('float32', Float32Array.from(x), dims) });
      return Float64Array.from(result[output]!.data);
    } catch {
      return null;
    }
  };
  return { check };
}
