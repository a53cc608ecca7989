import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { DataParallel } from '../../src/backend/parallel/index.js';
import { loadDataset } from '../../src/data/index.js';
import { buildModel } from '../../src/models/zoo.js';
import { resolveAdversarialTraining } from '../../src/defenses/index.js';
import {
  ADVERSARIAL_INPUTS_TASK,
  ADVERSARIAL_SHARD_TASKS_URL,
  TRADES_LOSS_TASK,
  adversarialShardParams,
} from '../../src/defenses/adversarial-shard-tasks.js';
import { MNIST_SPEC } from '../fixtures/mnist.js';
import { imagesOf } from './fixtures.js';

await initBackend('wasm');
const data = await loadDataset('mnist', 'test', { n: 33, seed: 6, allowDownload: false });
const modules = { workerModules: [ADVERSARIAL_SHARD_TASKS_URL] };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

test('on two threads each part of the batch is crafted on its own thread; the main part matches one thread', async () => {
  const model = buildModel('mlp-tiny', MNIST_SPEC, 4);
  const x = imagesOf(data);
  const labels = Int32Array.from(data.labels);
  const params = adversarialShardParams(resolveAdversarialTraining({ method: 'pgd-at', epsilon: 0.1, steps: 3 }), [0, 1], 12);
  const one = await DataParallel.create(model, { workers: 1, ...modules });
  const two = await DataParallel.create(model, { workers: 2, ...modules });
  try {
    const before = tf.memory().numTensors;
    const a = await one.transform(ADVERSARIAL_INPUTS_TASK, x, labels, params);
    const b = await two.transform(ADVERSARIAL_INPUTS_TASK, x, labels, params);
    assert.deepEqual(b.shape, x.shape);
    const size = 28 * 28;
    const va = a.dataSync();
    const vb = b.dataSync();
    // The main thread's part (the first 17 of 33) has the batch seed on both: same random start, same steps.
    assert.ok(maxAbsDiff(va.subarray(0, 17 * size), vb.subarray(0, 17 * size)) < 1e-5);
    // The worker's part has its own random start, and stays in the ball.
    assert.ok(maxAbsDiff(va.subarray(17 * size), vb.subarray(17 * size)) > 0.01);
    assert.ok(maxAbsDiff(vb, x.dataSync()) <= 0.1 + 1e-6);
    tf.dispose([a, b]);
    assert.equal(tf.memory().numTensors, before, 'transform leaks tensors');
  } finally {
    await one.close();
    await two.close();
    x.dispose();
    model.dispose();
  }
});

test('the TRADES shard loss with its companion input gives the same weight gradients on one and two threads', async () => {
  const model = buildModel('mlp-tiny', MNIST_SPEC, 4);
  const x = imagesOf(data);
  const labels = Int32Array.from(data.labels);
  const companion = tf.tidy(() => tf.clipByValue(tf.add(x, tf.randomUniform(x.shape, -0.1, 0.1, 'float32', 3)), 0, 1));
  const params = adversarialShardParams(resolveAdversarialTraining({ method: 'trades', epsilon: 0.1, beta: 3 }), [0, 1], 1);
  const objective = { loss: TRADES_LOSS_TASK, params, companion };
  const one = await DataParallel.create(model, { workers: 1, ...modules });
  const two = await DataParallel.create(model, { workers: 2, ...modules });
  try {
    const before = tf.memory().numTensors;
    const a = await one.weightGradients(x, labels, objective);
    const b = await two.weightGradients(x, labels, objective);
    const plain = await one.weightGradients(x, labels);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-5 * Math.max(1, Math.abs(a.loss)), `loss ${a.loss} vs ${b.loss}`);
    assert.equal(a.correct, b.correct);
    assert.ok(a.loss > plain.loss, 'the KL term adds nothing');
    a.grads.forEach((g, i) => {
      const ga = g.dataSync();
      const gb = b.grads[i]!.dataSync();
      const scale = Math.max(1e-3, ...Array.from(ga, Math.abs));
      assert.ok(maxAbsDiff(ga, gb) < 1e-4 * scale, `gradient ${i} differs between one and two threads`);
    });
    tf.dispose([...a.grads, ...b.grads, ...plain.grads]);
    assert.equal(tf.memory().numTensors, before, 'the shard loss leaks tensors');
  } finally {
    await one.close();
    await two.close();
    tf.dispose([x, companion]);
    model.dispose();
  }
});
