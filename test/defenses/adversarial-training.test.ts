import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { loadDataset } from '../../src/data/index.js';
import { LayersClassifier } from '../../src/models/classifier.js';
import { trainModel } from '../../src/models/train.js';
import { buildModel } from '../../src/models/zoo.js';
import { graphFromModel, isWeightStep } from '../../src/models/graph.js';
import { qatFineTune } from '../../src/quant/qat.js';
import { fakeQuantClassifier } from '../../src/quant/ptq.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import {
  adversarialQatObjective,
  adversarialTrainingHook,
  adversarialTrainingLoss,
  craftTrainingInputs,
  DivergenceClassifier,
  klDivergence,
  resolveAdversarialTraining,
} from '../../src/defenses/index.js';
import { MNIST_SPEC, mnistMeta } from '../fixtures/mnist.js';
import { flatWeights, imagesOf, modelPgdAccuracy, pgdAccuracy, threesAndSevens } from './fixtures.js';

await initBackend('wasm');
const train = threesAndSevens(await loadDataset('mnist', 'train', { n: 6000, seed: 1, allowDownload: false }));
const heldOut = threesAndSevens(await loadDataset('mnist', 'test', { n: 1000, seed: 2, allowDownload: false }), 200);
const EPS = 0.2;

test('PGD-AT and TRADES raise PGD robust accuracy far above standard training (MNIST 3 vs 7, mlp-tiny, two threads)', async () => {
  const accuracy: Record<string, { clean: number; robust: number }> = {};
  for (const method of ['standard', 'pgd-at', 'trades'] as const) {
    const model = buildModel('mlp-tiny', MNIST_SPEC, 3);
    const before = tf.memory().numTensors;
    const stepHook = method === 'standard' ? undefined : adversarialTrainingHook(resolveAdversarialTraining({ method, epsilon: EPS, steps: 5 }), [0, 1], 5);
    const report = await trainModel(model, train, { epochs: 3, seed: 4, batchSize: 32, learningRate: 2e-3, workers: 2, ...(stepHook ? { stepHook } : {}) });
    assert.equal(tf.memory().numTensors, before, `${method} training leaks tensors`);
    assert.equal(report.workers, 2);
    accuracy[method] = modelPgdAccuracy(model, heldOut, EPS);
    model.dispose();
  }
  const { standard, 'pgd-at': pgdAt, trades } = accuracy as Record<'standard' | 'pgd-at' | 'trades', { clean: number; robust: number }>;
  assert.ok(standard.clean > 0.9 && standard.robust < 0.2, `standard: ${JSON.stringify(standard)}`);
  assert.ok(pgdAt.clean > 0.85 && pgdAt.robust > standard.robust + 0.3, `PGD-AT ${JSON.stringify(pgdAt)} vs standard ${JSON.stringify(standard)}`);
  assert.ok(trades.clean > 0.85 && trades.robust > standard.robust + 0.25, `TRADES ${JSON.stringify(trades)} vs standard ${JSON.stringify(standard)}`);
});

test('adversarial training is reproducible from its seed (same seed: identical weights; other seed: different)', async () => {
  const small = { ...train, count: 256 };
  const run = async (method: 'pgd-at' | 'trades', seed: number): Promise<Float32Array> => {
    const model = buildModel('mlp-tiny', MNIST_SPEC, 7);
    const stepHook = adversarialTrainingHook(resolveAdversarialTraining({ method, epsilon: EPS, steps: 3 }), [0, 1], seed);
    await trainModel(model, small, { epochs: 1, seed: 8, batchSize: 64, workers: 2, stepHook });
    const w = flatWeights(model);
    model.dispose();
    return w;
  };
  for (const method of ['pgd-at', 'trades'] as const) {
    const a = await run(method, 1);
    assert.deepEqual(await run(method, 1), a, `${method}: same seed, different weights`);
    assert.notDeepEqual(await run(method, 2), a, `${method}: the seed of the random starts has no effect`);
  }
});

test('crafted inputs stay in the ε-ball and the bounds; the TRADES divergence is the margin of its two-class score', () => {
  const model = buildModel('mlp-tiny', MNIST_SPEC, 5);
  const c = new LayersClassifier(model);
  const part = { ...heldOut, count: 16 };
  const x = imagesOf(part);
  const labels = Int32Array.from(part.labels.subarray(0, part.count));
  const before = tf.memory().numTensors;
  for (const method of ['pgd-at', 'trades'] as const) {
    const recipe = resolveAdversarialTraining({ method, epsilon: 0.1, steps: 4 });
    const adv = craftTrainingInputs(c, x, labels, recipe, new Rng(3));
    const stats = tf.tidy(() => [tf.max(tf.abs(tf.sub(adv, x))), tf.min(adv), tf.max(adv)]);
    const [dist, lo, hi] = stats.map((t) => t.dataSync()[0]!);
    tf.dispose(stats);
    assert.ok(dist! <= 0.1 + 1e-6 && dist! > 0.05, `${method}: L∞ distance ${dist}`);
    assert.ok(lo! >= 0 && hi! <= 1);
    if (method === 'trades') {
      const div = new DivergenceClassifier(c, x);
      const [score, kl, atClean] = tf.tidy(() => {
        const s = div.logits(adv);
        const margin = tf.reshape(tf.sub(tf.slice(s, [0, 1], [-1, 1]), tf.slice(s, [0, 0], [-1, 1])), [-1]);
        const direct = klDivergence(c.logits(x), c.logits(adv));
        return [margin, direct, tf.max(tf.abs(tf.slice(div.logits(x), [0, 1], [-1, 1])))];
      });
      const s = score!.dataSync();
      const k = kl!.dataSync();
      for (let i = 0; i < s.length; i++) assert.ok(Math.abs(s[i]! - k[i]!) < 1e-5, `margin ${s[i]} vs KL ${k[i]}`);
      assert.ok(atClean!.dataSync()[0]! < 1e-6, 'the divergence at the clean input is not 0');
      assert.ok(Math.min(...k) >= 0 && Math.max(...k) > 0);
      tf.dispose([score!, kl!, atClean!]);
      div.dispose();
      // TRADES' loss at x' = x is the clean cross-entropy; PGD-AT's is the cross-entropy at x'.
      const [same, ce] = tf.tidy(() => {
        const z = c.logits(x);
        const y = tf.tensor1d(labels, 'int32');
        return [adversarialTrainingLoss(recipe, z, z, y), adversarialTrainingLoss({ ...recipe, method: 'pgd-at' }, null, z, y)];
      });
      assert.deepEqual(same!.dataSync(), ce!.dataSync());
      tf.dispose([same!, ce!]);
    }
    adv.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'crafting leaks tensors');
  x.dispose();
  c.dispose();
});

test('adversarial QAT crafts on the fake-quant network, raises its robustness and is reproducible', async () => {
  const parent = buildModel('mlp-tiny', MNIST_SPEC, 3);
  await trainModel(parent, train, { epochs: 2, seed: 4, batchSize: 32, learningRate: 2e-3, workers: 1 });
  const spec = makeQuantSpec({ weights: { bits: 4 } });
  const loaded = { model: parent, meta: mnistMeta('mlp-tiny') };
  const before = tf.memory().numTensors;
  const recipe = resolveAdversarialTraining({ method: 'pgd-at', epsilon: EPS, steps: 5 });
  const options = { epochs: 2, seed: 6, batchSize: 32, learningRate: 2e-3 };
  const plain = await qatFineTune(loaded, spec, train, options);
  const adversarial = await qatFineTune(loaded, spec, train, { ...options, objective: adversarialQatObjective(recipe, 9) });
  const again = await qatFineTune(loaded, spec, train, { ...options, objective: adversarialQatObjective(recipe, 9) });
  assert.equal(tf.memory().numTensors, before, 'adversarial QAT leaks tensors');
  const kernels = (g: typeof adversarial.model.graph): number[] => g.steps.flatMap((s) => (isWeightStep(s) ? [...s.kernel] : []));
  assert.deepEqual(kernels(again.model.graph), kernels(adversarial.model.graph), 'same seed, different QAT weights');
  assert.deepEqual(again.model.plan, adversarial.model.plan);
  assert.notDeepEqual(kernels(adversarial.model.graph), kernels(graphFromModel(parent)));
  const plainAcc = pgdAccuracy(fakeQuantClassifier(plain.model), heldOut, EPS);
  const advAcc = pgdAccuracy(fakeQuantClassifier(adversarial.model), heldOut, EPS);
  assert.ok(advAcc.robust > plainAcc.robust + 0.2, `adversarial QAT ${JSON.stringify(advAcc)} vs QAT ${JSON.stringify(plainAcc)} (PGD through the STE)`);
  parent.dispose();
});

test('adversarial QAT with quantized activations and EMA ranges (TRADES through the STE) trains and leaks nothing', async () => {
  const parent = buildModel('mlp-tiny', MNIST_SPEC, 3);
  const spec = makeQuantSpec({ weights: { bits: 4 }, activations: { bits: 8 }, inputs: { bits: 8 } });
  const before = tf.memory().numTensors;
  const recipe = resolveAdversarialTraining({ method: 'trades', epsilon: 0.1, steps: 2 });
  const r = await qatFineTune({ model: parent, meta: mnistMeta('mlp-tiny') }, spec, { ...train, count: 256 }, {
    epochs: 2,
    seed: 1,
    batchSize: 64,
    activationRanges: 'ema',
    objective: adversarialQatObjective(recipe, 2),
  });
  assert.equal(tf.memory().numTensors, before, 'adversarial QAT with activation quantizers leaks tensors');
  assert.ok(r.record.history.every((e) => Number.isFinite(e.loss)));
  assert.ok(r.record.history[1]!.loss < r.record.history[0]!.loss, `loss did not fall: ${r.record.history.map((e) => e.loss).join(', ')}`);
  assert.equal(r.record.activationRanges, 'ema');
  parent.dispose();
});

test('recipes: defaults and one-line errors', () => {
  const r = resolveAdversarialTraining({ method: 'pgd-at', epsilon: 0.3 });
  assert.deepEqual(r, { method: 'pgd-at', epsilon: 0.3, steps: 10, stepSize: 0.075, beta: 6 });
  assert.throws(() => resolveAdversarialTraining({ method: 'pgd-at', epsilon: 0 }), /--eps must be a positive number, got 0/);
  assert.throws(() => resolveAdversarialTraining({ method: 'trades', epsilon: 0.1, steps: 0 }), /--steps must be a positive integer/);
  assert.throws(() => resolveAdversarialTraining({ method: 'trades', epsilon: 0.1, beta: -1 }), /--beta must be a number >= 0/);
  assert.throws(() => resolveAdversarialTraining({ method: 'fgsm-at' as 'pgd-at', epsilon: 0.1 }), /unknown adversarial training 'fgsm-at'/);
});
