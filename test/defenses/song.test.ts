import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { loadDataset } from '../../src/data/index.js';
import { classifierAccuracy, LayersClassifier, type Classifier } from '../../src/models/classifier.js';
import { isWeightStep, type LayerGraph } from '../../src/models/graph.js';
import { saveModel } from '../../src/models/io.js';
import { trainModel } from '../../src/models/train.js';
import { buildModel } from '../../src/models/zoo.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { fakeQuantClassifier, quantizeModel } from '../../src/quant/ptq.js';
import { qatFineTune, type QatStepObjective } from '../../src/quant/qat.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import {
  applyNonlinearMap,
  boundaryQatObjective,
  findBoundaryPoints,
  MappedClassifier,
  nonlinearMapDerivative,
  resolveBoundaryRetraining,
  resolveNonlinearMap,
} from '../../src/defenses/index.js';
import { MNIST_SPEC, mnistMeta } from '../fixtures/mnist.js';
import { runCliCaptured } from '../fixtures/cli.js';
import { imagesOf } from './fixtures.js';

await initBackend('wasm');
const train = await loadDataset('mnist', 'train', { n: 1024, seed: 1, allowDownload: false });
const heldOut = await loadDataset('mnist', 'test', { n: 256, seed: 2, allowDownload: false });
const root = await mkdtemp(join(tmpdir(), 'qrobust-song-'));
test.after(() => rm(root, { recursive: true, force: true }));

// A small float parent (mlp-tiny, 2 epochs on 1,024 real MNIST images), saved, and its 4-bit weight-only PTQ.
const parentDir = join(root, 'parent');
const model = buildModel('mlp-tiny', MNIST_SPEC, 3);
await trainModel(model, train, { epochs: 2, seed: 4, batchSize: 64, learningRate: 3e-3, workers: 1 });
await saveModel(parentDir, model, mnistMeta('mlp-tiny'));
const W4 = makeQuantSpec({ weights: { bits: 4 } });
const meta = mnistMeta('mlp-tiny');

function labelsOf(n: number): Int32Array {
  return Int32Array.from(heldOut.labels.subarray(0, n));
}

function sliceOf(n: number): typeof heldOut {
  return { ...heldOut, count: n };
}

test('boundary points: just inside the boundary the top two logits are nearly tied; past the push the label has changed', () => {
  const c = fakeQuantClassifier(quantizeModel({ model, meta }, W4));
  const x = imagesOf(sliceOf(32));
  const labels = labelsOf(32);
  const before = tf.memory().numTensors;
  for (const attack of ['deepfool', 'fab'] as const) {
    const search = resolveBoundaryRetraining({ attack, steps: 20, bisectionSteps: 12 });
    const p = findBoundaryPoints(c, x, labels, search, new Rng(0));
    const found = p.found.reduce((a, f) => a + f, 0);
    const logitsOf = (t: tf.Tensor4D): number[][] => {
      const z = c.logits(t);
      const out = z.arraySync() as number[][];
      z.dispose();
      return out;
    };
    const zc = logitsOf(x);
    const zb = logitsOf(p.boundary);
    const zp = logitsOf(p.pushed);
    const correct = zc.filter((z, i) => z.indexOf(Math.max(...z)) === labels[i]).length;
    assert.ok(found >= correct - 2, `${attack}: found ${found} of ${correct} correctly classified`);
    for (let i = 0; i < labels.length; i++) {
      if (!p.found[i]) continue;
      const top2 = (z: number[]): [number, number] => {
        const s = [...z].sort((a, b) => b - a);
        return [s[0]!, s[1]!];
      };
      const [b1, b2] = top2(zb[i]!);
      const [c1, c2] = top2(zc[i]!);
      assert.equal(zb[i]!.indexOf(b1), labels[i], `${attack}: boundary point ${i} lies on the true label's side`);
      assert.ok(b1 - b2 < 0.05 * Math.max(1, c1 - c2), `${attack}: top-2 gap at the boundary ${b1 - b2} (clean gap ${c1 - c2})`);
      assert.notEqual(zp[i]!.indexOf(Math.max(...zp[i]!)), labels[i], `${attack}: pushed point ${i} changed label`);
    }
    tf.dispose([p.boundary, p.pushed]);
  }
  assert.equal(tf.memory().numTensors, before, 'the boundary search leaks tensors');
  x.dispose();
  c.dispose();
});

function flatGraph(g: LayerGraph): Float32Array {
  const parts = g.steps.filter(isWeightStep).flatMap((s) => [s.kernel, s.bias]);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test('boundary retraining changes the weights, keeps accuracy, and is reproducible from its seed', async () => {
  const small = { ...train, count: 256 };
  const run = async (seed: number, regenerate = 'epoch'): Promise<{ weights: Float32Array; accuracy: number }> => {
    const recipe = resolveBoundaryRetraining({ steps: 5, bisectionSteps: 6, regenerate });
    const r = await qatFineTune({ model, meta }, W4, small, { epochs: 1, seed, batchSize: 64, objective: boundaryQatObjective(recipe, seed) });
    const c = fakeQuantClassifier(r.model);
    const accuracy = classifierAccuracy(c, heldOut).accuracy;
    c.dispose();
    return { weights: flatGraph(r.model.graph), accuracy };
  };
  const before = tf.memory().numTensors;
  const a = await run(5);
  assert.equal(tf.memory().numTensors, before, 'boundary retraining leaks tensors');
  const b = await run(5);
  const perBatch = await run(5, 'batch');
  const ptq = fakeQuantClassifier(quantizeModel({ model, meta }, W4));
  const parentAccuracy = classifierAccuracy(ptq, heldOut).accuracy;
  ptq.dispose();
  const parentWeights = flatGraph(quantizeModel({ model, meta }, W4).graph);
  assert.deepEqual(a.weights, b.weights, 'same seed, same weights');
  assert.ok(a.weights.some((w, i) => Math.abs(w - parentWeights[i]!) > 1e-4), 'the weights changed');
  assert.ok(a.accuracy >= parentAccuracy - 0.05, `accuracy ${a.accuracy} against the parent's ${parentAccuracy}`);
  assert.ok(perBatch.accuracy >= parentAccuracy - 0.05, `per-batch accuracy ${perBatch.accuracy} against the parent's ${parentAccuracy}`);
  assert.ok(perBatch.weights.some((w, i) => w !== a.weights[i]), 'per-batch and per-epoch regeneration differ');
});

test('the start-of-epoch network QAT hands an objective is the live network at each epoch start, and frozen within the epoch', async () => {
  const small = { ...train, count: 128 };
  const gaps: { step: number; gap: number }[] = [];
  const probe = imagesOf(sliceOf(8));
  const objective: QatStepObjective = {
    epochSnapshot: true,
    prepare(network, batch, step, epochStart) {
      gaps.push({ step, gap: tf.tidy(() => tf.max(tf.abs(tf.sub(network.logits(probe), epochStart!.logits(probe)))).dataSync()[0]!) });
      return {
        loss: (forward) => {
          const logits = forward(batch.x);
          return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(batch.labels, 10), logits) as tf.Scalar, logits };
        },
        dispose: () => {},
      };
    },
  };
  const before = tf.memory().numTensors;
  await qatFineTune({ model, meta }, W4, small, { epochs: 2, seed: 1, batchSize: 32, learningRate: 1e-2, objective });
  assert.equal(tf.memory().numTensors, before, 'the snapshots leak tensors');
  probe.dispose();
  assert.deepEqual(gaps.map((g) => g.step), [0, 1, 2, 3, 4, 5, 6, 7]);
  for (const g of gaps) {
    if (g.step % 4 === 0) assert.ok(g.gap < 1e-5, `step ${g.step}: the snapshot differs from the live network by ${g.gap}`);
    else assert.ok(g.gap > 1e-4, `step ${g.step}: the snapshot follows the live network (${g.gap})`);
  }
});

test("the map's exact gradient is its derivative (closed form and finite differences); BPDA passes the gradient straight through", () => {
  const map = resolveNonlinearMap({ levels: 8, steepness: 6 }, [0, 1]);
  // 2/7 is a level (a plateau's middle), 0.5 a step's middle.
  const values = [0.03, 0.11, 0.2, 2 / 7, 0.31, 0.47, 0.5, 0.64, 0.77, 0.9];
  const x = tf.tensor4d(values, [1, 10, 1, 1]);
  const exact = tf.grad((t: tf.Tensor) => tf.sum(applyNonlinearMap(t as tf.Tensor4D, map, 'exact')))(x);
  const bpda = tf.grad((t: tf.Tensor) => tf.sum(applyNonlinearMap(t as tf.Tensor4D, map, 'bpda')))(x);
  const g = exact.dataSync();
  const h = 1e-3;
  const up = applyNonlinearMap(tf.add(x, h) as tf.Tensor4D, map).dataSync();
  const down = applyNonlinearMap(tf.sub(x, h) as tf.Tensor4D, map).dataSync();
  values.forEach((v, i) => {
    const d = nonlinearMapDerivative(v, map);
    assert.ok(Math.abs(g[i]! - d) <= 1e-3 * Math.max(1, d), `autodiff ${g[i]} vs m'(${v}) = ${d}`);
    const fd = (up[i]! - down[i]!) / (2 * h);
    assert.ok(Math.abs(fd - d) <= 0.02 * Math.max(1, d), `finite difference ${fd} vs m'(${v}) = ${d}`);
  });
  assert.ok(Math.min(...values.map((v) => nonlinearMapDerivative(v, map))) < 0.1, 'the derivative is near zero on the plateaus');
  assert.deepEqual(Array.from(bpda.dataSync()), values.map(() => 1));
  const levels = applyNonlinearMap(tf.tensor4d([0, 1 / 7, 1], [1, 3, 1, 1]), map).dataSync();
  assert.ok(Math.abs(levels[0]!) < 1e-6 && Math.abs(levels[1]! - 1 / 7) < 1e-6 && Math.abs(levels[2]! - 1) < 1e-6, 'every level is a fixed point');
});

test('BPDA: the mapped classifier\'s input gradient is the inner classifier\'s gradient at m(x)', () => {
  const map = resolveNonlinearMap({}, [0, 1]);
  const inner = new LayersClassifier(model);
  // Not disposed: that would dispose the shared model.
  const bpda = new MappedClassifier(inner, map, 'bpda');
  assert.equal(bpda.gradientMode, 'ste');
  const x = imagesOf(sliceOf(4));
  const loss = (c: Classifier) => (t: tf.Tensor) => tf.sum(tf.mul(c.logits(t as tf.Tensor4D), tf.reshape(tf.range(0, 10), [1, 10])));
  const mapped = applyNonlinearMap(x, map);
  const through = tf.grad(loss(bpda))(x).dataSync();
  const atMapped = tf.grad(loss(inner))(mapped).dataSync();
  let worst = 0;
  for (let i = 0; i < through.length; i++) worst = Math.max(worst, Math.abs(through[i]! - atMapped[i]!));
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
  tf.dispose([x, mapped]);
});

test('defend --method nonlinear-map saves the map in the directory: same logits after reload, --grad ste is BPDA, record and refusals', async () => {
  const out = join(root, 'mapped');
  const r = await runCliCaptured(['defend', parentDir, '--method', 'nonlinear-map', '--levels', '6', '--steepness', '10', '--eval-n', '64', '--out', out]);
  assert.equal(r.code, 0, r.err);
  const saved = JSON.parse(await readFile(join(out, 'qrobust.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(saved['inputMap'], { kind: 'smooth-staircase', levels: 6, steepness: 10, range: [0, 1] });
  assert.deepEqual(saved['defense'], { method: 'nonlinear-map', parent: parentDir, seed: 0, map: 'smooth-staircase', levels: 6, steepness: 10, range: [0, 1], epochs: 0 });
  const map = resolveNonlinearMap({ levels: 6, steepness: 10 }, [0, 1]);
  const x = imagesOf(sliceOf(8));
  const direct = new MappedClassifier(new LayersClassifier(model), map).logits(x).dataSync();
  const loaded = await loadClassifier(out);
  assert.equal(loaded.classifier.gradientMode, 'exact');
  const reloaded = loaded.classifier.logits(x).dataSync();
  assert.deepEqual(Array.from(reloaded), Array.from(direct));
  loaded.classifier.dispose();
  const ste = await loadClassifier(out, { gradient: 'ste' });
  assert.equal(ste.classifier.gradientMode, 'ste');
  ste.classifier.dispose();
  x.dispose();
  const attacked = await runCliCaptured(['attack', out, '--attack', 'pgd', '--eps', '0.1', '--steps', '3', '--grad', 'ste', '--n', '8']);
  assert.equal(attacked.code, 0, attacked.err);
  for (const argv of [['quantize', out, '--bits', '4', '--out', join(root, 'q')], ['verify', out, '--eps', '0.01', '--n', '1']]) {
    const refused = await runCliCaptured(argv);
    assert.equal(refused.code, 2, `${argv[0]}: ${refused.err}`);
    assert.equal(refused.err.trim().split('\n').length, 1, refused.err);
    assert.match(refused.err, /has a non-linear input map/);
  }
});

test('defend --method boundary --bits 4 records every option in qrobust.json', async () => {
  const out = join(root, 'boundary');
  const r = await runCliCaptured(['defend', parentDir, '--method', 'boundary', '--bits', '4', '--steps', '3', '--bisection-steps', '4', '--lambda', '0.5', '--overshoot', '0.05', '--n', '128', '--batch-size', '64', '--eval-n', '32', '--seed', '2', '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^w4\s+test accuracy [\d.]+% \(32 images\)/);
  const saved = JSON.parse(await readFile(join(out, 'qrobust.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(
    { ...(saved['defense'] as Record<string, unknown>), seconds: 0 },
    { method: 'boundary', parent: parentDir, seed: 2, boundaryAttack: 'deepfool', norm: 'l2', steps: 3, overshoot: 0.05, bisectionSteps: 4, lambda: 0.5, regenerate: 'epoch', epochs: 1, batchSize: 64, learningRate: 1e-3, trainCount: 128, seconds: 0, training: 'qat w4' },
  );
  // Fine-tuning behind the map: QAT of the quantized directory, and float training of the float parent.
  for (const [dir, label] of [[out, 'w4'], [parentDir, 'float']] as const) {
    const mapped = join(root, `mapped-${label}`);
    const m = await runCliCaptured(['defend', dir, '--method', 'nonlinear-map', '--epochs', '1', '--n', '128', '--batch-size', '64', '--eval-n', '32', '--out', mapped]);
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, new RegExp(`^${label}\\s+test accuracy`));
    const written = JSON.parse(await readFile(join(mapped, 'qrobust.json'), 'utf8')) as Record<string, unknown>;
    assert.equal((written['inputMap'] as { steepness: number }).steepness, 100);
    assert.equal((written['defense'] as { training: string }).training, label === 'w4' ? 'qat w4' : 'float');
    const evaluated = await runCliCaptured(['eval', mapped, '--n', '16']);
    assert.equal(evaluated.code, 0, evaluated.err);
  }
});
