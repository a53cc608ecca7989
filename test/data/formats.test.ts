import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isQrobustError } from '../../src/core/errors.js';
import { checkLabels, parseIdx, readIdxFile } from '../../src/data/idx.js';
import { parseCifarBinary, readCifarBinaryFile } from '../../src/data/cifar-binary.js';
import { isGzip, maybeGunzip } from '../../src/data/gzip.js';
import { readTar } from '../../src/data/tar.js';
import { cifarRecords, idxImages, idxLabels, tarArchive, tempDir } from './fixtures.js';

function rejectsWith(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isQrobustError(e), `expected a QrobustError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'messages are one line');
    return true;
  });
}

test('parseIdx reads images and labels headers and data', () => {
  const img = parseIdx(idxImages(3, 2, 4, (i, k) => i * 10 + k), 'x', 'images');
  assert.equal(img.count, 3);
  assert.equal(img.rows, 2);
  assert.equal(img.cols, 4);
  assert.equal(img.data.length, 24);
  assert.equal(img.data[8 + 5], 15);
  const lab = parseIdx(idxLabels([1, 2, 9]), 'y', 'labels');
  assert.deepEqual([...lab.data], [1, 2, 9]);
});

test('parseIdx: wrong magic, mislabeled, truncated and oversized files are named errors', () => {
  const labels = idxLabels([1, 2, 3]);
  const images = idxImages(2, 3, 3, () => 7);
  rejectsWith(() => parseIdx(images, 'dir/train-labels-idx1-ubyte', 'labels'), 'dataset_corrupt', /train-labels-idx1-ubyte: expected IDX labels \(magic 2049\) but found an IDX images file \(magic 2051\)/);
  rejectsWith(() => parseIdx(labels, 'imgs', 'images'), 'dataset_corrupt', /imgs: expected IDX images .* IDX labels file/);
  const bad = Buffer.from(labels);
  bad.writeUInt32BE(0x12345678, 0);
  rejectsWith(() => parseIdx(bad, 'weird.bin', 'labels'), 'dataset_corrupt', /weird\.bin: .*not an IDX file \(magic 0x12345678\)/);
  rejectsWith(() => parseIdx(gzipSync(labels), 'z', 'labels'), 'dataset_corrupt', /gzip data/);
  rejectsWith(() => parseIdx(images.subarray(0, images.length - 1), 'cut', 'images'), 'dataset_corrupt', /cut: truncated: the header announces 2 images of 3×3 \(18 bytes of data\) but only 17 bytes follow/);
  rejectsWith(() => parseIdx(images.subarray(0, 10), 'head', 'images'), 'dataset_corrupt', /truncated IDX header/);
  rejectsWith(() => parseIdx(Buffer.concat([labels, Buffer.from([0])]), 'long', 'labels'), 'dataset_corrupt', /3 labels \(3 bytes of data\) but 4 bytes follow/);
  rejectsWith(() => parseIdx(Buffer.alloc(2), 'tiny', 'labels'), 'dataset_corrupt', /too short/);
});

test('checkLabels rejects out-of-range labels', () => {
  checkLabels(new Uint8Array([0, 9]), 10, 'f');
  rejectsWith(() => checkLabels(new Uint8Array([0, 10]), 10, 'f'), 'dataset_corrupt', /label 10 at index 1/);
});

test('gzip is detected by magic bytes, whatever the file name', async () => {
  const t = tempDir('formats');
  try {
    const labels = idxLabels([4, 5, 6]);
    assert.equal(isGzip(labels), false);
    assert.equal(isGzip(gzipSync(labels)), true);
    writeFileSync(join(t.dir, 'plain.gz'), labels); // misleading name, not gzipped
    writeFileSync(join(t.dir, 'packed'), gzipSync(labels)); // gzipped, no .gz
    assert.deepEqual([...(await readIdxFile(join(t.dir, 'plain.gz'), 'labels')).data], [4, 5, 6]);
    assert.deepEqual([...(await readIdxFile(join(t.dir, 'packed'), 'labels')).data], [4, 5, 6]);
    const truncated = gzipSync(labels).subarray(0, 12);
    await assert.rejects(maybeGunzip(truncated, '/x/t.gz'), (e: unknown) => isQrobustError(e) && e.code === 'dataset_corrupt' && /t\.gz: not a valid gzip stream/.test(e.message));
    await assert.rejects(readIdxFile(join(t.dir, 'absent'), 'labels'), (e: unknown) => isQrobustError(e) && e.code === 'io_error');
  } finally {
    t.cleanup();
  }
});

test('CIFAR records are interleaved to NHWC', async () => {
  const bytes = cifarRecords([3, 7], (i, c, p) => i * 100 + c * 10 + (p % 7));
  const r = parseCifarBinary(bytes, 'b.bin');
  assert.equal(r.count, 2);
  assert.deepEqual([...r.labels], [3, 7]);
  // record 1, pixel (row 2, col 5) = p 69: channels in order R, G, B
  const p = 2 * 32 + 5;
  const at = (1 * 1024 + p) * 3;
  assert.deepEqual([...r.pixels.subarray(at, at + 3)], [100 + (p % 7), 110 + (p % 7), 120 + (p % 7)]);
  const t = tempDir('cifar');
  try {
    writeFileSync(join(t.dir, 'x.bin.gz'), gzipSync(bytes));
    assert.deepEqual([...(await readCifarBinaryFile(join(t.dir, 'x.bin.gz'))).pixels], [...r.pixels]);
  } finally {
    t.cleanup();
  }
  rejectsWith(() => parseCifarBinary(bytes.subarray(0, 5000), 'short.bin'), 'dataset_corrupt', /short\.bin: 5000 bytes is not a whole number of 3073-byte CIFAR records/);
  const badLabel = Buffer.from(bytes);
  badLabel[3073] = 12;
  rejectsWith(() => parseCifarBinary(badLabel, 'lab.bin'), 'dataset_corrupt', /lab\.bin: record 1 has label 12/);
});

test('the tar reader extracts wanted members only and rejects garbage', async () => {
  const a = Buffer.from('alpha');
  const b = Buffer.alloc(70000, 3);
  const tar = tarArchive({ 'top/a.bin': a, 'top/b.bin': b });
  const chunks = (buf: Buffer, size: number): AsyncIterable<Uint8Array> => ({
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
    },
  });
  for (const size of [1000, 512, 7, 1 << 20]) {
    const got = new Map<string, Buffer>();
    const seen: string[] = [];
    await readTar(chunks(tar, size), 't.tar', (e) => (seen.push(e.name), e.name.endsWith('.bin')), (e, d) => void got.set(e.name, Buffer.from(d)));
    assert.deepEqual([...got.keys()], ['top/a.bin', 'top/b.bin']);
    assert.deepEqual(got.get('top/a.bin'), a);
    assert.deepEqual(got.get('top/b.bin'), b);
    assert.ok(seen.includes('README'));
  }
  await assert.rejects(
    readTar(chunks(Buffer.alloc(2048, 65), 512), 'junk.tar', () => true, () => undefined),
    (e: unknown) => isQrobustError(e) && /junk\.tar: not a tar archive/.test(e.message),
  );
  await assert.rejects(
    readTar(chunks(tar.subarray(0, 2000), 512), 'cut.tar', () => true, () => undefined),
    (e: unknown) => isQrobustError(e) && /cut\.tar: unexpected end/.test(e.message),
  );
});
