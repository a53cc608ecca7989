import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isQrobustError } from '../../src/core/errors.js';
import { formatProgress, loadDatasetFromSpec, type DatasetSpec, type FileSpec, type ProgressEvent } from '../../src/data/index.js';
import { cifarRecords, idxImages, idxLabels, sha256, tarArchive, tempDir } from './fixtures.js';

// ---- a local HTTP server standing in for the dataset hosts -------------------------------------------------

const routes = new Map<string, Buffer>();
const requests: string[] = [];
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = routes.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    // Send in pieces so that progress is reported more than once.
    let at = 0;
    const step = (): void => {
      if (at >= body.length) {
        res.end();
        return;
      }
      res.write(body.subarray(at, at + 4096));
      at += 4096;
      setImmediate(step);
    };
    step();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
});

// ---- a small IDX dataset ---------------------------------------------------------------------------------

const IMAGES = idxImages(6, 4, 4, (i, k) => i * 16 + k);
const LABELS = idxLabels([0, 1, 2, 0, 1, 2]);
const IMAGES_GZ = gzipSync(IMAGES);
const LABELS_GZ = gzipSync(LABELS);

function idxFile(name: string, role: 'images' | 'labels', content: Buffer, gz: Buffer, url: string): FileSpec {
  return {
    name,
    role,
    count: 6,
    content: { size: content.length, sha256: sha256(content) },
    published: { name: `${name}.gz`, size: gz.length, sha256: sha256(gz) },
    urls: [url],
  };
}

function tinySpec(labelsUrl: string): DatasetSpec {
  const variant = {
    variant: 'canonical',
    canonical: true,
    description: 'six tiny images',
    count: 6,
    files: [idxFile('tiny-images', 'images', IMAGES, IMAGES_GZ, `${base}/tiny-images.gz`), idxFile('tiny-labels', 'labels', LABELS, LABELS_GZ, labelsUrl)],
  };
  return {
    name: 'tiny',
    title: 'tiny',
    format: 'idx',
    shape: [4, 4, 1],
    classNames: ['a', 'b', 'c'],
    homepage: 'http://127.0.0.1/',
    license: 'test',
    citation: 'test',
    splits: { train: { split: 'train', variants: [variant] }, test: { split: 'test', variants: [variant] } },
  };
}

function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

test('a missing file is downloaded into the cache, verified, then found there', async () => {
  routes.set('/tiny-images.gz', IMAGES_GZ);
  routes.set('/tiny-labels.gz', LABELS_GZ);
  requests.length = 0;
  const t = tempDir('dl');
  try {
    const events: ProgressEvent[] = [];
    const spec = tinySpec(`${base}/tiny-labels.gz`);
    const opts = { cacheDir: t.dir, env: {}, mirrorDir: false as const };
    const ds = await loadDatasetFromSpec(spec, 'train', { ...opts, allowDownload: true, onProgress: (e) => events.push(e) });
    assert.equal(ds.count, 6);
    assert.deepEqual([...ds.labels], [0, 1, 2, 0, 1, 2]);
    assert.equal(ds.pixels[16 * 5 + 3], 83);
    assert.deepEqual(listFiles(join(t.dir, 'tiny')), ['tiny-images.gz', 'tiny-labels.gz']);
    for (const f of ds.files) {
      assert.equal(f.source, 'cache');
      assert.ok(f.path.startsWith(join(t.dir, 'tiny')));
    }
    assert.deepEqual(requests.sort(), ['/tiny-images.gz', '/tiny-labels.gz']);
    const done = events.filter((e) => e.done);
    assert.equal(done.length, 2);
    assert.ok(done.every((e) => e.phase === 'download' && e.totalBytes === e.bytes));
    // Found in the cache next time: no request.
    requests.length = 0;
    const again = await loadDatasetFromSpec(spec, 'test', { ...opts, allowDownload: false });
    assert.equal(again.count, 6);
    assert.deepEqual(requests, []);
  } finally {
    t.cleanup();
  }
});

test('a download with the wrong checksum is an error and leaves no file behind', async () => {
  routes.set('/tiny-images.gz', IMAGES_GZ);
  routes.set('/bad/tiny-labels.gz', gzipSync(idxLabels([0, 1, 2, 0, 1, 1])));
  const t = tempDir('dl-bad');
  try {
    const spec = tinySpec(`${base}/bad/tiny-labels.gz`);
    const opts = { cacheDir: t.dir, env: {}, mirrorDir: false as const, allowDownload: true, onProgress: null };
    await assert.rejects(loadDatasetFromSpec(spec, 'train', opts), (e: unknown) => {
      assert.ok(isQrobustError(e));
      assert.equal(e.code, 'checksum_mismatch');
      assert.ok(e.message.includes(`${base}/bad/tiny-labels.gz`), e.message);
      assert.ok(e.message.includes(sha256(LABELS)), 'expected checksum named');
      assert.match(e.message, /it was deleted/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    // The good file stays; the bad one is neither saved nor left as a partial file.
    assert.deepEqual(listFiles(join(t.dir, 'tiny')), ['tiny-images.gz']);
    // And nothing is then mistaken for a valid copy.
    await assert.rejects(
      loadDatasetFromSpec(spec, 'train', { ...opts, allowDownload: false }),
      (e: unknown) => isQrobustError(e) && e.code === 'dataset_missing' && /missing tiny-labels\.gz/.test(e.message),
    );
  } finally {
    t.cleanup();
  }
});

test('HTTP errors and disabled downloads', async () => {
  const t = tempDir('dl-404');
  try {
    const spec = tinySpec(`${base}/nowhere/tiny-labels.gz`);
    routes.set('/tiny-images.gz', IMAGES_GZ);
    const opts = { cacheDir: t.dir, env: {}, mirrorDir: false as const, onProgress: null };
    await assert.rejects(loadDatasetFromSpec(spec, 'train', { ...opts, allowDownload: true }), (e: unknown) => {
      return isQrobustError(e) && e.code === 'download_failed' && e.message.includes('HTTP 404') && e.message.includes('/nowhere/tiny-labels.gz');
    });
    assert.ok(!listFiles(join(t.dir, 'tiny')).some((f) => f.includes('labels')));
    requests.length = 0;
    const t2 = tempDir('dl-off');
    try {
      await assert.rejects(
        loadDatasetFromSpec(spec, 'train', { ...opts, cacheDir: t2.dir, allowDownload: false }),
        (e: unknown) => isQrobustError(e) && e.code === 'dataset_missing' && /or allow downloads$/.test(e.message),
      );
      // QROBUST_OFFLINE turns the default off.
      await assert.rejects(
        loadDatasetFromSpec(spec, 'train', { ...opts, cacheDir: t2.dir, env: { QROBUST_OFFLINE: '1' } }),
        (e: unknown) => isQrobustError(e) && e.code === 'dataset_missing',
      );
      assert.deepEqual(requests, []);
    } finally {
      t2.cleanup();
    }
  } finally {
    t.cleanup();
  }
});

// ---- a small CIFAR-like dataset published as a tarball ---------------------------------------------------

const TRAIN = cifarRecords([1, 2, 3], (i, c, p) => i + c * 50 + p);
const TEST = cifarRecords([4, 5, 6, 7], (i, c, p) => 200 - i - c * 20 + (p % 3));
const TEST_FIRST = TEST.subarray(0, 2 * 3073);
const TARBALL = gzipSync(tarArchive({ 'tiny-batches/train.bin': TRAIN, 'tiny-batches/test.bin': TEST }));

function records(name: string, bytes: Buffer, archive?: string): FileSpec {
  const count = bytes.length / 3073;
  return { name, role: 'records', count, content: { size: bytes.length, sha256: sha256(bytes) }, ...(archive ? { archive } : {}) };
}

function tinyCifar(archiveUrl: string): DatasetSpec {
  return {
    name: 'tinycifar',
    title: 'tiny CIFAR',
    format: 'cifar-binary',
    shape: [32, 32, 3],
    classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
    homepage: 'http://127.0.0.1/',
    license: 'test',
    citation: 'test',
    archives: [
      {
        name: 'tiny.tar.gz',
        urls: [archiveUrl],
        digest: { sha256: sha256(TARBALL), size: TARBALL.length },
        members: { 'train.bin': 'tiny-batches/train.bin', 'test.bin': 'tiny-batches/test.bin' },
      },
    ],
    splits: {
      train: { split: 'train', variants: [{ variant: 'canonical', canonical: true, description: 'train', count: 3, files: [records('train.bin', TRAIN, 'tiny.tar.gz')] }] },
      test: {
        split: 'test',
        variants: [
          { variant: 'canonical', canonical: true, description: 'test', count: 4, files: [records('test.bin', TEST, 'tiny.tar.gz')] },
          { variant: 'first2', canonical: false, description: 'first two', count: 2, files: [records('first2.bin', TEST_FIRST)] },
        ],
      },
    },
  };
}

test('test-set variants: the partial one is used when the canonical one is not present, without downloading', async () => {
  routes.set('/tiny.tar.gz', TARBALL);
  requests.length = 0;
  const t = tempDir('variants');
  try {
    const data = join(t.dir, 'data');
    mkdirSync(join(data, 'tinycifar'), { recursive: true });
    writeFileSync(join(data, 'tinycifar', 'first2.bin.gz'), gzipSync(TEST_FIRST));
    const spec = tinyCifar(`${base}/tiny.tar.gz`);
    const ds = await loadDatasetFromSpec(spec, 'test', { dataDir: data, cacheDir: join(t.dir, 'cache'), env: {}, mirrorDir: false, allowDownload: true, onProgress: null });
    assert.equal(ds.variant, 'first2');
    assert.equal(ds.canonical, false);
    assert.equal(ds.count, 2);
    assert.deepEqual([...ds.labels], [4, 5]);
    assert.deepEqual(ds.files.map((f) => [f.name, f.compressed, f.source]), [['first2.bin', true, 'data-dir']]);
    assert.deepEqual(requests, []);
  } finally {
    t.cleanup();
  }
});

test('a tarball is downloaded, its members unpacked and verified, and the canonical variant used', async () => {
  routes.set('/tiny.tar.gz', TARBALL);
  requests.length = 0;
  const t = tempDir('tarball');
  try {
    const spec = tinyCifar(`${base}/tiny.tar.gz`);
    const events: ProgressEvent[] = [];
    const opts = { cacheDir: t.dir, env: {}, mirrorDir: false as const, onProgress: (e: ProgressEvent) => events.push(e) };
    const ds = await loadDatasetFromSpec(spec, 'test', { ...opts, allowDownload: true });
    assert.equal(ds.variant, 'canonical');
    assert.equal(ds.count, 4);
    assert.deepEqual([...ds.labels], [4, 5, 6, 7]);
    // record 3, pixel 10, channel G (1): 200 - 3 - 20 + 10 % 3
    assert.equal(ds.pixels[(3 * 1024 + 10) * 3 + 1], 200 - 3 - 20 + 1);
    assert.deepEqual(requests, ['/tiny.tar.gz']);
    assert.deepEqual(listFiles(join(t.dir, 'tinycifar')), ['test.bin', 'train.bin'], 'members unpacked, archive removed');
    assert.ok(events.some((e) => e.phase === 'download' && e.done));
    assert.ok(events.some((e) => e.phase === 'extract' && e.done));
    const train = await loadDatasetFromSpec(spec, 'train', { ...opts, allowDownload: false });
    assert.equal(train.count, 3);
    assert.equal(requests.length, 1);
  } finally {
    t.cleanup();
  }
});

test('a tarball lying in a data folder is unpacked into the cache and preferred over a partial variant', async () => {
  requests.length = 0;
  const t = tempDir('tarball-local');
  try {
    const data = join(t.dir, 'data');
    mkdirSync(join(data, 'tinycifar'), { recursive: true });
    writeFileSync(join(data, 'tinycifar', 'tiny.tar.gz'), TARBALL);
    writeFileSync(join(data, 'tinycifar', 'first2.bin'), TEST_FIRST);
    const spec = tinyCifar(`${base}/unused.tar.gz`);
    const cache = join(t.dir, 'cache');
    const ds = await loadDatasetFromSpec(spec, 'test', { dataDir: data, cacheDir: cache, env: {}, mirrorDir: false, allowDownload: false, onProgress: null });
    assert.equal(ds.variant, 'canonical');
    assert.equal(ds.files[0]!.source, 'cache');
    assert.deepEqual(listFiles(join(cache, 'tinycifar')), ['test.bin', 'train.bin']);
    assert.ok(existsSync(join(data, 'tinycifar', 'tiny.tar.gz')), 'a tarball qrobust did not download is kept');
    assert.deepEqual(requests, []);
  } finally {
    t.cleanup();
  }
});

test('a tarball with the wrong checksum is rejected and removed', async () => {
  routes.set('/broken.tar.gz', Buffer.concat([TARBALL.subarray(0, 100), Buffer.alloc(50)]));
  const t = tempDir('tarball-bad');
  try {
    const spec = tinyCifar(`${base}/broken.tar.gz`);
    await assert.rejects(
      loadDatasetFromSpec(spec, 'train', { cacheDir: t.dir, env: {}, mirrorDir: false, allowDownload: true, onProgress: null }),
      (e: unknown) => isQrobustError(e) && e.code === 'checksum_mismatch' && e.message.includes('/broken.tar.gz'),
    );
    assert.deepEqual(listFiles(join(t.dir, 'tinycifar')), []);
  } finally {
    t.cleanup();
  }
});

test('progress lines show bytes, percent and ETA', () => {
  const line = formatProgress({ phase: 'download', file: 'mnist/x.gz', bytes: 2 * 1024 * 1024, totalBytes: 8 * 1024 * 1024, elapsedMs: 2000, done: false });
  assert.match(line, /^downloading mnist\/x\.gz {2}2\.0 MB \/ 8\.0 MB {2}25% {2}1\.0 MB\/s {2}ETA 6s$/);
  const done = formatProgress({ phase: 'download', file: 'mnist/x.gz', bytes: 100, totalBytes: 100, elapsedMs: 500, done: true });
  assert.match(done, /100%.*done/);
});
