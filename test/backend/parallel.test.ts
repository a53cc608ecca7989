/**
 * Data-parallel execution: the split over the main thread and a worker must give the single-thread results
 * (input gradients, training steps, batch-norm moving averages), leak no tensors, and report worker failures.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import type { ArchName } from '../../src/models/arch-names.js';
import { buildModel } from '../../src/models/zoo.js';
import { Normalize } from '../../src/models/normalize-layer.js';
import { AUTO_MIN_SHARD_MACS, DataParallel, WorkerError, WorkerPool, defaultWorkerCount, shardBounds } from '../../src/backend/parallel/index.js';
import { forwardMacsPerSample, packWeights, weightLayout } from '../../src/backend/parallel/replica.js';

const MNIST = { inputShape: [28, 28, 1] as [number, number, number], numClasses: 10, mean: [0.1307], std: [0.3081] };

function randomBatch(n: number, size: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * size);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  return { x, y: Int32Array.from({ length: n }, () => rng.int(10)) };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** The reference: per-sample loss and its input gradient by plain `tf.grad` on the whole batch. */
function referenceInputGradient(
  model: tfl.LayersModel,
  x: Float32Array,
  y: Int32Array,
  shape: readonly number[],
  loss: 'ce' | 'margin',
): { grad: Float32Array; loss: Float32Array; logits: Float32Array } {
  return tf.tidy(() => {
    const xt = tf.tensor(x, [y.length, ...shape]);
    const labels = tf.tensor1d(y, 'int32');
    const perSample = (logits: tf.Tensor2D): tf.Tensor1D => {
      const onehot = tf.oneHot(labels, logits.shape[1]);
      if (loss === 'ce') return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D;
      const zy = tf.sum(tf.mul(logits, onehot), 1);
      const other = tf.max(tf.sub(logits, tf.mul(onehot, 1e9)), 1);
      return tf.sub(other, zy) as tf.Tensor1D;
    };
    const grad = tf.grad((input: tf.Tensor) => tf.sum(perSample(model.apply(input) as tf.Tensor2D)))(xt);
    const logits = model.apply(xt) as tf.Tensor2D;
    return {
      grad: grad.dataSync() as Float32Array,
      loss: perSample(logits).dataSync() as Float32Array,
      logits: logits.dataSync() as Float32Array,
    };
  });
}

function weightsOf(model: tfl.LayersModel): Float32Array[] {
  return model.weights.map((w) => w.read().dataSync() as Float32Array);
}

let cnn: tfl.LayersModel;
let dp2: DataParallel;

before(async () => {
  await initBackend('wasm');
  cnn = buildModel('cnn-small', MNIST, 7);
  dp2 = await DataParallel.create(cnn, { workers: 2 });
});

after(async () => {
  await dp2?.close();
  cnn?.dispose();
});

test('shards are contiguous, cover the batch and differ in size by at most one', () => {
  assert.deepEqual(shardBounds(5, 2), [
    [0, 3],
    [3, 5],
  ]);
  assert.deepEqual(shardBounds(1, 2), [
    [0, 1],
    [1, 1],
  ]);
  assert.deepEqual(shardBounds(9, 3), [
    [0, 3],
    [3, 6],
    [6, 9],
  ]);
});

test('automatic thread count: small work stays on the main thread, explicit counts are kept', async (t) => {
  if (process.env['QROBUST_WORKERS']) return t.skip('QROBUST_WORKERS is set');
  assert.equal(forwardMacsPerSample(cnn), 28 * 28 * 9 * 16 + 14 * 14 * 9 * 16 * 32 + 7 * 7 * 32 * 128 + 128 * 10);
  const cores = defaultWorkerCount('wasm');
  // mlp-tiny is ~26k MACs a sample: a 64-batch is nowhere near worth a second thread, so none is started.
  const tiny = buildModel('mlp-tiny', MNIST, 1);
  const auto = await DataParallel.create(tiny, { batchSize: 64 });
  assert.equal(auto.workers, 1);
  assert.equal(auto.pool, undefined);
  await auto.close();
  tiny.dispose();
  // An explicit count splits whatever the size; the automatic one only batches with enough work per shard.
  assert.equal(dp2.threadsFor(3), 2);
  assert.equal(dp2.threadsFor(1), 1);
  const autoCnn = await DataParallel.create(cnn, { minShardMacs: AUTO_MIN_SHARD_MACS, batchSize: 128 });
  try {
    assert.equal(autoCnn.workers, cores);
    assert.equal(autoCnn.threadsFor(128), Math.min(cores, 2));
    assert.equal(autoCnn.threadsFor(8), 1);
    // A batch too small to split runs on the main thread only, with the same results.
    const { x, y } = randomBatch(8, 784, 5);
    const out = await autoCnn.inputGradient(x, y);
    assert.equal(autoCnn.lastTiming?.workerMs.length, 0);
    const ref = referenceInputGradient(cnn, x, y, MNIST.inputShape, 'ce');
    assert.ok(maxAbsDiff(out.grad.dataSync(), ref.grad) <= 1e-5 * maxAbs(ref.grad));
    out.grad.dispose();
  } finally {
    await autoCnn.close();
  }
});

test('two-thread input gradient equals single-thread tf.grad (cnn-small, ce and margin, odd batch)', async () => {
  assert.equal(dp2.workers, 2);
  const n = 37;
  const { x, y } = randomBatch(n, 784, 1);
  for (const loss of ['ce', 'margin'] as const) {
    const ref = referenceInputGradient(cnn, x, y, MNIST.inputShape, loss);
    const out = await dp2.inputGradient(x, y, loss);
    try {
      assert.deepEqual(out.grad.shape, [n, 28, 28, 1]);
      assert.equal(out.numClasses, 10);
      const scale = maxAbs(ref.grad);
      assert.ok(scale > 0, 'the reference gradient is not all zero');
      const diff = maxAbsDiff(out.grad.dataSync(), ref.grad);
      assert.ok(diff <= 1e-5 * scale, `${loss}: grad differs by ${diff} (scale ${scale})`);
      assert.ok(maxAbsDiff(out.loss, ref.loss) <= 1e-4, `${loss}: per-sample loss differs`);
      assert.ok(maxAbsDiff(out.logits, ref.logits) <= 1e-4, `${loss}: logits differ`);
    } finally {
      out.grad.dispose();
    }
  }
  // The same batch given as a tensor, and every sample's gradient is its own (the worker half included).
  const xt = tf.tensor4d(x, [n, 28, 28, 1]);
  const whole = await dp2.inputGradient(xt, tf.tensor1d(y, 'int32'));
  assert.equal(dp2.lastTiming?.workerMs.length, 1);
  const last = await dp2.inputGradient(x.slice((n - 1) * 784), y.slice(n - 1));
  try {
    const g = whole.grad.dataSync();
    assert.ok(maxAbsDiff(g.subarray((n - 1) * 784), last.grad.dataSync()) <= 1e-5 * maxAbs(g));
  } finally {
    tf.dispose([xt, whole.grad, last.grad]);
  }
});

/** Two copies of an architecture with identical weights. */
function twins(arch: ArchName, spec: typeof MNIST, seed: number): [tfl.LayersModel, tfl.LayersModel] {
  const a = buildModel(arch, spec, seed);
  const b = buildModel(arch, spec, seed);
  assert.equal(maxAbsDiff(packWeights(a), packWeights(b)), 0);
  return [a, b];
}

test('a two-thread training step updates the weights like a one-thread step (cnn-small, Adam)', async () => {
  const [a, b] = twins('cnn-small', MNIST, 3);
  // A third copy trained the way the pre-threading loop did it: optimizer.minimize on the batch mean.
  const c = buildModel('cnn-small', MNIST, 3);
  const one = await DataParallel.create(b, { workers: 1 });
  const two = await DataParallel.create(a, { workers: 2 });
  const optA = tf.train.adam(1e-3);
  const optB = tf.train.adam(1e-3);
  const optC = tf.train.adam(1e-3);
  try {
    for (let step = 0; step < 3; step++) {
      const { x, y } = randomBatch(33, 784, 10 + step);
      const rTwo = await two.trainStep(x, y, optA);
      const rOne = await one.trainStep(x, y, optB);
      const cLoss = tf.tidy(() => {
        const xt = tf.tensor4d(x, [33, 28, 28, 1]);
        const labels = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
        const vars = c.trainableWeights.map((w) => w.read() as tf.Variable);
        return optC.minimize(() => tf.losses.softmaxCrossEntropy(labels, c.apply(xt, { training: true }) as tf.Tensor2D), true, vars)!.dataSync()[0]!;
      });
      assert.ok(Math.abs(rTwo.loss - rOne.loss) <= 1e-5 * Math.max(1, rOne.loss), `loss ${rTwo.loss} vs ${rOne.loss}`);
      assert.ok(Math.abs(rOne.loss - cLoss) <= 1e-5 * Math.max(1, cLoss), `loss ${rOne.loss} vs minimize ${cLoss}`);
      assert.equal(rTwo.correct, rOne.correct);
    }
    const [wa, wb, wc] = [weightsOf(a), weightsOf(b), weightsOf(c)];
    for (let i = 0; i < wa.length; i++) {
      assert.ok(maxAbsDiff(wa[i]!, wb[i]!) <= 1e-6, `weight ${i}: two threads vs one differ by ${maxAbsDiff(wa[i]!, wb[i]!)}`);
      assert.ok(maxAbsDiff(wb[i]!, wc[i]!) <= 1e-6, `weight ${i}: one thread vs minimize differ by ${maxAbsDiff(wb[i]!, wc[i]!)}`);
    }
    // The worker picks up the updated weights: its half of an input gradient matches the main model's.
    const { x, y } = randomBatch(8, 784, 99);
    const ref = referenceInputGradient(a, x, y, MNIST.inputShape, 'ce');
    const out = await two.inputGradient(x, y);
    assert.ok(maxAbsDiff(out.grad.dataSync(), ref.grad) <= 1e-5 * maxAbs(ref.grad));
    out.grad.dispose();
  } finally {
    for (const o of [optA, optB, optC]) o.dispose();
    await Promise.all([one.close(), two.close()]);
    for (const m of [a, b, c]) m.dispose();
  }
});

/** A small convolutional net with two batch-norm layers (none of the zoo models has one), seeded. */
function batchNormNet(seed: number): tfl.LayersModel {
  let k = seed;
  const model = tfl.sequential();
  model.add(new Normalize({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], inputShape: [12, 12, 3] }));
  for (const filters of [8, 16]) {
    model.add(tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.heNormal({ seed: k++ }) }));
    model.add(tfl.layers.batchNormalization({ momentum: 0.9 }));
    model.add(tfl.layers.reLU());
    model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  }
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 10, kernelInitializer: tfl.initializers.glorotUniform({ seed: k++ }) }));
  return model;
}

test('batch norm: two threads keep full-batch moving averages (first batch-norm layer)', async () => {
  const a = batchNormNet(5);
  const b = batchNormNet(5);
  assert.equal(maxAbsDiff(packWeights(a), packWeights(b)), 0);
  const one = await DataParallel.create(b, { workers: 1 });
  const two = await DataParallel.create(a, { workers: 2 });
  try {
    const { x, y } = randomBatch(13, 12 * 12 * 3, 21);
    const initial = weightsOf(a);
    const gTwo = await two.weightGradients(x, y);
    const gOne = await one.weightGradients(x, y);
    tf.dispose([...gTwo.grads, ...gOne.grads]);
    const layout = weightLayout(a);
    assert.equal(layout.batchNorm.length, 2);
    const first = layout.batchNorm[0]!;
    const [wa, wb] = [weightsOf(a), weightsOf(b)];
    for (const idx of [first.mean, first.variance]) {
      assert.ok(maxAbsDiff(initial[idx]!, wa[idx]!) > 1e-3, `moving statistic ${idx} did not move`);
      const diff = maxAbsDiff(wa[idx]!, wb[idx]!);
      assert.ok(diff <= 1e-5 * Math.max(1, maxAbs(wb[idx]!)), `moving statistic ${idx} differs by ${diff}`);
    }
    // The replica received the new moving averages: inference-mode gradients agree with the main model's.
    const ref = referenceInputGradient(a, x, y, [12, 12, 3], 'ce');
    const out = await two.inputGradient(x, y);
    assert.equal(two.lastTiming?.workerMs.length, 1);
    assert.ok(maxAbsDiff(out.grad.dataSync(), ref.grad) <= 1e-5 * maxAbs(ref.grad));
    out.grad.dispose();
  } finally {
    await Promise.all([one.close(), two.close()]);
    a.dispose();
    b.dispose();
  }
});

test('repeated calls leak no tensors on the main thread', async () => {
  const opt = tf.train.adam(1e-3);
  const { x, y } = randomBatch(16, 784, 4);
  const xt = tf.tensor4d(x, [16, 28, 28, 1]);
  try {
    // Warm up: Adam creates its moment variables on the first step.
    await dp2.trainStep(xt, y, opt);
    (await dp2.inputGradient(xt, y)).grad.dispose();
    const start = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) {
      (await dp2.inputGradient(x, y, 'margin')).grad.dispose();
      (await dp2.inputGradient(xt, y)).grad.dispose();
      await dp2.trainStep(x, y, opt);
      await dp2.trainStep(xt, y, opt);
      tf.dispose((await dp2.weightGradients(x, y)).grads);
    }
    assert.equal(tf.memory().numTensors, start);
    // A tensor may be disposed as soon as the call is made; the call works on a snapshot.
    const early = tf.tensor4d(x, [16, 28, 28, 1]);
    const pending = dp2.inputGradient(early, y);
    early.dispose();
    (await pending).grad.dispose();
    assert.equal(tf.memory().numTensors, start);
    // A failing call leaks nothing either.
    await assert.rejects(dp2.inputGradient(x, y.subarray(0, 3)), /got 3 labels for 16 inputs/);
    await assert.rejects(dp2.trainStep(xt, y.subarray(0, 3), opt), /got 3 labels for 16 inputs/);
    assert.equal(tf.memory().numTensors, start);
  } finally {
    xt.dispose();
    opt.dispose();
  }
});

test('bad arguments are rejected with a clear message', async () => {
  const { x, y } = randomBatch(4, 784, 2);
  await assert.rejects(dp2.inputGradient(x, y, 'nope' as 'ce'), /unknown loss 'nope'/);
  await assert.rejects(dp2.inputGradient(x.subarray(1), y), /input has 3135 values, not a whole number of samples of \[28, 28, 1\]/);
  await assert.rejects(DataParallel.create(cnn, { workers: 0 }), /positive integer/);
});

test('an error inside a worker rejects the call with its message', async () => {
  const model = buildModel('mlp-tiny', MNIST, 1);
  const topology = model.toJSON(null, false) as { config: { layers: { class_name: string }[] } };
  topology.config.layers[1]!.class_name = 'NoSuchLayer';
  const init = { op: 'init' as const, backend: 'wasm' as const, fastKernels: true, modules: [], topology, layout: weightLayout(model), weights: packWeights(model) };
  await assert.rejects(WorkerPool.start(1, init), (e: unknown) => {
    assert.ok(e instanceof WorkerError);
    assert.match(e.message, /^qrobust worker 0: .*NoSuchLayer/);
    return true;
  });
  // A request the replica cannot serve: the worker survives and answers the next one.
  const pool = await WorkerPool.start(1, { ...init, topology: model.toJSON(null, false) });
  try {
    const bad = { op: 'inputGradient' as const, x: new Float32Array(10), shape: [1, 28, 28, 1], labels: new Int32Array(1), loss: 'ce' as const };
    await assert.rejects(pool.call(0, bad), /qrobust worker 0: input has 10 values, shape \[1, 28, 28, 1\] needs 784/);
    const ok = await pool.call(0, { ...bad, x: new Float32Array(784) });
    assert.equal(ok.grad.length, 784);
  } finally {
    await pool.close();
    model.dispose();
  }
});

test('a worker that dies rejects its pending call, and later calls, with a clear error', async () => {
  const model = buildModel('cnn-small', MNIST, 2);
  const dp = await DataParallel.create(model, { workers: 2 });
  try {
    const { x, y } = randomBatch(64, 784, 3);
    const pending = dp.inputGradient(x, y);
    // Let the request reach the worker, then kill it mid-computation.
    await new Promise((r) => setImmediate(r));
    await dp.pool!.killWorker(0);
    await assert.rejects(pending, /qrobust worker 0 exited unexpectedly/);
    await assert.rejects(dp.trainStep(x, y, tf.train.sgd(0.1)), /qrobust worker 0 exited unexpectedly/);
  } finally {
    await dp.close();
    model.dispose();
  }
  await assert.rejects(dp.inputGradient(new Float32Array(784), [0]), /closed/);
});
