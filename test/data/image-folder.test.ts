/**
 * Folders of class folders, checked against what scripts/make-data-fixtures.py wrote with PIL, and a real
 * slice: 30 MNIST test images as PIL-written PNGs against the built-in MNIST loader's records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isQrobustError } from '../../src/core/errors.js';
import { datasetShape, listImageFolder, loadDataset } from '../../src/data/index.js';
import { DATA_FIXTURES, NEEDS_MIRROR, offline, sha256, tempDir } from './fixtures.js';

const MIXED = join(DATA_FIXTURES, 'mixed');
const MNIST30 = join(DATA_FIXTURES, 'mnist-30');
const DECODE = join(DATA_FIXTURES, 'decode');

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(join(DATA_FIXTURES, name), 'utf8')) as T;
}

function rejectsWith(p: Promise<unknown>, code: string, file: string, pattern: RegExp): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(isQrobustError(e), `expected a QrobustError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.startsWith(`${file}: `), `names ${file} first: ${e.message}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('mixed gray and colour PNGs: RGB with gray replicated, classes in classes.txt order, manifest digest', async () => {
  const want = readJson<{ classNames: string[]; shape: number[]; labels: number[]; pixels: number[]; rels: string[]; manifestSha256: string; classesSha256: string }>('mixed.json');
  const ds = await loadDataset(MIXED, 'train');
  assert.equal(ds.name, `images:${MIXED}`);
  assert.deepEqual(ds.classNames, want.classNames);
  assert.deepEqual(ds.shape, want.shape);
  assert.deepEqual([...ds.labels], want.labels);
  assert.deepEqual([...ds.pixels], want.pixels);
  assert.equal(ds.variant, './');
  assert.deepEqual((await listImageFolder(MIXED, 'test')).images.map((i) => i.rel), want.rels);
  assert.deepEqual(
    ds.files.map((f) => [f.name, f.sha256, f.source, f.verifiedBy]),
    [
      ['mixed/', want.manifestSha256, 'given', 'none'],
      ['classes.txt', want.classesSha256, 'given', 'none'],
    ],
  );
  // The `images:` form and the plain path are the same source.
  const again = await loadDataset(`images:${MIXED}`, 'test');
  assert.equal(again.name, ds.name);
  assert.deepEqual(again.pixels, ds.pixels);
});

test('30 MNIST test images as PIL-written PNGs match the built-in MNIST loader pixel for pixel', { skip: NEEDS_MIRROR }, async () => {
  const want = readJson<{ rels: string[]; manifestSha256: string }>('mnist-30.json');
  const t = tempDir('mnist30');
  try {
    const ds = await loadDataset(MNIST30, 'test');
    const mnist = await loadDataset('mnist', 'test', offline(t.dir));
    assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.deepEqual(ds.shape, [28, 28, 1]);
    assert.equal(ds.count, 30);
    assert.equal(ds.files[0]!.sha256, want.manifestSha256);
    const listing = await listImageFolder(MNIST30, 'test');
    assert.deepEqual(listing.images.map((i) => i.rel), want.rels);
    for (const [i, img] of listing.images.entries()) {
      const k = Number(basename(img.rel, '.png'));
      assert.equal(ds.labels[i], mnist.labels[k], img.rel);
      assert.deepEqual([...ds.pixels.subarray(i * 784, (i + 1) * 784)], [...mnist.pixels.subarray(k * 784, (k + 1) * 784)], img.rel);
    }
    // Seeded subsets pick the same positions as for any dataset of 30.
    const sub = await loadDataset(MNIST30, 'test', { n: 5, seed: 3 });
    assert.equal(sub.count, 5);
    for (let i = 0; i < 5; i++) assert.equal(sub.labels[i], ds.labels[sub.sourceIndices![i]!]);
  } finally {
    t.cleanup();
  }
});

test('train/ and test/ folders: each split reads its own, with one class list over both', async () => {
  const t = tempDir('split-folder');
  try {
    const root = join(t.dir, 'pets');
    for (const [split, cls, file] of [
      ['train', 'dog', 'gray.png'],
      ['train', 'cat', 'gray-alpha.png'],
      ['test', 'dog', 'gray-4bit.png'],
    ] as const) {
      mkdirSync(join(root, split, cls), { recursive: true });
      copyFileSync(join(DECODE, file), join(root, split, cls, file));
    }
    const train = await loadDataset(root, 'train');
    const testSplit = await loadDataset(root, 'test');
    assert.deepEqual(train.classNames, ['cat', 'dog']);
    assert.deepEqual(testSplit.classNames, ['cat', 'dog'], 'test/ has no cat folder; the class list still holds it');
    assert.deepEqual([...train.labels], [0, 1]);
    assert.deepEqual([...testSplit.labels], [1]);
    assert.equal(testSplit.variant, 'test/');
    assert.equal(testSplit.files[0]!.name, 'pets/test/');
    assert.equal(testSplit.files[0]!.sha256, sha256(Buffer.from(`${sha256(readFileSync(join(DECODE, 'gray-4bit.png')))}  test/dog/gray-4bit.png\n`)));
    rmSync(join(root, 'test'), { recursive: true });
    await rejectsWith(loadDataset(root, 'test'), 'dataset_corrupt', root, /holds train\/ but no test\/ folder/);
    // A train-only source still tells its shape, from the split asked for.
    const shape = await datasetShape(root, { split: 'train' });
    assert.deepEqual([shape.shape, shape.numClasses], [[5, 7, 1], 2]);
  } finally {
    t.cleanup();
  }
});

test('train/ and test/ folders have one shape: colour in either split makes both RGB; sizes must agree across them', async () => {
  const t = tempDir('split-colour');
  try {
    const root = join(t.dir, 'd');
    const put = (rel: string, file: string): void => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      copyFileSync(join(DECODE, file), join(root, rel));
    };
    put('train/a/1.png', 'gray.png');
    put('train/b/2.png', 'gray-4bit.png');
    put('test/a/3.png', 'rgb.png');
    const want = readJson<Record<string, { pixels: number[] }>>('decode.json');
    const train = await loadDataset(root, 'train');
    assert.deepEqual(train.shape, [5, 7, 3]);
    const gray = want['gray.png']!.pixels;
    assert.deepEqual([...train.pixels.subarray(0, 35 * 3)], gray.flatMap((v) => [v, v, v]));
    assert.deepEqual((await loadDataset(root, 'test')).shape, [5, 7, 3]);
    put('test/b/4.jpg', 'gray.jpg');
    await rejectsWith(loadDataset(root, 'train'), 'dataset_corrupt', join(root, 'test', 'b', '4.jpg'), /is 24×16 but .*1\.png is 7×5/);
  } finally {
    t.cleanup();
  }
});

test('bad folders: one line each, naming the file or folder', async () => {
  const t = tempDir('bad-folder');
  try {
    const make = (name: string, files: Record<string, string | Buffer>): string => {
      const root = join(t.dir, name);
      mkdirSync(root, { recursive: true });
      for (const [rel, content] of Object.entries(files)) {
        mkdirSync(join(root, rel, '..'), { recursive: true });
        writeFileSync(join(root, rel), typeof content === 'string' ? readFileSync(join(DECODE, content)) : content);
      }
      return root;
    };
    const empty = make('empty', {});
    await rejectsWith(loadDataset(empty, 'test'), 'dataset_corrupt', empty, /holds no class folders/);
    const noImages = make('no-images', { 'a/gray.png': 'gray.png' });
    mkdirSync(join(noImages, 'b'));
    await rejectsWith(loadDataset(noImages, 'test'), 'dataset_corrupt', join(noImages, 'b'), /is a class folder with no images/);
    const broken = make('broken', { 'a/gray.png': 'gray.png', 'a/nope.png': Buffer.from('not an image') });
    await rejectsWith(loadDataset(broken, 'test'), 'dataset_corrupt', join(broken, 'a', 'nope.png'), /cannot decode the image: neither a PNG nor a JPEG/);
    const sizes = make('sizes', { 'a/gray.png': 'gray.png', 'b/big.jpg': 'gray.jpg' });
    await rejectsWith(loadDataset(sizes, 'test'), 'dataset_corrupt', join(sizes, 'b', 'big.jpg'), /is 24×16 but .*gray\.png is 7×5: every image must have the same size/);
    const other = make('other', { 'a/gray.png': 'gray.png', 'a/notes.txt': Buffer.from('x') });
    await rejectsWith(loadDataset(other, 'test'), 'dataset_corrupt', join(other, 'a', 'notes.txt'), /is not a PNG or JPEG file/);
    const unlisted = make('unlisted', { 'a/gray.png': 'gray.png', 'b/gray.png': 'gray.png', 'classes.txt': Buffer.from('a\n') });
    await rejectsWith(loadDataset(unlisted, 'test'), 'dataset_corrupt', join(unlisted, 'b'), /is not a class listed in .*classes\.txt/);
    const twice = make('twice', { 'a/gray.png': 'gray.png', 'classes.txt': Buffer.from('a\nb\na\n') });
    await rejectsWith(loadDataset(twice, 'test'), 'dataset_corrupt', join(twice, 'classes.txt'), /class 'a' is listed twice/);
    await rejectsWith(loadDataset(join(t.dir, 'absent'), 'test'), 'dataset_missing', join(t.dir, 'absent'), /no such folder/);
    const loose = make('loose', { 'a/gray.png': 'gray.png', 'stray.jpg': 'gray.jpg' });
    await rejectsWith(loadDataset(loose, 'test'), 'dataset_corrupt', join(loose, 'stray.jpg'), /images belong in a class folder/);
    // A symbolic link to a class folder counts as the folder.
    const linked = make('linked', { 'a/gray.png': 'gray.png' });
    symlinkSync(join(broken, 'a'), join(linked, 'b'));
    await rejectsWith(loadDataset(linked, 'test'), 'dataset_corrupt', join(linked, 'b', 'nope.png'), /cannot decode the image/);
    // Hidden files are ignored; a listed class without a folder is a class with no examples.
    const hidden = make('hidden', { 'a/gray.png': 'gray.png', 'a/.DS_Store': Buffer.from('x'), 'classes.txt': Buffer.from('a\nb\n') });
    const ds = await loadDataset(hidden, 'test');
    assert.deepEqual([ds.count, ds.numClasses], [1, 2]);
  } finally {
    t.cleanup();
  }
});
