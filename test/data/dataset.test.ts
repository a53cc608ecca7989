import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { isQrobustError } from '../../src/core/errors.js';
import {
  batchCount,
  batches,
  epochOrder,
  loadDataset,
  select,
  subset,
  subsetIndices,
  takeFirst,
  toTensors,
  type ImageDataset,
} from '../../src/data/index.js';
import { NEEDS_MIRROR, offline, tempDir } from './fixtures.js';

before(async () => {
  await initBackend('cpu');
});

/** 50 images of 2×3×2 whose first byte is the image number and whose label is number % 10. */
function synthetic(count = 50): ImageDataset {
  const size = 12;
  const pixels = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < size; k++) pixels[i * size + k] = k === 0 ? i : k === 1 ? 255 : (i * 7 + k) & 255;
    labels[i] = i % 10;
  }
  return {
    name: 'synthetic',
    split: 'test',
    variant: 'canonical',
    canonical: true,
    shape: [2, 3, 2],
    numClasses: 10,
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    count,
    pixels,
    labels,
    files: [],
    sourceCount: count,
    selection: { method: 'all' },
    sourceIndices: null,
  };
}

test('subset is deterministic per seed, different across seeds, and in original order', () => {
  const ds = synthetic();
  const a = subset(ds, 10, 1);
  const b = subset(ds, 10, 1);
  const c = subset(ds, 10, 2);
  assert.deepEqual(a.sourceIndices, b.sourceIndices);
  assert.notDeepEqual(a.sourceIndices, c.sourceIndices);
  assert.equal(a.count, 10);
  assert.deepEqual(a.selection, { method: 'random', n: 10, seed: 1 });
  const idx = [...a.sourceIndices!];
  assert.deepEqual(idx, [...idx].sort((x, y) => x - y));
  assert.equal(new Set(idx).size, 10);
  // The data follow the indices.
  for (let i = 0; i < a.count; i++) {
    assert.equal(a.pixels[i * 12], idx[i]);
    assert.equal(a.labels[i], idx[i]! % 10);
  }
  // A larger subset with the same seed contains the smaller one.
  const big = new Set(subsetIndices(50, 20, 1));
  for (const i of idx) assert.ok(big.has(i));
  // n >= count: everything in original order.
  assert.equal(subset(ds, 50, 3), ds);
  assert.equal(subset(ds, 500, 3).count, 50);
  assert.throws(() => subset(ds, -1, 0), (e: unknown) => isQrobustError(e) && e.code === 'invalid_argument');
});

test('takeFirst and select compose their source indices', () => {
  const ds = synthetic();
  const first = takeFirst(ds, 5);
  assert.equal(first.count, 5);
  assert.deepEqual([...first.labels], [0, 1, 2, 3, 4]);
  assert.deepEqual(first.selection, { method: 'first', n: 5 });
  assert.equal(takeFirst(ds, 99), ds);
  const picked = select(subset(ds, 10, 7), [9, 0]);
  const base = subset(ds, 10, 7).sourceIndices!;
  assert.deepEqual([...picked.sourceIndices!], [base[9], base[0]]);
  assert.equal(picked.pixels[0], base[9]);
  assert.throws(() => select(ds, [50]), (e: unknown) => isQrobustError(e) && /out of range/.test(e.message));
});

test('toTensors: shapes, dtypes, [0,1] range, no leaked tensors', () => {
  const ds = synthetic();
  const before = tf.memory().numTensors;
  const { x, y } = toTensors(ds, [3, 0, 49]);
  assert.deepEqual(x.shape, [3, 2, 3, 2]);
  assert.equal(x.dtype, 'float32');
  assert.deepEqual(y.shape, [3]);
  assert.equal(y.dtype, 'int32');
  const xs = x.dataSync();
  assert.equal(xs[0], Math.fround(3 / 255));
  assert.equal(xs[1], 1);
  assert.equal(xs[12], 0);
  assert.ok(xs.every((v) => v >= 0 && v <= 1));
  assert.deepEqual([...y.dataSync()], [3, 0, 9]);
  x.dispose();
  y.dispose();
  const all = toTensors(ds);
  assert.deepEqual(all.x.shape, [50, 2, 3, 2]);
  tf.dispose([all.x, all.y]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => toTensors(ds, [50]), (e: unknown) => isQrobustError(e));
  assert.equal(tf.memory().numTensors, before);
});

test('batches: every example once per epoch, seeded order per epoch', () => {
  const ds = synthetic(23);
  const before = tf.memory().numTensors;
  const collect = (opts: Parameters<typeof batches>[1]): number[][] => {
    const out: number[][] = [];
    for (const b of batches(ds, opts)) {
      assert.equal(b.x.shape[0], b.indices.length);
      assert.deepEqual([...b.y.dataSync()], [...b.indices].map((i) => i % 10));
      assert.equal(b.x.dataSync()[0], Math.fround(b.indices[0]! / 255));
      out.push([...b.indices]);
      tf.dispose([b.x, b.y]);
    }
    return out;
  };
  const e0 = collect({ batchSize: 5, seed: 11, epoch: 0 });
  assert.deepEqual(e0.map((b) => b.length), [5, 5, 5, 5, 3]);
  assert.deepEqual(e0.flat().sort((a, b) => a - b), Array.from({ length: 23 }, (_, i) => i));
  assert.deepEqual(collect({ batchSize: 5, seed: 11, epoch: 0 }), e0);
  assert.notDeepEqual(collect({ batchSize: 5, seed: 11, epoch: 1 }).flat(), e0.flat());
  assert.notDeepEqual(collect({ batchSize: 5, seed: 12, epoch: 0 }).flat(), e0.flat());
  assert.deepEqual(collect({ batchSize: 5, seed: 11, epoch: 1 }).flat(), [...epochOrder(23, 11, 1)]);
  assert.deepEqual(collect({ batchSize: 10, shuffle: false, dropRemainder: true }), [
    Array.from({ length: 10 }, (_, i) => i),
    Array.from({ length: 10 }, (_, i) => i + 10),
  ]);
  assert.equal(batchCount(ds, { batchSize: 10, dropRemainder: true }), 2);
  assert.equal(batchCount(ds, { batchSize: 10 }), 3);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => [...batches(ds, { batchSize: 0 })], (e: unknown) => isQrobustError(e));
});

test('loadDataset with n and seed gives a reproducible subset of a real split', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('subset');
  try {
    const a = await loadDataset('cifar10', 'test', offline(t.dir, { n: 64, seed: 5 }));
    const b = await loadDataset('cifar10', 'test', offline(t.dir, { n: 64, seed: 5 }));
    const c = await loadDataset('cifar10', 'test', offline(t.dir, { n: 64, seed: 6 }));
    assert.equal(a.count, 64);
    assert.equal(a.sourceCount, 1000);
    assert.deepEqual(a.sourceIndices, b.sourceIndices);
    assert.deepEqual(a.pixels, b.pixels);
    assert.notDeepEqual(a.sourceIndices, c.sourceIndices);
    const { x, y } = toTensors(a, [0, 1]);
    assert.deepEqual(x.shape, [2, 32, 32, 3]);
    const v = x.dataSync();
    assert.equal(v[5], Math.fround(a.pixels[5]! / 255));
    tf.dispose([x, y]);
  } finally {
    t.cleanup();
  }
});
