/**
 * Which importer reads a file, decided by its content (never by its name): TFLite flatbuffers carry the file
 * identifier `TFL3` at byte 4, HDF5 files the signature `\x89HDF\r\n\x1a\n` at byte 0 (or 512, 1024, ... when a
 * user block precedes it), and an ONNX `ModelProto` starts with one of its protobuf field tags.
 */
import { QrobustError } from '../core/errors.js';
import type { ModelFormat } from './types.js';

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function hasHdf5Signature(bytes: Uint8Array): boolean {
  for (let offset = 0; offset + HDF5_SIGNATURE.length <= bytes.length && offset <= 1 << 20; offset = offset === 0 ? 512 : offset * 2) {
    if (HDF5_SIGNATURE.every((b, i) => bytes[offset + i] === b)) return true;
  }
  return false;
}

/**
 * The first byte of a protobuf message is a field tag `(field << 3) | wireType`. ModelProto's fields
 * (ir_version 1 varint, producer_name 2, producer_version 3, domain 4, model_version 5 varint, doc_string 6,
 * graph 7, opset_import 8, metadata_props 14, training_info 20, functions 25, configuration 26) give these.
 */
const ONNX_FIRST_TAGS = new Set([0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72, 0xa2, 0xca, 0xd2]);

export function detectModelFormat(file: string, bytes: Uint8Array): ModelFormat {
  if (bytes.length >= 8 && String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!) === 'TFL3') return 'tflite';
  if (hasHdf5Signature(bytes)) return 'keras-h5';
  if (bytes.length > 0 && ONNX_FIRST_TAGS.has(bytes[0]!)) return 'onnx';
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new QrobustError(
    'invalid_model',
    `${file}: not a model file qrobust can read (ONNX, TFLite or Keras HDF5); it starts with bytes ${head || '(empty file)'}`,
  );
}
