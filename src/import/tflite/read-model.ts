/**
 * A TFLite flatbuffer (`TFL3`) as plain typed values: the main subgraph's tensors (shape, type, quantization,
 * constant bytes) and operators (builtin name, inputs, outputs, options). Reads through the flatc-generated
 * reader in `schema/`; every structural problem (wrong identifier, truncated file, a field pointing outside the
 * file) becomes one `invalid_model` error naming the file.
 */
import * as flatbuffers from 'flatbuffers';
import { QrobustError } from '../../core/errors.js';
import { ActivationFunctionType } from './schema/tflite/activation-function-type.js';
import { BuiltinOperator } from './schema/tflite/builtin-operator.js';
import { BuiltinOptions } from './schema/tflite/builtin-options.js';
import { Conv2DOptions } from './schema/tflite/conv2doptions.js';
import { DepthwiseConv2DOptions } from './schema/tflite/depthwise-conv2doptions.js';
import { FullyConnectedOptions } from './schema/tflite/fully-connected-options.js';
import { Model } from './schema/tflite/model.js';
import { Padding } from './schema/tflite/padding.js';
import { Pool2DOptions } from './schema/tflite/pool2doptions.js';
import { ReshapeOptions } from './schema/tflite/reshape-options.js';
import { SoftmaxOptions } from './schema/tflite/softmax-options.js';
import { AddOptions } from './schema/tflite/add-options.js';
import type { Tensor } from './schema/tflite/tensor.js';
import { TensorType } from './schema/tflite/tensor-type.js';

export type TfliteTensorType = keyof typeof TensorType;
export type FusedActivationName = keyof typeof ActivationFunctionType;

export interface TfliteQuantization {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly quantizedDimension: number;
}

export interface TfliteTensor {
  readonly index: number;
  readonly name: string;
  /** Including the batch dimension, as stored. */
  readonly shape: readonly number[];
  readonly type: TfliteTensorType;
  /** The constant's bytes (little-endian), or null for an activation. */
  readonly data: Uint8Array | null;
  readonly quantization: TfliteQuantization | null;
  readonly sparse: boolean;
}

/** The options the importer reads, flattened (absent fields take the schema's defaults). */
export interface TfliteOptions {
  readonly fusedActivation: FusedActivationName;
  readonly padding: 'SAME' | 'VALID';
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly filter: readonly [number, number];
  readonly asymmetricQuantizeInputs: boolean;
  readonly weightsFormat: number;
  readonly softmaxBeta: number;
  readonly newShape: readonly number[] | null;
}

export interface TfliteOperator {
  readonly index: number;
  /** The builtin name (`FULLY_CONNECTED`), or `CUSTOM:<code>`. */
  readonly op: string;
  readonly version: number;
  /** Tensor indices; −1 for an absent optional input. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options: TfliteOptions;
}

export interface TfliteModel {
  readonly schemaVersion: number;
  readonly description: string;
  readonly subgraphCount: number;
  readonly tensors: readonly TfliteTensor[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly operators: readonly TfliteOperator[];
}

const FILE_IDENTIFIER = 'TFL3';
/** `deprecated_builtin_code` holds codes below this; larger ones live in `builtin_code` (schema 3a). */
const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

function invalid(file: string, why: string): QrobustError {
  return new QrobustError('invalid_model', `${file}: not a readable TFLite model (${why})`);
}

function defaultOptions(): { -readonly [K in keyof TfliteOptions]: TfliteOptions[K] } {
  return {
    fusedActivation: 'NONE',
    padding: 'SAME',
    strides: [1, 1],
    dilations: [1, 1],
    filter: [1, 1],
    asymmetricQuantizeInputs: false,
    weightsFormat: 0,
    softmaxBeta: 1,
    newShape: null,
  };
}

function activationName(v: number): FusedActivationName {
  return (ActivationFunctionType[v] as FusedActivationName | undefined) ?? (`UNKNOWN_${v}` as FusedActivationName);
}

function paddingName(v: number): 'SAME' | 'VALID' {
  return v === Padding.VALID ? 'VALID' : 'SAME';
}

function readOptions(type: number, read: <T>(obj: T) => T | null): TfliteOptions {
  const o = defaultOptions();
  switch (type) {
    case BuiltinOptions.FullyConnectedOptions: {
      const f = read(new FullyConnectedOptions());
      if (f) {
        o.fusedActivation = activationName(f.fusedActivationFunction());
        o.asymmetricQuantizeInputs = f.asymmetricQuantizeInputs();
        o.weightsFormat = f.weightsFormat();
      }
      break;
    }
    case BuiltinOptions.Conv2DOptions: {
      const f = read(new Conv2DOptions());
      if (f) {
        o.fusedActivation = activationName(f.fusedActivationFunction());
        o.padding = paddingName(f.padding());
        o.strides = [f.strideH(), f.strideW()];
        o.dilations = [f.dilationHFactor(), f.dilationWFactor()];
      }
      break;
    }
    case BuiltinOptions.DepthwiseConv2DOptions: {
      const f = read(new DepthwiseConv2DOptions());
      if (f) {
        o.fusedActivation = activationName(f.fusedActivationFunction());
        o.padding = paddingName(f.padding());
        o.strides = [f.strideH(), f.strideW()];
        o.dilations = [f.dilationHFactor(), f.dilationWFactor()];
      }
      break;
    }
    case BuiltinOptions.Pool2DOptions: {
      const f = read(new Pool2DOptions());
      if (f) {
        o.fusedActivation = activationName(f.fusedActivationFunction());
        o.padding = paddingName(f.padding());
        o.strides = [f.strideH(), f.strideW()];
        o.filter = [f.filterHeight(), f.filterWidth()];
      }
      break;
    }
    case BuiltinOptions.AddOptions: {
      const f = read(new AddOptions());
      if (f) o.fusedActivation = activationName(f.fusedActivationFunction());
      break;
    }
    case BuiltinOptions.SoftmaxOptions: {
      const f = read(new SoftmaxOptions());
      if (f) o.softmaxBeta = f.beta();
      break;
    }
    case BuiltinOptions.ReshapeOptions: {
      const f = read(new ReshapeOptions());
      const s = f?.newShapeArray();
      if (s) o.newShape = Array.from(s);
      break;
    }
    default:
      break;
  }
  return o;
}

function readQuantization(t: Tensor): TfliteQuantization | null {
  const q = t.quantization();
  if (!q || q.scaleLength() === 0) return null;
  const scale = Array.from({ length: q.scaleLength() }, (_, i) => q.scale(i)!);
  const zeroPoint = Array.from({ length: q.zeroPointLength() }, (_, i) => Number(q.zeroPoint(i)!));
  return { scale, zeroPoint, quantizedDimension: q.quantizedDimension() };
}

function parse(file: string, bytes: Uint8Array): TfliteModel {
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (bb.readUint32(0) + 4 > bytes.length) throw invalid(file, 'truncated: the root table lies past the end');
  const model = Model.getRootAsModel(bb);
  const subgraphCount = model.subgraphsLength();
  if (subgraphCount < 1) throw invalid(file, 'truncated or corrupt: no subgraph');
  const g = model.subgraphs(0)!;
  const buffers = model.buffersLength();
  const tensors: TfliteTensor[] = [];
  for (let i = 0; i < g.tensorsLength(); i++) {
    const t = g.tensors(i)!;
    const shape = Array.from(t.shapeArray() ?? []);
    const b = t.buffer();
    if (b >= buffers) throw invalid(file, `tensor ${i} refers to buffer ${b} of ${buffers}`);
    const buf = model.buffers(b)!;
    if (Number(buf.offset()) > 1) throw invalid(file, `tensor ${i} keeps its data outside the flatbuffer (files over 2 GB are not supported)`);
    const raw = buf.dataArray();
    tensors.push({
      index: i,
      name: t.name() ?? `tensor_${i}`,
      shape,
      type: (TensorType[t.type()] as TfliteTensorType | undefined) ?? (`UNKNOWN_${t.type()}` as TfliteTensorType),
      data: raw && raw.length > 0 ? raw.slice() : null,
      quantization: readQuantization(t),
      sparse: t.sparsity() !== null,
    });
  }
  const codes = Array.from({ length: model.operatorCodesLength() }, (_, i) => {
    const c = model.operatorCodes(i)!;
    const code = Math.max(c.deprecatedBuiltinCode(), c.builtinCode());
    const name = code === BuiltinOperator.CUSTOM ? `CUSTOM:${c.customCode() ?? ''}` : (BuiltinOperator[code] ?? `BUILTIN_${code}`);
    return { name, version: c.version(), code };
  });
  if (codes.some((c) => c.code === PLACEHOLDER_FOR_GREATER_OP_CODES)) throw invalid(file, 'an operator code is the placeholder 127');
  const operators: TfliteOperator[] = [];
  for (let i = 0; i < g.operatorsLength(); i++) {
    const op = g.operators(i)!;
    const code = codes[op.opcodeIndex()];
    if (!code) throw invalid(file, `operator ${i} refers to operator code ${op.opcodeIndex()} of ${codes.length}`);
    const inputs = Array.from(op.inputsArray() ?? []);
    const outputs = Array.from(op.outputsArray() ?? []);
    for (const t of [...inputs, ...outputs]) {
      if (t !== -1 && (t < 0 || t >= tensors.length)) throw invalid(file, `operator ${i} refers to tensor ${t} of ${tensors.length}`);
    }
    const options = readOptions(op.builtinOptionsType(), (obj) => op.builtinOptions(obj));
    operators.push({ index: i, op: code.name, version: code.version, inputs, outputs, options });
  }
  return {
    schemaVersion: model.version(),
    description: model.description() ?? '',
    subgraphCount,
    tensors,
    inputs: Array.from(g.inputsArray() ?? []),
    outputs: Array.from(g.outputsArray() ?? []),
    operators,
  };
}

/**
 * Reads a TFLite flatbuffer.
 * @throws QrobustError('invalid_model') for a file that is not `TFL3` or cannot be read to its end.
 */
export function readTfliteModel(file: string, bytes: Uint8Array): TfliteModel {
  if (bytes.length < 8) throw invalid(file, `${bytes.length} bytes is too short`);
  const ident = String.fromCharCode(...bytes.subarray(4, 8));
  if (ident !== FILE_IDENTIFIER) throw invalid(file, `file identifier '${ident.replace(/[^\x20-\x7e]/g, '?')}', expected '${FILE_IDENTIFIER}'`);
  try {
    return parse(file, bytes);
  } catch (e) {
    if (e instanceof QrobustError) throw e;
    throw invalid(file, `truncated or corrupt: ${(e as Error).message}`);
  }
}
