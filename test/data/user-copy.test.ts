/**
 * A file in a folder the user named (--data-dir, QROBUST_DATA_DIR) that fails its checksum is an error naming it,
 * never bypassed for another copy; a bad copy in the cache (qrobust's own folder) still gives way to a good one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isQrobustError } from '../../src/core/errors.js';
import { datasetStatus, loadDataset } from '../../src/data/index.js';
import { MIRROR, NEEDS_MIRROR, offline, tempDir } from './fixtures.js';

const LABELS = 't10k-labels-idx1-ubyte.gz';

/** A copy of the mirror's MNIST test labels with one byte of the gzip stream's CRC flipped. */
function corruptLabels(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const bytes = readFileSync(join(MIRROR!, 'mnist', LABELS));
  bytes[bytes.length - 6] = bytes[bytes.length - 6]! ^ 0xff;
  const path = join(dir, LABELS);
  writeFileSync(path, bytes);
  return path;
}

function namesFile(path: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isQrobustError(e), String(e));
    assert.equal(e.code, 'checksum_mismatch');
    assert.ok(e.message.includes(path), e.message);
    assert.ok(!e.message.includes('\n'));
    return true;
  };
}

test('a corrupt MNIST file in --data-dir is an error naming it, though the mirror has a good copy', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('user-copy');
  try {
    const bad = corruptLabels(join(t.dir, 'data', 'mnist'));
    const opts = offline(join(t.dir, 'cache'), { dataDir: join(t.dir, 'data') });
    await assert.rejects(loadDataset('mnist', 'test', opts), namesFile(bad));
    const status = await datasetStatus({ ...opts, datasets: ['mnist'] });
    const file = status.datasets[0]!.splits.find((s) => s.split === 'test')!.variants[0]!.files.find((f) => f.name === 't10k-labels-idx1-ubyte')!;
    assert.equal(file.verified, false);
    assert.equal(file.path, bad);
  } finally {
    t.cleanup();
  }
});

test('a corrupt MNIST file in QROBUST_DATA_DIR is an error naming it', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('user-env');
  try {
    const bad = corruptLabels(join(t.dir, 'env', 'mnist'));
    const opts = { ...offline(join(t.dir, 'cache')), env: { QROBUST_DATA_DIR: join(t.dir, 'env') } };
    await assert.rejects(loadDataset('mnist', 'test', opts), namesFile(bad));
  } finally {
    t.cleanup();
  }
});

test('a good copy in --data-dir wins over a corrupt one in QROBUST_DATA_DIR (searched later)', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('user-both');
  try {
    corruptLabels(join(t.dir, 'env', 'mnist'));
    const good = join(t.dir, 'data', 'mnist');
    mkdirSync(good, { recursive: true });
    copyFileSync(join(MIRROR!, 'mnist', LABELS), join(good, LABELS));
    const opts = { ...offline(join(t.dir, 'cache'), { dataDir: join(t.dir, 'data') }), env: { QROBUST_DATA_DIR: join(t.dir, 'env') } };
    const ds = await loadDataset('mnist', 'test', { ...opts, n: 5 });
    const labels = ds.files.find((f) => f.name === 't10k-labels-idx1-ubyte')!;
    assert.equal(labels.source, 'data-dir');
    assert.equal(labels.path, join(good, LABELS));
  } finally {
    t.cleanup();
  }
});

test('a corrupt copy in the cache still gives way to a good copy in the mirror', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('cache-copy');
  try {
    corruptLabels(join(t.dir, 'cache', 'mnist'));
    const ds = await loadDataset('mnist', 'test', offline(join(t.dir, 'cache'), { n: 5 }));
    assert.equal(ds.files.find((f) => f.name === 't10k-labels-idx1-ubyte')!.source, 'mirror');
  } finally {
    t.cleanup();
  }
});
