import { test } from 'node:test';
import { runCliCaptured } from '../fixtures/cli.js';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { loadDataset } from '../../src/data/index.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { isIntegerExecutable, quantizeModel } from '../../src/quant/ptq.js';
import { saveQuantizedModel } from '../../src/quant/quantized-dir.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import { parseEpsilons } from '../../src/cli/epsilon.js';
import { tf } from '../../src/backend/tf.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { predict, readExamples, runAttack } from '../../src/attacks/index.js';
import type { AttackDirReport } from '../../src/workflows/attack-model.js';
import { mnistMeta } from '../quant/fixtures.js';
import { tinyMnistModel } from './fixtures.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-attack-'));
const floatDir = join(root, 'mlp-tiny');
const quantDir = join(root, 'w8');
{
  const model = await tinyMnistModel();
  await saveModel(floatDir, model, mnistMeta('mlp-tiny'));
  model.dispose();
  const loaded = await loadModel(floatDir);
  const calib = await loadDataset('mnist', 'train', { n: 200, seed: 21, allowDownload: false });
  const qm = quantizeModel(loaded, makeQuantSpec({ weights: { bits: 8 }, activations: { bits: 8 }, inputs: { bits: 8 } }), calib, { source: { dataset: 'mnist', split: 'train', n: 200, seed: 21 } });
  loaded.model.dispose();
  await saveQuantizedModel(quantDir, qm, { parentDir: floatDir, integerExecutable: isIntegerExecutable(qm) });
}

test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

const cli = runCliCaptured;

test('attack on a float model prints a table and writes the JSON report', async () => {
  const file = join(root, 'pgd.json');
  const r = await cli(['attack', floatDir, '--attack', 'pgd', '--eps', '0,0.1', '--steps', '5', '--n', '32', '--seed', '3', '--json', file]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^eps\s+clean\s+robust/);
  assert.equal(r.out.trim().split('\n').length, 3);
  const report = JSON.parse(await readFile(file, 'utf8')) as AttackDirReport;
  assert.equal(report.attack, 'pgd');
  assert.equal(report.path, 'float32');
  assert.deepEqual(report.results.map((row) => row.eps), [0, 0.1]);
  const [zero, big] = report.results;
  assert.equal(zero!.robustAccuracy, zero!.cleanAccuracy);
  assert.ok(big!.robustAccuracy < big!.cleanAccuracy);
  assert.equal(report.config.n, 32);
  assert.equal(report.config.seed, 3);
  assert.equal(report.config.steps, 5);
  assert.equal(report.config.dataset.name, 'mnist');
  assert.ok(report.config.versions['qrobust']);
});

test('deepfool runs from the CLI with its own defaults (L2, no loss)', async () => {
  const file = join(root, 'deepfool.json');
  const r = await cli(['attack', floatDir, '--attack', 'deepfool', '--eps', '0.5,2', '--steps', '5', '--n', '16', '--json', file]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(await readFile(file, 'utf8')) as AttackDirReport;
  assert.equal(report.config.norm, 'l2');
  assert.equal(report.config.loss, null);
  assert.ok(report.results[1]!.robustAccuracy <= report.results[0]!.robustAccuracy);
  const bad = await cli(['attack', floatDir, '--attack', 'deepfool', '--loss', 'margin', '--n', '4']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /deepfool takes no loss option \(--loss\)/);
});

test('every tunable attack option is a flag, recorded in the report: --decay, --random-start, --no-early-stop, --p-init, --initial-const', async () => {
  const help = await cli(['attack', '--help']);
  for (const flag of ['--decay', '--random-start', '--no-early-stop', '--p-init', '--initial-const', '--learning-rate', '--delta', '--rel-step-size']) assert.ok(help.out.includes(flag), `--help lists ${flag}`);
  const file = join(root, 'mim.json');
  const r = await cli(['attack', floatDir, '--attack', 'mim', '--eps', '0.1', '--steps', '3', '--decay', '0.5', '--random-start', '--no-early-stop', '--n', '8', '--json', file]);
  // MIM takes no random start: refused, naming the flag.
  assert.equal(r.code, 2);
  assert.match(r.err, /mim takes no randomStart option \(--random-start\)/);
  const ok = await cli(['attack', floatDir, '--attack', 'mim', '--eps', '0.1', '--steps', '3', '--decay', '0.5', '--no-early-stop', '--n', '8', '--json', file]);
  assert.equal(ok.code, 0, ok.err);
  const report = JSON.parse(await readFile(file, 'utf8')) as AttackDirReport;
  assert.equal(report.config.options['decay'], 0.5);
  assert.equal(report.config.options['earlyStop'], false);
  assert.equal(report.config.stepSize, null);
  assert.equal(report.config.relStepSize, 0.1, 'the relative step MIM ran with');
  const sq = await cli(['attack', floatDir, '--attack', 'square', '--eps', '0.1', '--max-queries', '20', '--p-init', '0.3', '--n', '4', '--json', file]);
  assert.equal(sq.code, 0, sq.err);
  assert.equal((JSON.parse(await readFile(file, 'utf8')) as AttackDirReport).config.options['pInit'], 0.3);
});

test('fab-t runs from the CLI with --target-classes and --overshoot, recorded in the report; deepfool rejects --target-classes', async () => {
  const file = join(root, 'fab-t.json');
  const r = await cli(['attack', floatDir, '--attack', 'fab-t', '--eps', '0.05,0.2', '--steps', '5', '--target-classes', '2', '--overshoot', '0.1', '--n', '12', '--json', file]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(await readFile(file, 'utf8')) as AttackDirReport;
  assert.equal(report.config.norm, 'linf');
  assert.equal(report.config.options['targetClasses'], 2);
  assert.equal(report.config.options['overshoot'], 0.1);
  assert.ok(report.results[1]!.robustAccuracy <= report.results[0]!.robustAccuracy);
  const bad = await cli(['attack', floatDir, '--attack', 'deepfool', '--target-classes', '3', '--n', '4']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /deepfool takes no targetClasses option \(--target-classes\)/);
});

test('attack on a quantized model with --integer-check reports both robust accuracies and disagreements', async () => {
  const file = join(root, 'fgsm-q.json');
  const examplesFile = join(root, 'fgsm-q-examples.json');
  const r = await cli(['attack', quantDir, '--attack', 'fgsm', '--eps', '0.05,0.2', '--n', '32', '--grad', 'ste', '--integer-check', '--json', file, '--save-examples', examplesFile]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /int-rob\s+disagree/);
  const report = JSON.parse(await readFile(file, 'utf8')) as AttackDirReport;
  assert.equal(report.path, 'fake-quant');
  assert.equal(report.config.gradient, 'ste');
  // The integer figures re-derived here: the integer path run on the clean images and on the saved examples.
  const examples = await readExamples(examplesFile);
  const data = await loadDataset('mnist', 'test', { n: 32, seed: 0, allowDownload: false });
  assert.deepEqual(examples.labels, [...data.labels]);
  const { classifier: integer } = await loadClassifier(quantDir, { integer: true });
  const classify = (pixels: Float32Array): Int32Array => {
    const x = tf.tensor4d(pixels, [data.count, ...data.shape]);
    const pred = predict(integer, x);
    x.dispose();
    return pred;
  };
  const clean = classify(Float32Array.from(data.pixels, (p) => p / 255));
  const correct = (i: number): boolean => clean[i] === data.labels[i];
  report.results.forEach((row, e) => {
    assert.ok(row.integer, 'integer check missing');
    const saved = examples.results[e]!;
    const adversarial = classify(saved.pixels);
    const robust = adversarial.filter((p, i) => correct(i) && p === data.labels[i]).length;
    assert.equal(row.integer.cleanAccuracy, clean.filter((_, i) => correct(i)).length / 32);
    assert.equal(row.integer.robustAccuracy, robust / 32);
    assert.equal(row.integer.disagreements, adversarial.filter((p, i) => p !== saved.predictions[i]).length);
  });
  assert.ok(report.results[1]!.integer!.robustAccuracy < report.results[0]!.integer!.robustAccuracy, 'a larger ε breaks more of the integer path');
  integer.dispose();
});

test('fake-quant model: exact gradients are zero through the quantizers (FGSM cannot move), STE gradients attack; no leak', async () => {
  const data = await loadDataset('mnist', 'test', { n: 32, seed: 30, allowDownload: false });
  const x = tf.tensor4d(Float32Array.from(data.pixels, (p) => p / 255), [data.count, ...data.shape]);
  const labels = Int32Array.from(data.labels);
  const robust: Record<string, number> = {};
  for (const gradient of ['exact', 'ste'] as const) {
    const { classifier } = await loadClassifier(quantDir, { gradient });
    const before = tf.memory().numTensors;
    const r = runAttack('fgsm', classifier, x, labels, { epsilons: [0.15] });
    robust[gradient] = r.results[0]!.robustAccuracy;
    if (gradient === 'exact') assert.ok(r.results[0]!.linf.every((v) => v === 0), 'exact gradients should be zero (gradient masking)');
    else assert.ok(r.results[0]!.robustAccuracy < r.cleanAccuracy);
    r.dispose();
    assert.equal(tf.memory().numTensors, before, `${gradient}: tensors leaked`);
    classifier.dispose();
  }
  assert.ok(robust['ste']! < robust['exact']!);
  x.dispose();
});

test('usage errors: unknown attack, bad ε list, options the attack lacks, integer check on a float model', async () => {
  let r = await cli(['attack', floatDir, '--attack', 'deepfoo']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--attack: expected one of fgsm, bim, pgd, mim, apgd-ce, apgd-dlr, apgd-t, cw-l2, deepfool, fab, fab-t, square, spsa, hopskipjump, auto, got 'deepfoo'/);
  r = await cli(['attack', floatDir, '--attack', 'pgd', '--eps', '0.1,-2']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--eps: expected a comma-separated list of numbers >= 0, got '0.1,-2'/);
  r = await cli(['attack', floatDir, '--attack', 'fgsm', '--steps', '3', '--n', '4']);
  assert.equal(r.code, 2);
  assert.match(r.err, /fgsm takes no steps option/);
  r = await cli(['attack', floatDir, '--attack', 'pgd', '--integer-check', '--n', '4']);
  assert.equal(r.code, 2);
  assert.match(r.err, /full-precision model; --integer-check needs a quantized model/);
  r = await cli(['attack', floatDir, '--attack', 'pgd', '--steps', '0', '--n', '4']);
  assert.equal(r.code, 2);
  assert.match(r.err, /pgd: expected steps >= 1/);
  assert.deepEqual(parseEpsilons('0.05, 0.1'), [0.05, 0.1]);
});
