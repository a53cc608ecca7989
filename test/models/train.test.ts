import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { loadDataset } from '../../src/data/index.js';
import { buildModel } from '../../src/models/zoo.js';
import { trainModel, learningRateAt } from '../../src/models/train.js';
import { evaluateAccuracy, predictLabels } from '../../src/models/evaluate.js';
import { saveModel, loadModel } from '../../src/models/io.js';
import { statisticsFor } from '../../src/models/dataset-statistics.js';
import { MNIST_SPEC, mnistMeta } from '../fixtures/mnist.js';

await initBackend('wasm');
const stats = statisticsFor('mnist');
const spec = MNIST_SPEC;
const metaFor = mnistMeta;

test('a few hundred Adam steps on real MNIST reach a clearly non-trivial test accuracy', async () => {
  const train = await loadDataset('mnist', 'train', { n: 6400, seed: 1, allowDownload: false });
  const testSet = await loadDataset('mnist', 'test', { n: 1000, seed: 2, allowDownload: false });
  const model = buildModel('mlp-tiny', spec, 3);
  const before = evaluateAccuracy(model, testSet).accuracy;
  const tensorsBefore = tf.memory().numTensors;
  const report = await trainModel(model, train, { epochs: 3, seed: 4, batchSize: 64, learningRate: 3e-3 }); // 300 steps
  assert.equal(tf.memory().numTensors, tensorsBefore, 'the training loop leaks tensors');
  const after = evaluateAccuracy(model, testSet).accuracy;
  assert.ok(before < 0.3, `untrained accuracy should be near chance, got ${before}`);
  assert.ok(after > 0.85, `after 300 steps test accuracy should exceed 85%, got ${after}`);
  assert.ok(report.epochs[2]!.loss < report.epochs[0]!.loss, 'training loss should fall');
  model.dispose();
});

test('training is reproducible from its seed', async () => {
  const train = await loadDataset('mnist', 'train', { n: 512, seed: 5, allowDownload: false });
  const run = async (): Promise<Float32Array> => {
    const model = buildModel('mlp-tiny', spec, 7);
    await trainModel(model, train, { epochs: 1, seed: 8, batchSize: 64 });
    const w = model.getWeights().map((t) => t.dataSync() as Float32Array);
    const flat = new Float32Array(w.reduce((n, a) => n + a.length, 0));
    let o = 0;
    for (const a of w) {
      flat.set(a, o);
      o += a.length;
    }
    model.dispose();
    return flat;
  };
  assert.deepEqual(await run(), await run());
});

test('save and load round-trip: same predictions, metadata kept, CNN and BatchNorm layers included', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qrobust-io-'));
  try {
    const data = await loadDataset('mnist', 'test', { n: 64, seed: 3, allowDownload: false });
    for (const arch of ['cnn-small', 'mlp'] as const) {
      const model = buildModel(arch, spec, 11);
      const out = join(dir, arch);
      await saveModel(out, model, metaFor(arch));
      const loaded = await loadModel(out);
      assert.deepEqual(predictLabels(loaded.model, data), predictLabels(model, data));
      const a = tf.tidy(() => model.predict(tf.ones([2, 28, 28, 1])) as tf.Tensor);
      const b = tf.tidy(() => loaded.model.predict(tf.ones([2, 28, 28, 1])) as tf.Tensor);
      assert.deepEqual(a.dataSync(), b.dataSync());
      tf.dispose([a, b]);
      assert.equal(loaded.meta.arch, arch);
      model.dispose();
      loaded.model.dispose();
    }
    const cifar = buildModel('cnn-cifar', { inputShape: [32, 32, 3], numClasses: 10, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }, 1);
    await saveModel(join(dir, 'cifar'), cifar, { ...metaFor('cnn-cifar'), inputShape: [32, 32, 3] });
    const back = await loadModel(join(dir, 'cifar'));
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 1);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(cifar.predict(x) as tf.Tensor, back.model.predict(x) as tf.Tensor))));
    assert.equal(d.dataSync()[0], 0);
    tf.dispose([x, d]);
    cifar.dispose();
    back.model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the Normalize statistics match the real MNIST training images', async () => {
  const train = await loadDataset('mnist', 'train', { allowDownload: false });
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < train.pixels.length; i++) {
    const v = train.pixels[i]! / 255;
    sum += v;
    sq += v * v;
  }
  const mean = sum / train.pixels.length;
  const std = Math.sqrt(sq / train.pixels.length - mean * mean);
  assert.ok(Math.abs(mean - stats.mean[0]!) < 1e-3, `mean ${mean}`);
  assert.ok(Math.abs(std - stats.std[0]!) < 1e-3, `std ${std}`);
});

test('cosine schedule starts at the base rate and ends near zero', () => {
  assert.equal(learningRateAt(0.1, 'cosine', 0, 100), 0.1);
  assert.ok(Math.abs(learningRateAt(0.1, 'cosine', 50, 100) - 0.05) < 1e-12);
  assert.ok(learningRateAt(0.1, 'cosine', 99, 100) < 0.001);
  assert.equal(learningRateAt(0.1, 'constant', 99, 100), 0.1);
});
