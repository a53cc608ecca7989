import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { QrobustError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import type { Classifier } from '../../src/models/classifier.js';
import { attack, chooseTargets, evaluateTransfer, lossGradient, predict, readExamples, runAttack, snapToGrid, writeExamples } from '../../src/attacks/index.js';
import { LinearClassifier, RandomMaskClassifier, constantBatch, tinyMnist } from './fixtures.js';

await initBackend('wasm');
const { classifier, x, labels } = await tinyMnist();

function onLattice(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]! * 255 - Math.round(values[i]! * 255)) > 1e-3) return false;
  return true;
}

test('--pixel-grid 255: every adversarial input is a multiple of 1/255, inside the ε-ball and [0,1], and success is re-checked', () => {
  for (const [norm, eps] of [
    ['linf', 0.1],
    ['l2', 1.5],
  ] as const) {
    const r = runAttack('pgd', classifier, x, labels, { epsilons: [eps], norm, steps: 10, seed: 2, pixelGrid: 255 });
    const e = r.results[0]!;
    assert.ok(onLattice(e.adversarial.dataSync()), `${norm}: values off the lattice`);
    for (let i = 0; i < labels.length; i++) {
      assert.ok((norm === 'linf' ? e.linf[i]! : e.l2[i]!) <= eps + 1e-6, `${norm} sample ${i}: ${norm === 'linf' ? e.linf[i] : e.l2[i]}`);
      // Success is what the classifier says about the rounded input.
      assert.equal(e.success[i] === 1, e.predictions[i] !== labels[i], `${norm} sample ${i}`);
    }
    assert.equal(e.pixelGrid?.levels, 255);
    assert.ok(e.pixelGrid!.lostToRounding >= 0 && e.pixelGrid!.lostToRounding <= labels.length);
    // One more query per sample than the same run without rounding.
    const plain = runAttack('pgd', classifier, x, labels, { epsilons: [eps], norm, steps: 10, seed: 2 });
    assert.deepEqual([...e.queries], [...plain.results[0]!.queries].map((q) => q + 1));
    plain.dispose();
    r.dispose();
  }
});

test('snapToGrid rounds to the nearest lattice point of the L∞ ball, and stays inside a tight L2 ball', () => {
  const clean = tf.tensor4d([10 / 255, 0, 1, 128 / 255], [1, 2, 2, 1]);
  const adv = tf.tensor4d([10 / 255 + 0.03, 0.02, 0.97, 128 / 255 - 0.0299], [1, 2, 2, 1]);
  const linf = snapToGrid(adv, clean, 0.03, 'linf', [0, 1], 255);
  // ±0.03 is 7.65 lattice steps: the ball holds at most 7 steps each way, so 17.65 → 17, 247.35 → 248 and
  // 120.38 → 121 are clamped into it, while 5.1 rounds to 5 as usual.
  assert.deepEqual([...linf.dataSync()].map((v) => Math.round(v * 255)), [17, 5, 248, 121]);
  // The perturbation has L2 norm 0.0591: rounding every pixel to its nearest code would give 0.0613 > 0.06.
  const l2 = snapToGrid(adv, clean, 0.06, 'l2', [0, 1], 255);
  const dist = tf.tidy(() => tf.norm(tf.sub(l2, clean)).dataSync()[0]!);
  assert.ok(dist <= 0.06 + 1e-7, `L2 distance ${dist}`);
  assert.ok(onLattice(l2.dataSync()));
  const off = tf.tensor4d([0.5001, 0, 0, 0], [1, 2, 2, 1]);
  assert.throws(() => snapToGrid(adv, off, 0.03, 'linf', [0, 1], 255), (e: unknown) => e instanceof QrobustError && /not on the lattice k\/255/.test(e.message));
  tf.dispose([clean, adv, linf, l2, off]);
});

test('targets: random ones never equal the label and reproduce from the seed; least-likely is the lowest clean logit', () => {
  const a = chooseTargets(classifier, x, labels, 'random', new Rng(3));
  const b = chooseTargets(classifier, x, labels, 'random', new Rng(3));
  assert.deepEqual(a, b);
  for (let i = 0; i < labels.length; i++) assert.notEqual(a[i], labels[i]);
  assert.ok(new Set(a).size > 3, 'random targets should spread over the classes');
  const least = chooseTargets(classifier, x, labels, 'least-likely', new Rng(0));
  const z = tf.tidy(() => classifier.logits(x).dataSync());
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from({ length: 10 }, (_, j) => z[i * 10 + j]!);
    const others = row.map((v, j) => (j === labels[i] ? Infinity : v));
    assert.equal(least[i], others.indexOf(Math.min(...others)), `sample ${i}`);
  }
  // Least-likely targets are hard, but a targeted PGD at ε = 0.3 reaches most of them.
  const r = attack('pgd', classifier, x, labels, { epsilon: 0.3, targets: least, steps: 40, seed: 1 });
  const pred = predict(classifier, r.adversarial);
  let hit = 0;
  pred.forEach((p, i) => (hit += p === least[i] ? 1 : 0));
  assert.equal(hit, r.success.reduce((s, v) => s + v, 0), 'success means the target was hit');
  assert.ok(hit >= 0.8 * labels.length, `${hit} of ${labels.length}`);
  r.adversarial.dispose();
});

test('EOT averages the loss gradient over K passes of a randomized classifier', () => {
  const shape = [2, 2, 1] as const;
  const weights = [
    [1, -1],
    [0.5, 0.2],
    [-0.3, 0.4],
    [0.1, -0.2],
  ];
  const masked = new RandomMaskClassifier(new LinearClassifier(shape, weights, [0.5, 0]), 0.5, 9);
  const input = constantBatch(1, shape, 0.5);
  const y = tf.tensor1d([0], 'int32');
  // Margin loss z_1 − z_0: one pass sees (w_1 − w_0) on the kept pixels only; the expectation is half of it.
  const expected = weights.map((w) => 0.5 * (w[1]! - w[0]!));
  const one = lossGradient(masked, input, y, null, 'margin', 1);
  const many = lossGradient(masked, input, y, null, 'margin', 400);
  const g1 = one.grad.dataSync();
  const gK = many.grad.dataSync();
  for (let k = 0; k < 4; k++) {
    assert.ok(Math.abs(g1[k]!) < 1e-6 || Math.abs(g1[k]! - 2 * expected[k]!) < 1e-6, `one pass: pixel ${k} kept or dropped`);
    assert.ok(Math.abs(gK[k]! - expected[k]!) < 0.1 * Math.abs(2 * expected[k]!), `EOT pixel ${k}: ${gK[k]} vs ${expected[k]}`);
  }
  tf.dispose([one.grad, one.loss, one.logits, many.grad, many.loss, many.logits, y]);
  // Attacks count every pass as a query.
  const r = attack('fgsm', masked, input, Int32Array.of(0), { epsilon: 0.1, eot: 8 });
  assert.equal(r.queries[0], 9);
  tf.dispose([r.adversarial, input]);
  masked.dispose();
});

test('gradient attacks refuse a classifier without gradients; score- and decision-based attacks run on it', () => {
  const noGradient: Classifier = {
    inputShape: classifier.inputShape,
    numClasses: classifier.numClasses,
    bounds: classifier.bounds,
    gradientMode: 'none',
    description: 'label oracle',
    logits: (input) => classifier.logits(input),
    dispose: () => undefined,
  };
  const four = tf.tidy(() => tf.slice(x, 0, 4) as tf.Tensor4D);
  const y = labels.subarray(0, 4);
  assert.throws(
    () => attack('pgd', noGradient, four, y, { epsilon: 0.1 }),
    (e: unknown) => e instanceof QrobustError && /pgd needs input gradients, but the classifier \(label oracle\) has none/.test(e.message),
  );
  for (const [name, options] of [
    ['square', { maxQueries: 20 }],
    ['spsa', { steps: 2, samples: 8 }],
    ['hopskipjump', { maxQueries: 50 }],
  ] as const) {
    const r = attack(name, noGradient, four, y, { epsilon: 0.1, seed: 1, ...options });
    r.adversarial.dispose();
  }
  four.dispose();
});

test('transfer: examples crafted on one classifier are scored on another against its own clean predictions', () => {
  const r = attack('pgd', classifier, x, labels, { epsilon: 0.1, steps: 10, seed: 3 });
  const self = evaluateTransfer(classifier, r.adversarial, labels, null, predict(classifier, x));
  // Evaluated on the source itself, transfer is the white-box result.
  let robust = 0;
  const pred = predict(classifier, r.adversarial);
  const clean = predict(classifier, x);
  for (let i = 0; i < labels.length; i++) robust += clean[i] === labels[i] && pred[i] === labels[i] ? 1 : 0;
  assert.equal(self.robustAccuracy, robust / labels.length);
  assert.deepEqual(self.predictions, pred);
  r.adversarial.dispose();
});

test('saved examples read back exactly (uint8 on the lattice, float32 otherwise)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qrobust-examples-'));
  try {
    const file = join(dir, 'ex.json');
    const onGrid = Float32Array.from([0, 1, 128 / 255, 3 / 255]);
    const offGrid = Float32Array.from([0.1234567, 1, 0.5, 0.25]);
    const dataset = { name: 'mnist', split: 'test', variant: 'canonical', canonical: true, count: 1, sourceCount: 10000, selection: { method: 'all' }, files: [] } as const;
    await writeExamples(file, {
      attack: 'pgd',
      model: 'm',
      norm: 'linf',
      seed: 0,
      dataset,
      sourceIndices: [7],
      shape: [1, 2, 2, 1],
      labels: [3],
      targets: null,
      results: [
        { eps: 0.1, pixels: onGrid, success: Uint8Array.of(1), predictions: Int32Array.of(5) },
        { eps: 0.2, pixels: offGrid, success: Uint8Array.of(0), predictions: Int32Array.of(3) },
      ],
    });
    const back = await readExamples(file);
    assert.deepEqual(back.results.map((r) => [...r.pixels]), [[...onGrid], [...offGrid]]);
    assert.deepEqual([...back.results[0]!.predictions], [5]);
    assert.deepEqual(back.sourceIndices, [7]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.after(() => {
  x.dispose();
  classifier.dispose();
});
