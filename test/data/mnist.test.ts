import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isQrobustError } from '../../src/core/errors.js';
import { labelCounts, loadDataset } from '../../src/data/index.js';
import { readIdxFile } from '../../src/data/idx.js';
import { getDatasetSpec } from '../../src/data/registry.js';
import { MIRROR, NEEDS_MIRROR, offline, sha256, tempDir } from './fixtures.js';

const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

test('MNIST train and test load with the published counts, verified', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('mnist');
  try {
    const spec = getDatasetSpec('mnist');
    for (const [split, count, perClass] of [
      ['train', 60000, TRAIN_COUNTS],
      ['test', 10000, TEST_COUNTS],
    ] as const) {
      const ds = await loadDataset('mnist', split, offline(t.dir));
      assert.equal(ds.name, 'mnist');
      assert.equal(ds.split, split);
      assert.equal(ds.variant, 'canonical');
      assert.equal(ds.canonical, true);
      assert.deepEqual(ds.shape, [28, 28, 1]);
      assert.equal(ds.numClasses, 10);
      assert.equal(ds.count, count);
      assert.equal(ds.pixels.length, count * 784);
      assert.equal(ds.labels.length, count);
      assert.deepEqual(labelCounts(ds), perClass);
      let min = 255;
      let max = 0;
      for (const v of ds.pixels) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      assert.equal(min, 0);
      assert.equal(max, 255);
      // Files: found in the mirror, verified, recorded with their content digests.
      const expected = spec.splits[split].variants[0]!.files;
      assert.deepEqual(ds.files.map((f) => f.name), expected.map((f) => f.name));
      for (const [i, f] of ds.files.entries()) {
        assert.equal(f.source, 'mirror');
        assert.equal(f.compressed, true);
        assert.equal(f.sha256, expected[i]!.content.sha256);
        assert.equal(f.fileSha256, expected[i]!.published!.sha256);
        assert.equal(f.fileSha256, sha256(readFileSync(f.path)));
        assert.ok(f.verifiedBy === 'published-sha256' || f.verifiedBy === 'content-sha256');
      }
      assert.equal(ds.selection.method, 'all');
    }
  } finally {
    t.cleanup();
  }
});

test('MNIST IDX headers', { skip: NEEDS_MIRROR }, async () => {
  const images = await readIdxFile(join(MIRROR!, 'mnist', 't10k-images-idx3-ubyte.gz'), 'images');
  assert.deepEqual([images.count, images.rows, images.cols], [10000, 28, 28]);
  const labels = await readIdxFile(join(MIRROR!, 'mnist', 'train-labels-idx1-ubyte.gz'), 'labels');
  assert.equal(labels.count, 60000);
  await assert.rejects(
    readIdxFile(join(MIRROR!, 'mnist', 't10k-images-idx3-ubyte.gz'), 'labels'),
    (e: unknown) => isQrobustError(e) && /t10k-images-idx3-ubyte\.gz: expected IDX labels \(magic 2049\) but found an IDX images file/.test(e.message),
  );
});

test('uncompressed IDX files in --data-dir are accepted (verified by content) and take precedence', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('mnist-raw');
  try {
    const dir = join(t.dir, 'data', 'mnist');
    mkdirSync(dir, { recursive: true });
    for (const name of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(dir, name), gunzipSync(readFileSync(join(MIRROR!, 'mnist', `${name}.gz`))));
    }
    const ds = await loadDataset('mnist', 'test', offline(join(t.dir, 'cache'), { dataDir: join(t.dir, 'data'), n: 100 }));
    assert.equal(ds.count, 100);
    assert.equal(ds.sourceCount, 10000);
    assert.deepEqual(ds.selection, { method: 'first', n: 100 });
    for (const f of ds.files) {
      assert.equal(f.source, 'data-dir');
      assert.equal(f.compressed, false);
      assert.equal(f.verifiedBy, 'content-sha256');
      assert.ok(f.path.startsWith(dir));
    }
    // The same content digests as the gzipped copies.
    const fromMirror = await loadDataset('mnist', 'test', offline(join(t.dir, 'cache')));
    assert.deepEqual(ds.files.map((f) => f.sha256), fromMirror.files.map((f) => f.sha256));
    assert.deepEqual(ds.labels, fromMirror.labels.subarray(0, 100));
  } finally {
    t.cleanup();
  }
});

test('a truncated or altered file gives one error naming it with expected and actual checksums', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('mnist-bad');
  try {
    const data = join(t.dir, 'data');
    const dir = join(data, 'mnist');
    mkdirSync(dir, { recursive: true });
    const opts = offline(join(t.dir, 'cache'), { dataDir: data, mirrorDir: false });
    const labels = join(dir, 't10k-labels-idx1-ubyte.gz');
    copyFileSync(join(MIRROR!, 'mnist', 't10k-labels-idx1-ubyte.gz'), labels);
    copyFileSync(join(MIRROR!, 'mnist', 't10k-images-idx3-ubyte.gz'), join(dir, 't10k-images-idx3-ubyte.gz'));
    assert.equal((await loadDataset('mnist', 'test', opts)).count, 10000);

    truncateSync(labels, 3000);
    await assert.rejects(loadDataset('mnist', 'test', opts), (e: unknown) => {
      assert.ok(isQrobustError(e));
      assert.equal(e.code, 'checksum_mismatch');
      assert.ok(e.message.includes(labels), e.message);
      assert.match(e.message, /not a complete gzip stream/);
      assert.ok(e.message.includes('f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6'), 'expected digest');
      assert.ok(e.message.includes(sha256(readFileSync(labels))), 'actual digest');
      assert.match(e.message, /3000 of 4542 bytes: truncated/);
      assert.match(e.message, /to fix: delete or replace it .*download http/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });

    // Uncompressed, one byte flipped: the content digest is compared.
    const raw = gunzipSync(readFileSync(join(MIRROR!, 'mnist', 't10k-labels-idx1-ubyte.gz')));
    raw[100] = raw[100]! ^ 1;
    writeFileSync(labels, raw);
    const rawPath = join(dir, 't10k-labels-idx1-ubyte');
    writeFileSync(rawPath, raw);
    await assert.rejects(loadDataset('mnist', 'test', opts), (e: unknown) => {
      assert.ok(isQrobustError(e));
      assert.equal(e.code, 'checksum_mismatch');
      assert.ok(e.message.includes(rawPath), e.message);
      assert.ok(e.message.includes(`is ${sha256(raw)}, expected ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2`), e.message);
      return true;
    });

    // A bad copy in the user's --data-dir is an error even though the mirror holds a good one.
    await assert.rejects(
      loadDataset('mnist', 'test', offline(join(t.dir, 'cache'), { dataDir: data })),
      (e: unknown) => isQrobustError(e) && e.code === 'checksum_mismatch' && e.message.includes(rawPath),
    );
  } finally {
    t.cleanup();
  }
});

test('an images file saved under the labels name fails verification, not parsing', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('mnist-swap');
  try {
    const dir = join(t.dir, 'mnist');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(MIRROR!, 'mnist', 't10k-images-idx3-ubyte.gz'), join(dir, 't10k-images-idx3-ubyte.gz'));
    copyFileSync(join(MIRROR!, 'mnist', 't10k-images-idx3-ubyte.gz'), join(dir, 't10k-labels-idx1-ubyte.gz'));
    await assert.rejects(
      loadDataset('mnist', 'test', offline(join(t.dir, 'cache'), { dataDir: t.dir, mirrorDir: false })),
      (e: unknown) => isQrobustError(e) && e.code === 'checksum_mismatch' && e.message.includes(join(dir, 't10k-labels-idx1-ubyte.gz')),
    );
  } finally {
    t.cleanup();
  }
});

test('loadDataset: unknown names and splits', async () => {
  await assert.rejects(loadDataset('imagenet', 'test'), (e: unknown) => {
    assert.ok(isQrobustError(e));
    assert.equal(e.code, 'unknown_dataset');
    assert.equal(
      e.message,
      "unknown dataset 'imagenet': expected one of mnist, fashion-mnist, cifar10, a folder of class folders (DIR or images:DIR), or npz:FILE",
    );
    return true;
  });
  await assert.rejects(loadDataset('mnist', 'val' as 'test'), (e: unknown) => isQrobustError(e) && e.code === 'invalid_argument');
});
