/**
 * Decoding one PNG or JPEG file into 8-bit pixels (pngjs, jpeg-js), told apart by their signatures, not by the
 * file name. An image is grayscale when the file stores it so (PNG colour types 0 and 4, a JPEG with one
 * component); every other one (RGB, RGBA, palette; a three-component JPEG) is colour. Alpha is dropped: the
 * colour values are kept as stored, as PIL's `convert('RGB')` and `convert('L')` do.
 */
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { QrobustError } from '../core/errors.js';

const { PNG } = pngjs;

export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** height × width × channels bytes, row by row. */
  readonly pixels: Uint8Array;
}

export type ImageFormat = 'png' | 'jpeg';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function imageFormatOf(bytes: Uint8Array): ImageFormat | null {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

function undecodable(path: string, problem: string, cause?: unknown): QrobustError {
  return new QrobustError('dataset_corrupt', `${path}: cannot decode the image: ${problem}`, cause === undefined ? undefined : { cause });
}

/** The first `channels` of each RGBA pixel. */
function fromRgba(rgba: Uint8Array, count: number, channels: 1 | 3): Uint8Array {
  const out = new Uint8Array(count * channels);
  for (let p = 0; p < count; p++) for (let c = 0; c < channels; c++) out[p * channels + c] = rgba[p * 4 + c]!;
  return out;
}

function decodePng(bytes: Uint8Array, path: string): DecodedImage {
  let png: ReturnType<typeof pngjs.PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw undecodable(path, (e as Error).message, e);
  }
  if (png.depth === 16) throw new QrobustError('dataset_corrupt', `${path}: 16-bit PNGs are not read (pixels are 8-bit); save it with 8 bits per channel`);
  // pngjs blacks out the pixels of a tRNS transparent colour; refuse rather than change values.
  if ((png as unknown as { transColor?: unknown }).transColor !== undefined) {
    throw new QrobustError('dataset_corrupt', `${path}: PNGs with a transparent colour (tRNS chunk) are not read; save it without transparency`);
  }
  const gray = png.colorType === 0 || png.colorType === 4;
  const channels = gray ? 1 : 3;
  return { width: png.width, height: png.height, channels, pixels: fromRgba(png.data, png.width * png.height, channels) };
}

/** Offset of the JPEG's frame header (SOFn) marker, or null when there is none in `bytes`. */
function jpegFrameAt(bytes: Uint8Array): number | null {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return i;
    if (marker === 0xd9 || marker === 0xda) return null;
    i += 2 + ((bytes[i + 2]! << 8) | bytes[i + 3]!);
  }
  return null;
}

/** Number of colour components in the JPEG's frame header (SOFn), or null when there is none. */
export function jpegComponents(bytes: Uint8Array): number | null {
  const at = jpegFrameAt(bytes);
  return at === null ? null : bytes[at + 9]!;
}

export interface ImageHeader {
  readonly width: number;
  readonly height: number;
  /** 1 for a grayscale image, 3 for a colour one, by the rule of this module; 0 for a JPEG that is neither. */
  readonly channels: 0 | 1 | 3;
}

/**
 * Size and colour of an image from its first bytes (PNG: the IHDR chunk; JPEG: the frame header), without
 * decoding it; null when `bytes` is not a PNG or JPEG, or too short to tell.
 */
export function imageHeader(bytes: Uint8Array): ImageHeader | null {
  const format = imageFormatOf(bytes);
  if (format === 'png') {
    if (bytes.length < 26) return null;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const colorType = bytes[25]!;
    return { width: v.getUint32(16), height: v.getUint32(20), channels: colorType === 0 || colorType === 4 ? 1 : 3 };
  }
  if (format === 'jpeg') {
    const at = jpegFrameAt(bytes);
    if (at === null) return null;
    const components = bytes[at + 9]!;
    const height = (bytes[at + 5]! << 8) | bytes[at + 6]!;
    const width = (bytes[at + 7]! << 8) | bytes[at + 8]!;
    return { width, height, channels: components === 1 ? 1 : components === 3 ? 3 : 0 };
  }
  return null;
}

function decodeJpeg(bytes: Uint8Array, path: string): DecodedImage {
  const components = jpegComponents(bytes);
  if (components !== 1 && components !== 3) {
    throw undecodable(path, components === null ? 'no JPEG frame header' : `${components}-component JPEGs are not read (only grayscale and YCbCr/RGB)`);
  }
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false, maxMemoryUsageInMB: 1024 });
  } catch (e) {
    throw undecodable(path, (e as Error).message, e);
  }
  const channels = components === 1 ? 1 : 3;
  return { width: img.width, height: img.height, channels, pixels: fromRgba(img.data, img.width * img.height, channels) };
}

/** Decodes a PNG or JPEG file's bytes; anything else, or a damaged file, is a QrobustError naming `path`. */
export function decodeImage(bytes: Uint8Array, path: string): DecodedImage {
  const format = imageFormatOf(bytes);
  if (format === 'png') return decodePng(bytes, path);
  if (format === 'jpeg') return decodeJpeg(bytes, path);
  throw undecodable(path, 'neither a PNG nor a JPEG file');
}
