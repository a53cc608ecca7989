/**
 * An ONNX file as the verifier's NetworkIR, through the model importer: `import/onnx` reads the graph as
 * declared (batch 1, every operator up to the output kept, see `OnnxReading`) into a `ModelGraph`, and
 * `from-graph.ts` lowers it. VNN-LIB's X_i and Y_i are the file's input and output tensors flattened in ONNX's C
 * order; the graph's input is an NHWC image, so the IR starts with the permutation from the file's order to the
 * graph's (`onnx-input-order.ts`, folded into the first affine step), and the graph's output already holds the
 * output tensor's elements in C order. The IR's input and output are therefore the file's, element for element,
 * and a counterexample needs no mapping back.
 */
import { readFile, stat } from 'node:fs/promises';
import { QrobustError, isQrobustError } from '../core/errors.js';
import { maybeGunzip } from '../data/gzip.js';
import { decodeOnnxFile, readOnnxGraph } from '../import/onnx/index.js';
import { concreteInputShape } from '../import/onnx/input-layout.js';
import { elementCount, type OnnxModel } from '../onnx/model.js';
import { irFromModelGraph } from './from-graph.js';
import type { NetworkIR } from './ir.js';
import { tooLargeToVerify } from './ir-size.js';
import { fileOrder, inputReadings, type InputReading } from './onnx-input-order.js';

/** The largest ONNX file read (its protobuf is decoded in memory, every tensor copied). */
export const MAX_ONNX_BYTES = 256 * 2 ** 20;

const bytesText = (n: number): string => `${n.toLocaleString('en-US')} bytes`;

/**
 * Reads an ONNX file (gzipped or not) and lowers it to the IR.
 * @throws QrobustError('io_error') when the file cannot be read, or the errors of `irFromOnnxBytes`.
 */
export async function irFromOnnx(path: string): Promise<NetworkIR> {
  let bytes: Buffer;
  try {
    const size = (await stat(path)).size;
    if (size > MAX_ONNX_BYTES) throw tooLargeToVerify(path, `the file has ${bytesText(size)}`, bytesText(MAX_ONNX_BYTES));
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof QrobustError) throw e;
    throw new QrobustError('io_error', `${path}: cannot read the ONNX file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  const { content } = await maybeGunzip(bytes, path);
  if (content.length > MAX_ONNX_BYTES) throw tooLargeToVerify(path, `it holds ${bytesText(content.length)} uncompressed`, bytesText(MAX_ONNX_BYTES));
  return irFromOnnxBytes(content, path);
}

/** The single graph input's name and declared shape (a symbolic batch axis set to 1), or null (the import says why). */
function inputOf(model: OnnxModel, source: string): { name: string; shape: number[] } | null {
  const initialized = new Set(model.graph.initializers.map((t) => t.name));
  const inputs = model.graph.inputs.filter((i) => !initialized.has(i.name));
  if (inputs.length !== 1 || !inputs[0]!.shape || inputs[0]!.shape.length === 0) return null;
  return { name: inputs[0]!.name, shape: concreteInputShape(source, inputs[0]!.name, inputs[0]!.shape, 'as-declared') };
}

/** The IR of the model read one way. */
function irOf(model: OnnxModel, bytes: Uint8Array, source: string, reading: InputReading, shape: readonly number[]): NetworkIR {
  const read = readOnnxGraph({ file: source, bytes, model, imageShape: reading.imageShape, layout: reading.layout }, 'as-declared');
  // The input shape without its batch axis when it has one (e.g. [1, 784, 1] → [784, 1]).
  const reported = shape.length > 1 && shape[0] === 1 ? shape.slice(1) : shape;
  const ir = irFromModelGraph(read.graph, undefined, source, { order: fileOrder(reading), shape: reported });
  if (ir.inputSize !== elementCount(shape) || ir.outputSize !== elementCount(read.outputShape)) {
    throw new Error(`${source}: the IR has ${ir.inputSize} inputs and ${ir.outputSize} outputs for tensors of ${elementCount(shape)} and ${elementCount(read.outputShape)}`);
  }
  return ir;
}

/** Errors after which another reading of the input may succeed. */
const readingMayMatter = (e: unknown): boolean => isQrobustError(e) && (e.code === 'unsupported_layer' || e.code === 'shape_mismatch');

/**
 * Lowers an ONNX model (file bytes) to the IR, trying the readings of its input in turn (`onnx-input-order.ts`).
 * @throws QrobustError('invalid_model') for a file that is not a usable ONNX model or has a parameter that is
 *   not finite, and QrobustError('unsupported_layer') naming the node and operator for anything outside the
 *   supported subset (the error of the first reading when none succeeds).
 */
export function irFromOnnxBytes(bytes: Uint8Array, source: string): NetworkIR {
  const model = decodeOnnxFile(bytes, source);
  const input = inputOf(model, source);
  const readings = input ? inputReadings(model, input.name, input.shape) : [{ imageShape: [1, 1, 1], layout: 'flat-nchw' } as const];
  let first: unknown = null;
  for (const reading of readings) {
    try {
      return irOf(model, bytes, source, reading, input?.shape ?? []);
    } catch (e) {
      if (!readingMayMatter(e)) throw e;
      first ??= e;
    }
  }
  throw first;
}
