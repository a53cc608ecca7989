/**
 * Dataset names: built-in, `npz:FILE`, a folder (plain or `images:DIR`); `datasetShape`; and the CLI's
 * `--dataset` with the user's own data (one-line errors with exit code 2, and a model evaluated on a folder).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { isQrobustError } from '../../src/core/errors.js';
import { datasetShape, listImageFolder, loadDataset, parseDatasetSource, select } from '../../src/data/index.js';
import { classifierPredictions } from '../../src/models/classifier.js';
import { saveModel } from '../../src/models/io.js';
import { buildModel } from '../../src/models/zoo.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { runCliCaptured } from '../fixtures/cli.js';
import { mnistMeta } from '../fixtures/mnist.js';
import { DATA_FIXTURES, NEEDS_MIRROR, offline } from './fixtures.js';

const NPZ = join(DATA_FIXTURES, 'npz');
const MNIST30 = join(DATA_FIXTURES, 'mnist-30');

test('dataset names: built-in, npz:FILE, images:DIR, a plain folder path; unknown names list the forms', () => {
  assert.equal(parseDatasetSource('mnist').kind, 'builtin');
  assert.deepEqual(parseDatasetSource('npz:a/b.npz'), { kind: 'npz', path: resolve('a/b.npz') });
  assert.deepEqual(parseDatasetSource('images:pets'), { kind: 'folder', dir: resolve('pets') });
  assert.deepEqual(parseDatasetSource(MNIST30), { kind: 'folder', dir: MNIST30 });
  assert.deepEqual(parseDatasetSource('./not-there'), { kind: 'folder', dir: resolve('not-there') });
  const bad = (name: string, code: string, pattern: RegExp): void =>
    assert.throws(() => parseDatasetSource(name), (e: unknown) => isQrobustError(e) && e.code === code && pattern.test(e.message));
  bad('imagenet', 'unknown_dataset', /expected one of mnist, fashion-mnist, cifar10, a folder of class folders \(DIR or images:DIR\), or npz:FILE/);
  bad('data.npz', 'unknown_dataset', /write npz:data\.npz/);
  bad('npz:', 'invalid_argument', /npz:FILE needs a path/);
  bad('images:', 'invalid_argument', /images:DIR needs a path/);
});

test('a loaded dataset\'s name parses back to the same source', async () => {
  for (const name of [`npz:${join(NPZ, 'u8-nhwc.npz')}`, `images:${join(DATA_FIXTURES, 'mixed')}`]) {
    const ds = await loadDataset(name, 'test');
    const again = await loadDataset(ds.name, 'test');
    assert.equal(again.name, ds.name);
    assert.deepEqual(again.files.map((f) => f.sha256), ds.files.map((f) => f.sha256));
  }
});

test('datasetShape: from the registry for built-ins, from the files for folders and .npz', async () => {
  assert.deepEqual(await datasetShape('cifar10'), {
    name: 'cifar10',
    shape: [32, 32, 3],
    numClasses: 10,
    classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
  });
  const u8 = await datasetShape(`npz:${join(NPZ, 'u8-nhwc.npz')}`);
  assert.deepEqual(u8, { name: `npz:${join(NPZ, 'u8-nhwc.npz')}`, shape: [4, 5, 3], numClasses: 3, classNames: ['red', 'green', 'blue'] });
  const f32 = await datasetShape(`npz:${join(NPZ, 'f32-nchw.npz')}`);
  assert.deepEqual([f32.shape, f32.numClasses], [[4, 6, 3], 4]);
  const splits = await datasetShape(`npz:${join(NPZ, 'splits.npz')}`);
  assert.deepEqual([splits.shape, splits.numClasses], [[8, 8, 1], 4]);
  const folder = await datasetShape(MNIST30);
  assert.deepEqual([folder.name, folder.shape, folder.numClasses], [`images:${MNIST30}`, [28, 28, 1], 10]);
  await assert.rejects(datasetShape(`npz:${join(NPZ, 'no-y.npz')}`), (e: unknown) => isQrobustError(e) && e.message.includes('no-y.npz'));
});

function oneLine(err: string): void {
  assert.equal(err.trim().split('\n').length, 1, `expected a one-line error, got:\n${err}`);
}

test('CLI: bad user data under --dataset is one line naming the file, exit 2', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'qrobust-empty-'));
  try {
    const out = join(tmpdir(), 'qrobust-never');
    for (const [dataset, file, pattern] of [
      [empty, empty, /holds no class folders/],
      [`npz:${join(NPZ, 'no-y.npz')}`, join(NPZ, 'no-y.npz'), /has no 'y' array/],
      [`npz:${join(NPZ, 'n-mismatch.npz')}`, join(NPZ, 'n-mismatch.npz'), /holds 2 labels but the images number 3/],
    ] as const) {
      const r = await runCliCaptured(['train', '--dataset', dataset, '--arch', 'mlp-tiny', '--epochs', '1', '--out', out]);
      assert.equal(r.code, 2, r.err);
      oneLine(r.err);
      assert.ok(r.err.includes(file), r.err);
      assert.match(r.err, pattern);
    }
    const help = await runCliCaptured(['train', '--help']);
    assert.match(help.out, /--dataset mnist\|fashion-mnist\|cifar10\|DIR\|npz:FILE/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('CLI: eval --dataset DIR counts what the model gets right on the MNIST images of that folder', { skip: NEEDS_MIRROR }, async () => {
  await initBackend('wasm');
  const dir = mkdtempSync(join(tmpdir(), 'qrobust-eval-folder-'));
  try {
    const model = buildModel('mlp-tiny', { inputShape: [28, 28, 1], numClasses: 10, mean: [0.13], std: [0.31] }, 5);
    await saveModel(dir, model, mnistMeta('mlp-tiny'));
    model.dispose();
    const r = await runCliCaptured(['eval', dir, '--dataset', MNIST30]);
    assert.equal(r.code, 0, r.err);
    const m = /images:(\S+) test \(\.\/\), .*: (\d+)\/30 correct/.exec(r.err);
    assert.ok(m, r.err);
    assert.equal(m[1], MNIST30);
    // The same model on the same images taken from the built-in loader.
    const mnist = await loadDataset('mnist', 'test', offline(dir));
    const indices = (await listImageFolder(MNIST30, 'test')).images.map((i) => Number(basename(i.rel, '.png')));
    const { classifier } = await loadClassifier(dir);
    const ref = select(mnist, indices);
    const pred = classifierPredictions(classifier, ref);
    let correct = 0;
    for (let i = 0; i < ref.count; i++) if (pred[i] === ref.labels[i]) correct++;
    classifier.dispose();
    assert.equal(Number(m[2]), correct);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
