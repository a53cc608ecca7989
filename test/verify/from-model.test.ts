import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { QrobustError } from '../../src/core/errors.js';
import { loadDataset } from '../../src/data/index.js';
import { classifierLogits } from '../../src/models/classifier.js';
import { argmaxRows } from '../../src/models/prediction.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { trainModel } from '../../src/models/train.js';
import type { ArchName } from '../../src/models/arch-names.js';
import { buildModel } from '../../src/models/zoo.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { isIntegerExecutable, quantizeModel } from '../../src/quant/ptq.js';
import { saveQuantizedModel } from '../../src/quant/quantized-dir.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import { irFromModelDir } from '../../src/verify/from-model.js';
import { evaluateIR } from '../../src/verify/ir.js';
import { MNIST_SPEC, mnistMeta } from '../fixtures/mnist.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-verify-ir-'));
test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

const train = await loadDataset('mnist', 'train', { n: 512, seed: 31, allowDownload: false });
const calibration = await loadDataset('mnist', 'train', { n: 128, seed: 32, allowDownload: false });
const testSet = await loadDataset('mnist', 'test', { n: 200, seed: 33, allowDownload: false });

const made = new Map<ArchName, Promise<{ fp: string; q: string }>>();

/** A zoo model trained for one epoch on 512 MNIST images, saved, plus its 4-bit-weight quantized directory (made once). */
function modelDirs(arch: ArchName): Promise<{ fp: string; q: string }> {
  if (!made.has(arch)) made.set(arch, makeModelDirs(arch));
  return made.get(arch)!;
}

async function makeModelDirs(arch: ArchName): Promise<{ fp: string; q: string }> {
  const fp = join(root, arch);
  const model = buildModel(arch, MNIST_SPEC, 5);
  await trainModel(model, train, { epochs: 1, seed: 6, batchSize: 64, learningRate: 3e-3 });
  await saveModel(fp, model, mnistMeta(arch));
  model.dispose();
  const loaded = await loadModel(fp);
  const spec = makeQuantSpec({ weights: { bits: 4, granularity: 'per-channel' }, activations: { bits: 8 }, inputs: { bits: 8 } });
  const qm = quantizeModel(loaded, spec, calibration);
  loaded.model.dispose();
  const q = join(root, `${arch}-w4`);
  await saveQuantizedModel(q, qm, { parentDir: fp, integerExecutable: isIntegerExecutable(qm) });
  return { fp, q };
}

/** Compares the IR with the directory's classifier (TF.js layers, or fake-quant) on the 200 test images. */
async function compare(dir: string): Promise<{ maxDiff: number; argmaxAgree: number; quantizeSteps: number; differing: number }> {
  const ir = await irFromModelDir(dir);
  const { classifier } = await loadClassifier(dir, { gradient: 'exact' });
  const logits = classifierLogits(classifier, testSet);
  const predicted = argmaxRows(logits, 10);
  (classifier as { dispose?: () => void }).dispose?.();
  const size = 28 * 28;
  let maxDiff = 0;
  let argmaxAgree = 0;
  let differing = 0;
  for (let k = 0; k < testSet.count; k++) {
    const x = Float64Array.from(testSet.pixels.subarray(k * size, (k + 1) * size), (p) => p / 255);
    const y = evaluateIR(ir, x);
    let best = 0;
    let worst = 0;
    for (let j = 0; j < 10; j++) {
      worst = Math.max(worst, Math.abs(y[j]! - logits[k * 10 + j]!));
      if (y[j]! > y[best]!) best = j;
    }
    if (worst > 1e-4) differing++;
    maxDiff = Math.max(maxDiff, worst);
    if (best === predicted[k]) argmaxAgree++;
  }
  return { maxDiff, argmaxAgree, quantizeSteps: ir.steps.filter((s) => s.kind === 'quantize').length, differing };
}

for (const arch of ['mlp-tiny', 'cnn-small'] as const) {
  test(`${arch}: the IR of the float and the 4-bit directory reproduce the models on 200 MNIST test images`, async (t) => {
    const { fp, q } = await modelDirs(arch);
    const f = await compare(fp);
    assert.equal(f.quantizeSteps, 0);
    assert.equal(f.argmaxAgree, 200, `${arch} float: argmax agrees on ${f.argmaxAgree} of 200`);
    assert.ok(f.maxDiff < 1e-4, `${arch} float: max logit difference ${f.maxDiff}`);
    const r = await compare(q);
    // Input quantizer + one per conv/dense layer.
    assert.equal(r.quantizeSteps, arch === 'mlp-tiny' ? 4 : 5);
    assert.equal(r.argmaxAgree, 200, `${arch} w4: argmax agrees on ${r.argmaxAgree} of 200`);
    // float32 (model) and float64 (IR) may round a value lying on a quantizer threshold to neighbouring codes.
    assert.ok(r.differing <= 2, `${arch} w4: ${r.differing} images differ by more than 1e-4 (max ${r.maxDiff})`);
    t.diagnostic(`${arch}: max |logit difference| float ${f.maxDiff.toExponential(2)}, w4 ${r.maxDiff.toExponential(2)} (${r.differing} images beyond 1e-4)`);
  });
}

test('the IR of a conv model uses CSR matrices in NHWC order and folds normalization into the first convolution', async () => {
  const { fp } = await modelDirs('cnn-small');
  const ir = await irFromModelDir(fp);
  assert.deepEqual(ir.inputShape, [28, 28, 1]);
  assert.deepEqual(
    ir.steps.map((s) => s.kind),
    ['affine', 'relu', 'maxpool', 'affine', 'relu', 'maxpool', 'affine', 'relu', 'affine'],
  );
  const conv = ir.steps[0]!;
  assert.ok(conv.kind === 'affine' && conv.weights.format === 'csr' && conv.outSize === 28 * 28 * 16);
  // A 'same' 3x3 convolution: 9 taps per output inside the image, fewer at the border.
  if (conv.kind === 'affine' && conv.weights.format === 'csr') {
    const inner = (14 * 28 + 14) * 16;
    assert.equal(conv.weights.rowPtr[inner + 1]! - conv.weights.rowPtr[inner]!, 9);
    assert.equal(conv.weights.rowPtr[1]! - conv.weights.rowPtr[0]!, 4);
  }
});

test('a directory that is not a model is rejected', async () => {
  await assert.rejects(irFromModelDir(join(root, 'missing')), QrobustError);
});
