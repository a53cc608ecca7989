import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, encodePng, imageDataUrl } from '../../src/report/png.js';
import { decodePng } from './png-decode.js';

test('crc32 gives the standard check value', () => {
  assert.equal((crc32(Buffer.from('123456789')) ^ 0xffffffff) >>> 0, 0xcbf43926);
});

test('greyscale and RGB images round-trip through the encoder', () => {
  const grey = Uint8Array.from({ length: 5 * 3 }, (_, i) => (i * 17) & 255);
  const g = decodePng(encodePng(5, 3, 1, grey));
  assert.deepEqual([g.width, g.height, g.channels], [5, 3, 1]);
  assert.deepEqual(Array.from(g.pixels), Array.from(grey));
  const rgb = Uint8Array.from({ length: 2 * 4 * 3 }, (_, i) => (i * 37 + 5) & 255);
  const c = decodePng(encodePng(2, 4, 3, rgb));
  assert.deepEqual([c.width, c.height, c.channels], [2, 4, 3]);
  assert.deepEqual(Array.from(c.pixels), Array.from(rgb));
  assert.throws(() => encodePng(2, 2, 1, new Uint8Array(3)), /expected 4 bytes, got 3/);
});

test('an image data URL holds the base64 pixels as PNG', () => {
  const px = Buffer.from([0, 64, 128, 255]);
  const url = imageDataUrl(px.toString('base64'), [2, 2, 1]);
  assert.match(url, /^data:image\/png;base64,/);
  const d = decodePng(Buffer.from(url.split(',')[1]!, 'base64'));
  assert.deepEqual(Array.from(d.pixels), [0, 64, 128, 255]);
});
