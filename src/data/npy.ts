/**
 * The NumPy `.npy` format (versions 1.0, 2.0 and 3.0): the magic `\x93NUMPY`, a major and minor version byte, the
 * header length (2 bytes little-endian in version 1, 4 bytes in versions 2 and 3), then an ASCII (version 3: UTF-8)
 * Python dict literal with the keys `descr` (the dtype, e.g. `'<f4'`), `fortran_order` and `shape`, padded with
 * spaces and a newline, then the raw elements.
 *
 * Read here: numbers (`u1 i1 u2 i2 u4 i4 u8 i8 f4 f8`, either byte order, `b1`) and fixed-width strings (`U`,
 * `S`) in C order. Fortran order, object arrays and structured dtypes are refused.
 */
import { QrobustError } from '../core/errors.js';

export const NPY_MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

export type NpyKind = 'uint' | 'int' | 'float' | 'bool' | 'unicode' | 'bytes';

export interface NpyDtype {
  /** As written in the header, e.g. `<f4`, `|u1`, `<U5`. */
  readonly descr: string;
  readonly kind: NpyKind;
  /** Bytes per element. */
  readonly itemSize: number;
  readonly littleEndian: boolean;
}

export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** Number of elements: the product of the shape. */
  readonly size: number;
  /** The elements' bytes, C order (a view into the file's bytes). */
  readonly data: Uint8Array;
}

function corrupt(where: string, problem: string): QrobustError {
  return new QrobustError('dataset_corrupt', `${where}: ${problem}`);
}

const NUMERIC: Readonly<Record<string, { kind: NpyKind; sizes: readonly number[] }>> = {
  u: { kind: 'uint', sizes: [1, 2, 4, 8] },
  i: { kind: 'int', sizes: [1, 2, 4, 8] },
  f: { kind: 'float', sizes: [4, 8] },
  b: { kind: 'bool', sizes: [1] },
};

/** Parses a dtype string such as `<f4`; unsupported ones are a QrobustError naming `where`. */
export function parseDtype(descr: string, where: string): NpyDtype {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const unsupported = (): QrobustError =>
    new QrobustError('dataset_corrupt', `${where}: unsupported dtype '${descr}' (read: uint8..64, int8..64, float32, float64, bool, fixed-width strings)`);
  if (!m) throw unsupported();
  const [, order, code, digits] = m as unknown as [string, string, string, string];
  const n = Number(digits);
  const littleEndian = order !== '>';
  if (code === 'U') return { descr, kind: 'unicode', itemSize: 4 * n, littleEndian };
  if (code === 'S') return { descr, kind: 'bytes', itemSize: n, littleEndian };
  const numeric = NUMERIC[code];
  if (!numeric || !numeric.sizes.includes(n)) throw unsupported();
  return { descr, kind: numeric.kind, itemSize: n, littleEndian };
}

/** The value of `key` in the header dict: a quoted string, True/False, or a tuple literal, as written. */
function headerField(header: string, key: string, where: string): string {
  const m = new RegExp(`['"]${key}['"]\\s*:\\s*('[^']*'|"[^"]*"|True|False|\\([^)]*\\))`).exec(header);
  if (!m) throw corrupt(where, `the .npy header has no '${key}' (header: ${header.trim()})`);
  return m[1]!;
}

function parseShape(literal: string, where: string): number[] {
  const inner = literal.slice(1, -1).trim();
  if (inner === '') return [];
  const parts = inner.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return parts.map((p) => {
    if (!/^\d+L?$/.test(p)) throw corrupt(where, `the .npy shape ${literal} is not a tuple of integers`);
    return Number.parseInt(p, 10);
  });
}

/**
 * Parses one `.npy` file. `where` names it in errors (e.g. `data.npz: x.npy`). The element bytes are not copied.
 */
export function parseNpy(bytes: Uint8Array, where: string): NpyArray {
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) throw corrupt(where, 'not a .npy array (no \\x93NUMPY magic)');
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw corrupt(where, `unsupported .npy version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw corrupt(where, 'truncated .npy header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (bytes.length < start + headerLen) throw corrupt(where, 'truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descrLiteral = headerField(header, 'descr', where);
  if (!descrLiteral.startsWith("'") && !descrLiteral.startsWith('"')) {
    throw corrupt(where, `unsupported dtype ${descrLiteral} (structured arrays are not read)`);
  }
  const dtype = parseDtype(descrLiteral.slice(1, -1), where);
  if (headerField(header, 'fortran_order', where) !== 'False') {
    throw new QrobustError('dataset_corrupt', `${where}: Fortran-order arrays are not read; save it with np.ascontiguousarray first`);
  }
  const shape = parseShape(headerField(header, 'shape', where), where);
  const size = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const need = size * dtype.itemSize;
  const have = bytes.length - dataStart;
  if (have < need) throw corrupt(where, `truncated: shape (${shape.join(', ')}) of ${dtype.descr} needs ${need} bytes of data but ${have} follow`);
  if (have > need) throw corrupt(where, `shape (${shape.join(', ')}) of ${dtype.descr} needs ${need} bytes of data but ${have} follow`);
  return { dtype, shape, size, data: bytes.subarray(dataStart, dataStart + need) };
}

/**
 * A reader of element i as a number, for numeric and bool arrays. 64-bit integers beyond 2^53 lose precision
 * (labels never get there).
 */
export function numberReader(a: NpyArray): (i: number) => number {
  const { kind, itemSize, littleEndian: le } = a.dtype;
  const v = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  switch (`${kind}${itemSize}`) {
    case 'uint1':
    case 'bool1':
      return (i) => a.data[i]!;
    case 'int1':
      return (i) => v.getInt8(i);
    case 'uint2':
      return (i) => v.getUint16(2 * i, le);
    case 'int2':
      return (i) => v.getInt16(2 * i, le);
    case 'uint4':
      return (i) => v.getUint32(4 * i, le);
    case 'int4':
      return (i) => v.getInt32(4 * i, le);
    case 'uint8':
      return (i) => Number(v.getBigUint64(8 * i, le));
    case 'int8':
      return (i) => Number(v.getBigInt64(8 * i, le));
    case 'float4':
      return (i) => v.getFloat32(4 * i, le);
    case 'float8':
      return (i) => v.getFloat64(8 * i, le);
    default:
      throw new Error(`npy: ${a.dtype.descr} is not numeric`);
  }
}

/** The elements of a string array (`U` or `S`), trailing NULs removed. */
export function stringElements(a: NpyArray): string[] {
  const { kind, itemSize, littleEndian } = a.dtype;
  if (kind !== 'unicode' && kind !== 'bytes') throw new Error(`npy: ${a.dtype.descr} is not a string dtype`);
  const out: string[] = [];
  const v = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  for (let i = 0; i < a.size; i++) {
    let s = '';
    if (kind === 'unicode') {
      for (let k = 0; k < itemSize / 4; k++) {
        const cp = v.getUint32(i * itemSize + 4 * k, littleEndian);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
    } else {
      const raw = a.data.subarray(i * itemSize, (i + 1) * itemSize);
      const end = raw.indexOf(0);
      s = new TextDecoder('utf-8').decode(end < 0 ? raw : raw.subarray(0, end));
    }
    out.push(s);
  }
  return out;
}
