import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCliCaptured } from '../fixtures/cli.js';
import { initBackend } from '../../src/backend/backend.js';
import { buildModel } from '../../src/models/zoo.js';
import { saveModel } from '../../src/models/io.js';
import { mnistMeta } from '../fixtures/mnist.js';
import { readFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { findSiblingMirror } from '../../src/data/index.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCliCaptured(argv);
}

function oneLine(err: string): void {
  assert.equal(err.trim().split('\n').length, 1, `expected a one-line error, got:\n${err}`);
  assert.doesNotMatch(err, /\n\s+at /, 'no stack trace without --verbose');
}

test('unknown dataset: one line naming it, exit 2', async () => {
  const r = await cli('train', '--dataset', 'imagenet', '--arch', 'mlp-tiny', '--out', join(tmpdir(), 'never'));
  assert.equal(r.code, 2);
  oneLine(r.err);
  assert.match(r.err, /unknown dataset 'imagenet'/);
});

test('unknown architecture: one line naming it, exit 2', async () => {
  const r = await cli('train', '--dataset', 'mnist', '--arch', 'resnet', '--out', join(tmpdir(), 'never'));
  assert.equal(r.code, 2);
  oneLine(r.err);
  assert.match(r.err, /unknown architecture 'resnet': expected one of mlp-tiny, mlp-100, mlp, cnn-small, cnn-cifar/);
});

test('a directory that is not a model: one line, exit 2; --verbose adds the stack', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qrobust-notmodel-'));
  try {
    let r = await cli('eval', dir);
    assert.equal(r.code, 2);
    oneLine(r.err);
    assert.match(r.err, /is not a qrobust model directory: qrobust\.json not found/);
    r = await cli('eval', join(dir, 'missing'));
    assert.equal(r.code, 2);
    oneLine(r.err);
    await writeFile(join(dir, 'qrobust.json'), '{"format": "something-else"}');
    r = await cli('eval', dir);
    assert.equal(r.code, 2);
    assert.match(r.err, /expected "format": "qrobust-model"/);
    r = await cli('eval', dir, '--verbose');
    assert.equal(r.code, 2);
    assert.match(r.err, /\n\s+at /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a model whose weights do not match its model.json: one line, exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qrobust-badweights-'));
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'qrobust.json'),
      JSON.stringify({ format: 'qrobust-model', version: 1, dataset: 'mnist', arch: 'mlp-tiny', inputShape: [28, 28, 1], numClasses: 10 }),
    );
    await writeFile(
      join(dir, 'model.json'),
      JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'w', shape: [4, 4], dtype: 'float32' }] }] }),
    );
    await writeFile(join(dir, 'weights.bin'), Buffer.alloc(12));
    const r = await cli('eval', dir);
    assert.equal(r.code, 2);
    oneLine(r.err);
    assert.match(r.err, /weights are 12 bytes, model\.json describes 64/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('usage errors: unknown command, unknown option, missing required option', async () => {
  let r = await cli('frobnicate');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command 'frobnicate'/);
  r = await cli('eval', 'x', '--bogus');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option --bogus/);
  r = await cli('train', '--arch', 'mlp-tiny');
  assert.equal(r.code, 2);
  assert.match(r.err, /--dataset is required/);
  r = await cli('train', '--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /--epochs INT/);
  r = await cli('--version');
  assert.equal(r.code, 0);
  assert.equal(r.out, `${JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version}\n`);
});

test('the installed binary exits with code 2 and one line on bad input', () => {
  const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
  const p = spawnSync(process.execPath, [...process.execArgv, bin, 'eval', join(tmpdir(), 'qrobust-no-such-model')], { encoding: 'utf8' });
  assert.equal(p.status, 2);
  oneLine(p.stderr);
  assert.match(p.stderr, /no such model directory/);
});

test('a shape mismatch between model and dataset: one line, exit 2', async () => {
  await initBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'qrobust-shape-'));
  try {
    const model = buildModel('mlp-tiny', { inputShape: [28, 28, 1], numClasses: 10, mean: [0.5], std: [0.5] }, 1);
    await saveModel(dir, model, mnistMeta('mlp-tiny'));
    model.dispose();
    const r = await cli('eval', dir, '--dataset', 'cifar10', '--n', '10');
    assert.equal(r.code, 2);
    oneLine(r.err);
    assert.match(r.err, /takes inputs of shape \[28,28,1\] but cifar10 images are \[32,32,3\]/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a truncated dataset file given with --data-dir: one line naming the file, exit 2', async () => {
  // Fashion-MNIST's image files are not in the team mirror, so the broken copies below are the only ones found.
  const mirror = findSiblingMirror();
  assert.ok(mirror, 'the shared datasets mirror beside the checkout is needed for this test');
  const dir = await mkdtemp(join(tmpdir(), 'qrobust-data-'));
  const offline = process.env['QROBUST_OFFLINE'];
  process.env['QROBUST_OFFLINE'] = '1';
  try {
    await mkdir(join(dir, 'fashion-mnist'));
    const mnistImages = gunzipSync(await readFile(join(mirror, 'mnist', 't10k-images-idx3-ubyte.gz')));
    for (const f of ['train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz']) {
      await writeFile(join(dir, 'fashion-mnist', f), gzipSync(mnistImages.subarray(0, 5000)));
    }
    const r = await cli('datasets', '--data-dir', dir);
    assert.equal(r.code, 0);
    assert.match(r.out, /train-images-idx3-ubyte\s+BAD/);
    const model = join(dir, 'model');
    const t = await cli('train', '--dataset', 'fashion-mnist', '--arch', 'mlp-tiny', '--epochs', '1', '--data-dir', dir, '--out', model);
    assert.equal(t.code, 2);
    oneLine(t.err);
    assert.match(t.err, /train-images-idx3-ubyte/);
  } finally {
    if (offline === undefined) delete process.env['QROBUST_OFFLINE'];
    else process.env['QROBUST_OFFLINE'] = offline;
    await rm(dir, { recursive: true, force: true });
  }
});
