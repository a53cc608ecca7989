/**
 * A minimal PNG encoder (W3C PNG specification, 2nd edition): 8-bit greyscale or RGB, no interlacing, every
 * scanline with filter type 0, the image data compressed with zlib's deflate. Enough to embed the example
 * images in the report as data URLs without any image library.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, as PNG chunks use it). */
export function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE((crc32(data, crc32(head.subarray(4, 8))) ^ 0xffffffff) >>> 0, 0);
  return Buffer.concat([head, Buffer.from(data), crc]);
}

/** PNG bytes of an 8-bit image, rows top to bottom, `channels` interleaved (1: grey, 3: RGB). */
export function encodePng(width: number, height: number, channels: 1 | 3, pixels: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`encodePng: bad size ${width}x${height}`);
  if (pixels.length !== width * height * channels) throw new Error(`encodePng: expected ${width * height * channels} bytes, got ${pixels.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: greyscale or truecolour
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering, filter type per line
  ihdr[12] = 0; // no interlace
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** A data URL of an image stored as base64 8-bit NHWC pixels of shape [h, w, c] (c = 1 or 3). */
export function imageDataUrl(base64Pixels: string, shape: readonly [number, number, number]): string {
  const [h, w, c] = shape;
  if (c !== 1 && c !== 3) throw new Error(`imageDataUrl: ${c} channels (expected 1 or 3)`);
  const png = encodePng(w, h, c, new Uint8Array(Buffer.from(base64Pixels, 'base64')));
  return `data:image/png;base64,${png.toString('base64')}`;
}
