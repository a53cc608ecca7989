import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isQrobustError } from '../../src/core/errors.js';
import { datasetStatus, loadDataset } from '../../src/data/index.js';
import { readIdxFile } from '../../src/data/idx.js';
import { MIRROR, NEEDS_MIRROR, idxImages, md5, offline, tempDir } from './fixtures.js';

test('Fashion-MNIST labels parse: balanced classes', { skip: NEEDS_MIRROR }, async () => {
  for (const [file, perClass] of [
    ['train-labels-idx1-ubyte.gz', 6000],
    ['t10k-labels-idx1-ubyte.gz', 1000],
  ] as const) {
    const labels = await readIdxFile(join(MIRROR!, 'fashion-mnist', file), 'labels');
    assert.equal(labels.count, perClass * 10);
    const counts = new Array<number>(10).fill(0);
    for (const l of labels.data) counts[l]!++;
    assert.deepEqual(counts, new Array<number>(10).fill(perClass));
  }
});

test('Fashion-MNIST without its images: one clear error naming the image file', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('fashion');
  try {
    for (const [split, file, md5] of [
      ['train', 'train-images-idx3-ubyte.gz', '8d4fb7e6c68d591d4c3dfef9ec88bf0d'],
      ['test', 't10k-images-idx3-ubyte.gz', 'bef4ecab320f06d8554ea6380940ec79'],
    ] as const) {
      await assert.rejects(loadDataset('fashion-mnist', split, offline(t.dir)), (e: unknown) => {
        assert.ok(isQrobustError(e));
        assert.equal(e.code, 'dataset_missing');
        assert.ok(e.message.startsWith(`fashion-mnist ${split}: missing ${file} (`), e.message);
        assert.ok(e.message.includes(md5));
        assert.ok(!e.message.includes('labels-idx1'), 'the label file is present and not reported');
        assert.ok(e.message.includes(join(t.dir, 'fashion-mnist')), 'names the cache folder');
        assert.match(e.message, /download http\S+\/(train|t10k)-images-idx3-ubyte\.gz into /);
        assert.match(e.message, /--data-dir/);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
    const status = await datasetStatus({ cacheDir: t.dir, env: {}, datasets: ['fashion-mnist'] });
    const train = status.datasets[0]!.splits.find((s) => s.split === 'train')!;
    assert.equal(train.selected, null);
    const files = train.variants[0]!.files;
    assert.deepEqual(
      files.map((f) => [f.name, f.present, f.verified]),
      [
        ['train-images-idx3-ubyte', false, null],
        ['train-labels-idx1-ubyte', true, true],
      ],
    );
    assert.match(files[0]!.url ?? '', /^http.*train-images-idx3-ubyte\.gz$/);
  } finally {
    t.cleanup();
  }
});

test('Fashion-MNIST images verify by the MD5 of the original .gz only', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('fashion-md5');
  try {
    const dir = join(t.dir, 'data', 'fashion-mnist');
    mkdirSync(dir, { recursive: true });
    const fake = gzipSync(idxImages(10000, 28, 28, (i, k) => i + k));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), fake);
    const opts = offline(join(t.dir, 'cache'), { dataDir: join(t.dir, 'data') });
    await assert.rejects(loadDataset('fashion-mnist', 'test', opts), (e: unknown) => {
      assert.ok(isQrobustError(e));
      assert.equal(e.code, 'checksum_mismatch');
      assert.ok(e.message.includes(`MD5 is ${md5(fake)}, expected bef4ecab320f06d8554ea6380940ec79`), e.message);
      return true;
    });
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idxImages(10000, 28, 28, () => 0));
    await assert.rejects(
      loadDataset('fashion-mnist', 'test', opts),
      (e: unknown) => isQrobustError(e) && /only the original t10k-images-idx3-ubyte\.gz can be verified/.test(e.message),
    );
  } finally {
    t.cleanup();
  }
});
