import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isQrobustError } from '../../src/core/errors.js';
import { describeDataset, labelCounts, loadDataset } from '../../src/data/index.js';
import { readCifarBinaryFile } from '../../src/data/cifar-binary.js';
import { MIRROR, NEEDS_MIRROR, offline, tempDir } from './fixtures.js';

test('CIFAR-10 test: the 1,000-record partial test batch is used and recorded as such', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('cifar');
  try {
    const ds = await loadDataset('cifar10', 'test', offline(t.dir));
    assert.equal(ds.count, 1000);
    assert.equal(ds.variant, 'test_batch_first1000');
    assert.equal(ds.canonical, false);
    assert.deepEqual(ds.shape, [32, 32, 3]);
    assert.deepEqual(ds.classNames.slice(0, 3), ['airplane', 'automobile', 'bird']);
    assert.deepEqual(labelCounts(ds), [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]);
    assert.equal(ds.files.length, 1);
    const f = ds.files[0]!;
    assert.equal(f.name, 'test_batch_first1000.bin');
    assert.equal(f.source, 'mirror');
    assert.equal(f.sha256, '8314c96d7cd65618193bab23acdd5d4c4af15bf6dd00a1781d55beedf3be1ef5');
    assert.equal(f.verifiedBy, 'content-sha256');
    assert.equal(describeDataset(ds).variant, 'test_batch_first1000');

    // Decode records by hand from the raw bytes: label byte, then R, G, B planes.
    const raw = gunzipSync(readFileSync(join(MIRROR!, 'cifar10', 'test_batch_first1000.bin.gz')));
    for (const r of [0, 1, 517, 999]) {
      const rec = r * 3073;
      assert.equal(ds.labels[r], raw[rec]);
      for (const [y, x] of [
        [0, 0],
        [5, 17],
        [31, 31],
      ] as const) {
        const p = y * 32 + x;
        const at = ((r * 32 + y) * 32 + x) * 3;
        assert.deepEqual(
          [ds.pixels[at], ds.pixels[at + 1], ds.pixels[at + 2]],
          [raw[rec + 1 + p], raw[rec + 1 + 1024 + p], raw[rec + 1 + 2048 + p]],
        );
      }
    }
    // Whole-buffer check of the interleave on one record.
    const r = 42;
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) assert.equal(ds.pixels[(r * 1024 + p) * 3 + c], raw[r * 3073 + 1 + c * 1024 + p]);
    }
    // Known first test labels of CIFAR-10: cat, ship, ship, airplane, frog.
    assert.deepEqual([...ds.labels.subarray(0, 5)], [3, 8, 8, 0, 6]);
  } finally {
    t.cleanup();
  }
});

test('CIFAR-10 data_batch_1 parses with the published label counts', { skip: NEEDS_MIRROR }, async () => {
  const r = await readCifarBinaryFile(join(MIRROR!, 'cifar10', 'data_batch_1.bin.gz'));
  assert.equal(r.count, 10000);
  const counts = new Array<number>(10).fill(0);
  for (const l of r.labels) counts[l]!++;
  assert.deepEqual(counts, [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]);
  assert.equal(r.pixels.length, 10000 * 3072);
});

test('CIFAR-10 without any test batch: one error naming test_batch.bin and the fix', async () => {
  const t = tempDir('cifar-none');
  try {
    await assert.rejects(loadDataset('cifar10', 'test', offline(t.dir, { mirrorDir: false })), (e: unknown) => {
      assert.ok(isQrobustError(e));
      assert.equal(e.code, 'dataset_missing');
      assert.match(e.message, /^cifar10 test: missing test_batch\.bin \(30730000 bytes, MD5 803d5f7f4d78ea53de84dbe85f74fb6d\)/);
      assert.match(e.message, /cifar-10-binary\.tar\.gz/);
      assert.ok(e.message.includes(join(t.dir, 'cifar10')));
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  } finally {
    t.cleanup();
  }
});
