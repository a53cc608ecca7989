/**
 * NumPy .npz datasets, checked against what scripts/make-data-fixtures.py wrote with np.savez and
 * np.savez_compressed (test/fixtures/data/npz.json: the expected NHWC bytes computed by NumPy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isQrobustError } from '../../src/core/errors.js';
import { channelStatistics, loadDataset, subsetIndices } from '../../src/data/index.js';
import { numberReader, parseNpy, stringElements } from '../../src/data/npy.js';
import { npzMembers, readNpzArrays } from '../../src/data/npz.js';
import { pixelLayout } from '../../src/data/npz-dataset.js';
import { DATA_FIXTURES, sha256, tempDir } from './fixtures.js';

const DIR = join(DATA_FIXTURES, 'npz');
interface Expected {
  readonly shape: number[];
  readonly pixels: number[];
  readonly labels: number[];
  readonly classNames: string[];
  readonly sha256: string;
  readonly mean: number[];
  readonly std: number[];
}
const EXPECTED = JSON.parse(readFileSync(join(DATA_FIXTURES, 'npz.json'), 'utf8')) as Record<string, Expected>;

function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp, file: string): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(isQrobustError(e), `expected a QrobustError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.ok(e.message.includes(file), `names ${file}: ${e.message}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('every .npz NumPy wrote loads value by value as NumPy computed it, for each layout and dtype', async () => {
  for (const [key, want] of Object.entries(EXPECTED)) {
    const [file, split] = key.split('#') as [string, 'train' | 'test' | undefined];
    const path = join(DIR, file);
    const ds = await loadDataset(`npz:${path}`, split ?? 'test');
    assert.equal(ds.name, `npz:${path}`, key);
    assert.deepEqual(ds.shape, want.shape, key);
    assert.deepEqual([...ds.pixels], want.pixels, key);
    assert.deepEqual([...ds.labels], want.labels, key);
    assert.deepEqual(ds.classNames, want.classNames, key);
    assert.equal(ds.numClasses, want.classNames.length, key);
    assert.equal(ds.count, want.labels.length, key);
    assert.equal(ds.files.length, 1);
    const f = ds.files[0]!;
    assert.equal(f.sha256, want.sha256, key);
    assert.equal(f.sha256, sha256(readFileSync(path)));
    assert.equal(f.source, 'given');
    assert.equal(f.verifiedBy, 'none');
    assert.equal(ds.canonical, false);
    assert.equal(ds.variant, split ? `x_${split},y_${split}` : 'x,y');
    // Normalization figures for models trained on it, against NumPy's mean and std of x / 255.
    const stats = channelStatistics(ds);
    stats.mean.forEach((m, c) => assert.ok(Math.abs(m - want.mean[c]!) < 1e-12, `${key} mean[${c}]`));
    stats.std.forEach((v, c) => assert.ok(Math.abs(v - want.std[c]!) < 1e-12, `${key} std[${c}]`));
  }
});

test('np.savez members are stored and np.savez_compressed ones deflated; the file record says so', async () => {
  assert.deepEqual(npzMembers(readFileSync(join(DIR, 'u8-nhwc.npz')), 'u8').map((m) => [m.key, m.compressed]), [
    ['x', false],
    ['y', false],
    ['classes', false],
  ]);
  assert.ok(npzMembers(readFileSync(join(DIR, 'f32-nchw.npz')), 'f32').every((m) => m.compressed));
  assert.equal((await loadDataset(`npz:${join(DIR, 'f32-nchw.npz')}`, 'test')).files[0]!.compressed, true);
  assert.equal((await loadDataset(`npz:${join(DIR, 'u8-nhwc.npz')}`, 'test')).files[0]!.compressed, false);
});

test('the .npy reader: dtypes, shapes and strings as NumPy wrote them', () => {
  const arrays = readNpzArrays(readFileSync(join(DIR, 'u8-nhwc.npz')), 'u8', ['x', 'y', 'classes']);
  const x = arrays.get('x')!;
  assert.equal(x.dtype.descr, '|u1');
  assert.deepEqual(x.shape, [6, 4, 5, 3]);
  const y = arrays.get('y')!;
  assert.equal(y.dtype.descr, '<i8');
  assert.deepEqual(Array.from({ length: 6 }, (_, i) => numberReader(y)(i)), EXPECTED['u8-nhwc.npz']!.labels);
  assert.equal(arrays.get('classes')!.dtype.descr, '<U5');
  assert.deepEqual(stringElements(arrays.get('classes')!), ['red', 'green', 'blue']);
  const be = readNpzArrays(readFileSync(join(DIR, 'gray-nhw.npz')), 'g', ['y']).get('y')!;
  assert.equal(be.dtype.descr, '>i4');
  assert.deepEqual([0, 1, 2, 3].map(numberReader(be)), EXPECTED['gray-nhw.npz']!.labels);
  // Truncated data and a bad magic are named errors.
  const raw = Buffer.from(x.data.buffer, x.data.byteOffset - 128, x.data.length + 128);
  assert.throws(() => parseNpy(raw.subarray(0, raw.length - 1), 'cut.npy'), /cut\.npy: truncated: shape \(6, 4, 5, 3\) of \|u1 needs 360 bytes of data but 359 follow/);
  assert.throws(() => parseNpy(Buffer.from('not numpy at all'), 'junk.npy'), /junk\.npy: not a \.npy array/);
});

test('the layout rule: last axis 1 or 3 → NHWC, else axis 1 → NCHW; both or neither is an error', () => {
  assert.equal(pixelLayout([2, 28, 28], 'f'), 'NHW');
  assert.equal(pixelLayout([2, 28, 28, 1], 'f'), 'NHWC');
  assert.equal(pixelLayout([2, 32, 32, 3], 'f'), 'NHWC');
  assert.equal(pixelLayout([2, 3, 32, 32], 'f'), 'NCHW');
  assert.equal(pixelLayout([2, 1, 28, 28], 'f'), 'NCHW');
  assert.throws(() => pixelLayout([2, 3, 4, 3], 'f'), /ambiguous/);
  assert.throws(() => pixelLayout([2, 1, 4, 1], 'f'), /ambiguous/);
  assert.throws(() => pixelLayout([2, 5, 4, 2], 'f'), /no channel axis/);
  assert.throws(() => pixelLayout([2, 4], 'f'), /must be \[N,H,W\]/);
});

test('Keras-style split arrays: train and test share one class list (from both label arrays)', async () => {
  const name = `npz:${join(DIR, 'splits.npz')}`;
  const train = await loadDataset(name, 'train');
  const testSplit = await loadDataset(name, 'test');
  assert.equal(train.numClasses, 4);
  assert.equal(testSplit.numClasses, 4, 'the test labels only reach 2, the train labels 3');
  assert.equal(train.name, testSplit.name);
  // x/y without split names: the same examples whichever split is asked for.
  const a = await loadDataset(`npz:${join(DIR, 'gray-nhw.npz')}`, 'train');
  const b = await loadDataset(`npz:${join(DIR, 'gray-nhw.npz')}`, 'test');
  assert.deepEqual(a.pixels, b.pixels);
});

test('--n and --seed take the same subsets as for the built-in datasets', async () => {
  const name = `npz:${join(DIR, 'u8-nhwc.npz')}`;
  const all = await loadDataset(name, 'test');
  const size = 4 * 5 * 3;
  const first = await loadDataset(name, 'test', { n: 2 });
  assert.deepEqual(first.selection, { method: 'first', n: 2 });
  assert.deepEqual([...first.labels], [...all.labels.subarray(0, 2)]);
  const picked = await loadDataset(name, 'test', { n: 3, seed: 7 });
  const idx = [...subsetIndices(6, 3, 7)];
  assert.deepEqual(picked.selection, { method: 'random', n: 3, seed: 7 });
  assert.deepEqual([...picked.sourceIndices!], idx);
  assert.deepEqual([...picked.labels], idx.map((i) => all.labels[i]!));
  idx.forEach((k, i) => assert.deepEqual(picked.pixels.subarray(i * size, (i + 1) * size), all.pixels.subarray(k * size, (k + 1) * size)));
});

test('bad .npz files: one line each, naming the file', async () => {
  const cases: [string, RegExp][] = [
    ['no-y.npz', /has no 'y' array \(arrays: x\)/],
    ['no-x.npz', /has no 'x' array \(arrays: y\)/],
    ['label-range.npz', /y: label 3 at index 1 is out of range 0\.\.2 \(3 classes\)/],
    ['label-negative.npz', /y: label -1 at index 1 is out of range/],
    ['n-mismatch.npz', /y: holds 2 labels but the images number 3/],
    ['fortran.npz', /x\.npy: Fortran-order arrays are not read/],
    ['float-range.npz', /x: value 1\.5 at flat index 0 is outside \[0, 1\]/],
    ['float-offlevel.npz', /x: value 0\.30000001192092896 at flat index 0 is not an 8-bit level k\/255/],
    ['ambiguous.npz', /x: shape \[3, 3, 4, 3\] is ambiguous/],
    ['no-channels.npz', /x: shape \[3, 5, 4, 2\]: no channel axis/],
    ['int16-x.npz', /x: dtype <i2: images must be uint8 \(0\.\.255\) or float32\/float64 in \[0,1\]/],
    ['complex-y.npz', /y\.npy: unsupported dtype '<c8'/],
    ['float-y.npz', /y: dtype <f4: labels must be integers/],
  ];
  for (const [file, pattern] of cases) await rejectsWith(loadDataset(`npz:${join(DIR, file)}`, 'test'), 'dataset_corrupt', pattern, join(DIR, file));
  await rejectsWith(loadDataset(`npz:${join(DIR, 'gone.npz')}`, 'test'), 'dataset_missing', /no such file/, join(DIR, 'gone.npz'));
  const t = tempDir('npz-bad');
  try {
    // Not a zip; a damaged stored member (its CRC-32 no longer matches).
    const junk = join(t.dir, 'junk.npz');
    writeFileSync(junk, 'hello');
    await rejectsWith(loadDataset(`npz:${junk}`, 'test'), 'dataset_corrupt', /not a readable \.npz \(zip\) file/, junk);
    const bytes = readFileSync(join(DIR, 'u8-nhwc.npz'));
    const at = bytes.indexOf(Buffer.from("'descr'")) + 400;
    bytes[at] = bytes[at]! ^ 0x5a;
    const damaged = join(t.dir, 'damaged.npz');
    writeFileSync(damaged, bytes);
    await rejectsWith(loadDataset(`npz:${damaged}`, 'test'), 'dataset_corrupt', /member x\.npy is damaged \(CRC-32/, damaged);
    // Split arrays for one split only.
    await rejectsWith(loadDataset(`npz:${join(DIR, 'splits.npz')}`, 'val' as 'test'), 'invalid_argument', /unknown split/, '');
  } finally {
    t.cleanup();
  }
});
