/**
 * TensorProto payloads ↔ typed arrays. A tensor's elements may be stored in `raw_data` (little-endian bytes) or in
 * the typed field its data type maps to (`float_data`, `int32_data`, `int64_data`, `double_data`,
 * `uint64_data`); the writer always uses `raw_data`, which every ONNX runtime reads.
 */
import { QrobustError } from '../core/errors.js';
import { DataType } from './schema.js';
import { elementCount, type TensorValues } from './model.js';

interface ElementCodec {
  readonly bytes: number;
  make(n: number): TensorValues;
  read(view: DataView, offset: number): number | bigint;
  write(view: DataView, offset: number, v: number | bigint): void;
}

const CODECS: Readonly<Record<number, ElementCodec>> = {
  [DataType.FLOAT]: { bytes: 4, make: (n) => new Float32Array(n), read: (d, o) => d.getFloat32(o, true), write: (d, o, v) => d.setFloat32(o, Number(v), true) },
  [DataType.DOUBLE]: { bytes: 8, make: (n) => new Float64Array(n), read: (d, o) => d.getFloat64(o, true), write: (d, o, v) => d.setFloat64(o, Number(v), true) },
  [DataType.INT8]: { bytes: 1, make: (n) => new Int8Array(n), read: (d, o) => d.getInt8(o), write: (d, o, v) => d.setInt8(o, Number(v)) },
  [DataType.UINT8]: { bytes: 1, make: (n) => new Uint8Array(n), read: (d, o) => d.getUint8(o), write: (d, o, v) => d.setUint8(o, Number(v)) },
  [DataType.BOOL]: { bytes: 1, make: (n) => new Uint8Array(n), read: (d, o) => d.getUint8(o), write: (d, o, v) => d.setUint8(o, Number(v)) },
  [DataType.INT16]: { bytes: 2, make: (n) => new Int16Array(n), read: (d, o) => d.getInt16(o, true), write: (d, o, v) => d.setInt16(o, Number(v), true) },
  [DataType.UINT16]: { bytes: 2, make: (n) => new Uint16Array(n), read: (d, o) => d.getUint16(o, true), write: (d, o, v) => d.setUint16(o, Number(v), true) },
  [DataType.INT32]: { bytes: 4, make: (n) => new Int32Array(n), read: (d, o) => d.getInt32(o, true), write: (d, o, v) => d.setInt32(o, Number(v), true) },
  [DataType.UINT32]: { bytes: 4, make: (n) => new Uint32Array(n), read: (d, o) => d.getUint32(o, true), write: (d, o, v) => d.setUint32(o, Number(v), true) },
  [DataType.INT64]: { bytes: 8, make: (n) => new BigInt64Array(n), read: (d, o) => d.getBigInt64(o, true), write: (d, o, v) => d.setBigInt64(o, BigInt(v), true) },
  [DataType.UINT64]: { bytes: 8, make: (n) => new BigUint64Array(n), read: (d, o) => d.getBigUint64(o, true), write: (d, o, v) => d.setBigUint64(o, BigInt(v), true) },
};

function codecOf(dataType: number, what: string): ElementCodec {
  const c = CODECS[dataType];
  if (!c) throw new QrobustError('invalid_argument', `${what}: ONNX data type ${dataType} is not supported (float, double and integer tensors are)`);
  return c;
}

/** The typed fields of a decoded TensorProto (protobufjs gives numbers, Longs or bigint-like values for int64). */
export interface TensorPayload {
  readonly rawData?: Uint8Array | null;
  readonly floatData?: readonly number[];
  readonly int32Data?: readonly number[];
  readonly int64Data?: readonly unknown[];
  readonly doubleData?: readonly number[];
  readonly uint64Data?: readonly unknown[];
}

/** A protobufjs int64 (number or Long) as a bigint. */
export function int64ToBigInt(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  const l = v as { low: number; high: number; unsigned?: boolean };
  const lo = BigInt(l.low >>> 0);
  const hi = BigInt(l.unsigned ? l.high >>> 0 : l.high);
  return (hi << 32n) | lo;
}

/** A protobufjs int64 (number or Long) as a number (exact below 2^53). */
export function int64ToNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number(int64ToBigInt(v));
}

/**
 * The elements of a tensor from its decoded payload.
 * @throws QrobustError('invalid_argument') naming the tensor when its type is unsupported or its payload has the wrong size.
 */
export function decodeTensorValues(name: string, dataType: number, dims: readonly number[], p: TensorPayload): TensorValues {
  const what = `tensor '${name}'`;
  const codec = codecOf(dataType, what);
  const n = elementCount(dims);
  const out = codec.make(n);
  const raw = p.rawData && p.rawData.length > 0 ? p.rawData : null;
  if (raw) {
    if (raw.length !== n * codec.bytes) throw new QrobustError('invalid_argument', `${what}: raw_data has ${raw.length} bytes, dims [${dims.join(',')}] need ${n * codec.bytes}`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) (out as unknown as (number | bigint)[])[i] = codec.read(view, i * codec.bytes);
    return out;
  }
  const typed: readonly unknown[] | undefined =
    dataType === DataType.FLOAT
      ? p.floatData
      : dataType === DataType.DOUBLE
        ? p.doubleData
        : dataType === DataType.INT64
          ? p.int64Data
          : dataType === DataType.UINT32 || dataType === DataType.UINT64
            ? p.uint64Data
            : p.int32Data;
  const src = typed ?? [];
  if (src.length !== n) throw new QrobustError('invalid_argument', `${what}: holds ${src.length} values, dims [${dims.join(',')}] need ${n}`);
  const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
  for (let i = 0; i < n; i++) (out as unknown as (number | bigint)[])[i] = big ? int64ToBigInt(src[i]) : int64ToNumber(src[i]);
  return out;
}

/** The little-endian `raw_data` bytes of a tensor's elements. */
export function encodeTensorValues(name: string, dataType: number, values: TensorValues): Uint8Array {
  const codec = codecOf(dataType, `tensor '${name}'`);
  const bytes = new Uint8Array(values.length * codec.bytes);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) codec.write(view, i * codec.bytes, values[i]!);
  return bytes;
}
