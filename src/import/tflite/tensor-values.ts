/**
 * Constant TFLite tensors as float32: FLOAT32 as stored, FLOAT16 widened, and integer tensors (INT8, UINT8,
 * INT32 biases) dequantized as `(q − zeroPoint) · scale`, per tensor or per channel along the tensor's
 * `quantized_dimension` (TFLite's affine quantization, schema.fbs `QuantizationParameters`).
 */
import { QrobustError } from '../../core/errors.js';
import type { TfliteTensor } from './read-model.js';

const ELEMENT_BYTES: Readonly<Record<string, number>> = { FLOAT32: 4, FLOAT16: 2, INT8: 1, UINT8: 1, INT32: 4 };

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The stored integer or float values of a constant, as numbers (no dequantization). */
export function rawValues(file: string, t: TfliteTensor): Float64Array {
  if (!t.data) throw new QrobustError('invalid_model', `${file}: tensor ${t.index} ('${t.name}') should be a constant but has no data`);
  const size = ELEMENT_BYTES[t.type];
  if (size === undefined) throw new QrobustError('unsupported_layer', `${file}: tensor ${t.index} ('${t.name}') has type ${t.type}; constants must be FLOAT32, FLOAT16, INT8, UINT8 or INT32`);
  const n = elementCount(t.shape);
  if (t.data.length !== n * size) {
    throw new QrobustError('invalid_model', `${file}: tensor ${t.index} ('${t.name}') has ${t.data.length} bytes, its shape [${t.shape.join(',')}] of ${t.type} needs ${n * size}`);
  }
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (t.type) {
      case 'FLOAT32': out[i] = view.getFloat32(i * 4, true); break;
      case 'FLOAT16': out[i] = halfToFloat(view.getUint16(i * 2, true)); break;
      case 'INT8': out[i] = view.getInt8(i); break;
      case 'UINT8': out[i] = view.getUint8(i); break;
      default: out[i] = view.getInt32(i * 4, true); break;
    }
  }
  return out;
}

/** Index of the channel of flat element `i` along axis `axis` of `shape`. */
function channelOf(i: number, shape: readonly number[], axis: number): number {
  const inner = elementCount(shape.slice(axis + 1));
  return Math.floor(i / inner) % shape[axis]!;
}

/**
 * A constant as float32: float types as stored, integer types dequantized.
 * @throws QrobustError('invalid_model') for an integer constant without usable quantization parameters.
 */
export function constantValues(file: string, t: TfliteTensor): Float32Array {
  const raw = rawValues(file, t);
  if (t.type === 'FLOAT32' || t.type === 'FLOAT16') return Float32Array.from(raw);
  const q = t.quantization;
  if (!q) throw new QrobustError('invalid_model', `${file}: tensor ${t.index} ('${t.name}') is ${t.type} without quantization parameters`);
  const channels = q.scale.length;
  const axis = q.quantizedDimension;
  if (channels > 1 && (axis < 0 || axis >= t.shape.length || t.shape[axis] !== channels)) {
    throw new QrobustError('invalid_model', `${file}: tensor ${t.index} ('${t.name}') has ${channels} scales, but dimension ${axis} of [${t.shape.join(',')}] does not match`);
  }
  const zp = (c: number): number => (q.zeroPoint.length === 0 ? 0 : (q.zeroPoint[c] ?? q.zeroPoint[0]!));
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const c = channels === 1 ? 0 : channelOf(i, t.shape, axis);
    out[i] = (raw[i]! - zp(c)) * q.scale[c]!;
  }
  return out;
}
