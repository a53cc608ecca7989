import { test } from 'node:test';
import envPaths from 'env-paths';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { datasetStatus, defaultCacheDir, findSiblingMirror, searchLocations } from '../../src/data/index.js';
import { packageRoot } from '../../src/data/locate.js';
import { MIRROR, NEEDS_MIRROR, tempDir } from './fixtures.js';

test('search order: --data-dir, QROBUST_DATA_DIR, the user cache, the sibling mirror', () => {
  const locs = searchLocations({ dataDir: 'a', env: { QROBUST_DATA_DIR: '/b', XDG_CACHE_HOME: '/c' }, mirrorDir: '/m' });
  assert.deepEqual(locs, [
    { kind: 'data-dir', dir: resolve('a') },
    { kind: 'env', dir: '/b' },
    { kind: 'cache', dir: '/c/qrobust' },
    { kind: 'mirror', dir: '/m' },
  ]);
  assert.deepEqual(
    searchLocations({ env: {}, cacheDir: '/x', mirrorDir: false }).map((l) => l.kind),
    ['cache'],
  );
  assert.equal(defaultCacheDir({}), join(homedir(), '.cache', 'qrobust'));
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' }), '/xdg/qrobust');
  // The same folder env-paths gives for this platform and environment.
  assert.equal(defaultCacheDir(process.env), envPaths('qrobust', { suffix: '' }).cache);
  // The same folder twice is searched once.
  assert.equal(searchLocations({ dataDir: '/x', cacheDir: '/x', env: {}, mirrorDir: false }).length, 1);
});

test('the sibling mirror is a shared/datasets folder beside the checkout (or beside a folder above it)', { skip: NEEDS_MIRROR }, () => {
  const root = packageRoot();
  assert.ok(root);
  assert.equal(findSiblingMirror(), MIRROR);
  assert.equal(basename(MIRROR!), 'datasets');
  assert.equal(basename(dirname(MIRROR!)), 'shared');
  assert.ok(root!.startsWith(dirname(dirname(MIRROR!))), 'the mirror sits beside an ancestor of the package root');
  const kinds = searchLocations({ env: {} }).map((l) => l.kind);
  assert.equal(kinds[kinds.length - 1], 'mirror');
});

test('datasetStatus reports presence, place and verification per dataset and split', { skip: NEEDS_MIRROR }, async () => {
  const t = tempDir('status');
  try {
    const status = await datasetStatus({ cacheDir: t.dir, env: {} });
    assert.equal(status.cacheDir, t.dir);
    assert.deepEqual(status.datasets.map((d) => d.name), ['mnist', 'fashion-mnist', 'cifar10']);
    const byName = new Map(status.datasets.map((d) => [d.name, d]));
    const mnist = byName.get('mnist')!;
    for (const s of mnist.splits) {
      assert.equal(s.selected, 'canonical');
      for (const f of s.variants[0]!.files) {
        assert.equal(f.present, true);
        assert.equal(f.verified, true);
        assert.equal(f.source, 'mirror');
        assert.ok(f.path!.startsWith(MIRROR!));
      }
    }
    const fashion = byName.get('fashion-mnist')!;
    assert.deepEqual(fashion.splits.map((s) => s.selected), [null, null]);
    const cifar = byName.get('cifar10')!;
    const [train, testSplit] = cifar.splits;
    assert.equal(train!.selected, 'canonical');
    assert.equal(train!.variants[0]!.files.length, 5);
    assert.ok(train!.variants[0]!.files.every((f) => f.verified === true && f.sha256 !== null));
    assert.equal(testSplit!.selected, 'test_batch_first1000');
    assert.deepEqual(
      testSplit!.variants.map((v) => [v.variant, v.canonical, v.ready]),
      [
        ['canonical', true, false],
        ['test_batch_first1000', false, true],
      ],
    );
    assert.equal(testSplit!.variants[0]!.files[0]!.url, 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz');
    assert.equal(testSplit!.archive, null);
    // Plain data.
    assert.deepEqual(JSON.parse(JSON.stringify(status)), status);
    // Without verification: presence only.
    const quick = await datasetStatus({ cacheDir: t.dir, env: {}, datasets: ['mnist'], verify: false });
    assert.ok(quick.datasets[0]!.splits.every((s) => s.variants[0]!.files.every((f) => f.present && f.verified === null)));
  } finally {
    t.cleanup();
  }
});
