/**
 * PNG and JPEG decoding against PIL (test/fixtures/data/decode.json, written by scripts/make-data-fixtures.py):
 * PNGs exactly as the script encoded them; JPEGs within a decoder tolerance of PIL's own decode of the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isQrobustError } from '../../src/core/errors.js';
import { decodeImage, imageHeader, jpegComponents } from '../../src/data/image-decode.js';
import { DATA_FIXTURES } from './fixtures.js';

interface Expected {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly pixels: number[];
  readonly jpeg?: boolean;
}
const EXPECTED = JSON.parse(readFileSync(join(DATA_FIXTURES, 'decode.json'), 'utf8')) as Record<string, Expected>;

/**
 * Largest difference allowed between two JPEG decoders: the standard lets an IDCT be off by one level per
 * sample, and the YCbCr → RGB conversion and chroma upsampling of libjpeg (PIL) and jpeg-js round differently.
 */
const JPEG_MAX_ABS = 4;
const JPEG_MEAN_ABS = 1;

test('PNGs of every colour type decode to exactly the values PIL encoded (alpha dropped)', () => {
  const pngs = Object.entries(EXPECTED).filter(([, e]) => !e.jpeg);
  assert.ok(pngs.length >= 6);
  for (const [name, want] of pngs) {
    const img = decodeImage(readFileSync(join(DATA_FIXTURES, 'decode', name)), name);
    assert.equal(img.width, want.width, name);
    assert.equal(img.height, want.height, name);
    assert.equal(img.channels, want.channels, name);
    assert.deepEqual([...img.pixels], want.pixels, name);
  }
});

function luma(px: Uint8Array | number[], p: number): number {
  return 0.299 * px[3 * p]! + 0.587 * px[3 * p + 1]! + 0.114 * px[3 * p + 2]!;
}

test('full-resolution JPEGs (gray, 4:4:4) decode within the decoder tolerance of PIL; one component is grayscale', () => {
  const jpegs = Object.entries(EXPECTED).filter(([n, e]) => e.jpeg && !n.includes('420'));
  assert.equal(jpegs.length, 2);
  for (const [name, want] of jpegs) {
    const bytes = readFileSync(join(DATA_FIXTURES, 'decode', name));
    assert.equal(jpegComponents(bytes), want.channels, name);
    const img = decodeImage(bytes, name);
    assert.deepEqual([img.width, img.height, img.channels], [want.width, want.height, want.channels], name);
    let max = 0;
    let sum = 0;
    for (let i = 0; i < want.pixels.length; i++) {
      const d = Math.abs(img.pixels[i]! - want.pixels[i]!);
      max = Math.max(max, d);
      sum += d;
    }
    assert.ok(max <= JPEG_MAX_ABS, `${name}: largest difference from PIL ${max}`);
    assert.ok(sum / want.pixels.length <= JPEG_MEAN_ABS, `${name}: mean difference from PIL ${sum / want.pixels.length}`);
  }
});

test('a 4:2:0 JPEG matches PIL in luma; its colours differ (jpeg-js upsamples chroma by replication, libjpeg by interpolation)', () => {
  const name = 'rgb-420.jpeg';
  const want = EXPECTED[name]!;
  const img = decodeImage(readFileSync(join(DATA_FIXTURES, 'decode', name)), name);
  assert.equal(img.channels, 3);
  const n = img.width * img.height;
  let sum = 0;
  for (let p = 0; p < n; p++) sum += Math.abs(luma(img.pixels, p) - luma(want.pixels, p));
  assert.ok(sum / n <= JPEG_MEAN_ABS, `${name}: mean luma difference from PIL ${sum / n}`);
});

test('imageHeader tells size and colour without decoding, as PIL reports them', () => {
  for (const [name, want] of Object.entries(EXPECTED)) {
    const bytes = readFileSync(join(DATA_FIXTURES, 'decode', name));
    assert.deepEqual(imageHeader(bytes.subarray(0, 4096)), { width: want.width, height: want.height, channels: want.channels }, name);
  }
  assert.equal(imageHeader(Buffer.from('GIF89a')), null);
});

test('undecodable bytes are one-line errors naming the file', () => {
  const png = readFileSync(join(DATA_FIXTURES, 'decode', 'rgb.png'));
  const jpg = readFileSync(join(DATA_FIXTURES, 'decode', 'gray.jpg'));
  const cases: [Uint8Array, RegExp][] = [
    [Buffer.from('GIF89a......'), /neither a PNG nor a JPEG file/],
    [png.subarray(0, 40), /cannot decode the image/],
    [jpg.subarray(0, 4), /no JPEG frame header/],
  ];
  for (const [bytes, pattern] of cases) {
    assert.throws(() => decodeImage(bytes, 'dir/cat/x.png'), (e: unknown) => {
      assert.ok(isQrobustError(e), String(e));
      assert.equal(e.code, 'dataset_corrupt');
      assert.match(e.message, /^dir\/cat\/x\.png: /);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
});
