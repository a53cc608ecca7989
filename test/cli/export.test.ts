/**
 * `qrobust export`: the file it writes runs in onnxruntime-node with qrobust's own outputs (TF.js's logits for the
 * float model, the integer path's codes for onnx-int8), the default format follows the directory, and bad input
 * is one line with exit code 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { loadDataset } from '../../src/data/index.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { Normalize } from '../../src/models/normalize-layer.js';
import { buildModel } from '../../src/models/zoo.js';
import { IntegerClassifier } from '../../src/quant/integer/integer-classifier.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { isIntegerExecutable, quantizeModel } from '../../src/quant/ptq.js';
import { saveQuantizedModel } from '../../src/quant/quantized-dir.js';
import { makeQuantSpec, type QuantSpecInit } from '../../src/quant/spec.js';
import { runCliCaptured } from '../fixtures/cli.js';
import { maxRelativeDiff, ortOutput, tfjsLogits } from '../fixtures/logits.js';
import { MNIST_SPEC, mnistMeta } from '../fixtures/mnist.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-export-'));
const floatDir = join(root, 'cnn-small');
const int8Dir = join(root, 'w8-a8-in8');
const weightsOnlyDir = join(root, 'w4');
const N = 16;
const SHAPE = [N, 28, 28, 1];
const images = await loadDataset('mnist', 'test', { n: N, seed: 41, allowDownload: false });
const pixels = Float32Array.from(images.pixels, (v) => v / 255);
{
  const model = buildModel('cnn-small', MNIST_SPEC, 9);
  await saveModel(floatDir, model, mnistMeta('cnn-small'));
  model.dispose();
  const calib = await loadDataset('mnist', 'train', { n: 100, seed: 21, allowDownload: false });
  const quantize = async (out: string, init: QuantSpecInit): Promise<void> => {
    const loaded = await loadModel(floatDir);
    const qm = quantizeModel(loaded, makeQuantSpec(init), calib, { source: { dataset: 'mnist', split: 'train', n: 100, seed: 21 } });
    loaded.model.dispose();
    await saveQuantizedModel(out, qm, { parentDir: floatDir, integerExecutable: isIntegerExecutable(qm) });
  };
  await quantize(int8Dir, { weights: { bits: 8, granularity: 'per-channel' }, activations: { bits: 8 }, inputs: { bits: 8 } });
  await quantize(weightsOnlyDir, { weights: { bits: 4 } });
}

test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

interface ExportLine {
  readonly onnx: string;
  readonly bytes: number;
  readonly format: string;
  readonly weights: string;
}

async function exportDir(dir: string, file: string, ...extra: string[]): Promise<{ line: ExportLine; err: string; onnx: Uint8Array }> {
  const tensors = tf.memory().numTensors;
  const r = await runCliCaptured(['export', dir, '--out', file, ...extra]);
  assert.equal(r.code, 0, r.err);
  assert.equal(tf.memory().numTensors, tensors, 'export leaked tensors');
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  const line = JSON.parse(r.out) as ExportLine;
  const onnx = new Uint8Array(await readFile(file));
  assert.equal(line.bytes, onnx.length);
  return { line, err: r.err, onnx };
}

/** The largest logit difference between ONNX Runtime on the file and TF.js on the float model of `floatDir`. */
async function floatDifference(onnx: Uint8Array): Promise<number> {
  const { model } = await loadModel(floatDir);
  const ours = tfjsLogits(model, pixels, SHAPE);
  model.dispose();
  return maxRelativeDiff(await ortOutput(onnx, pixels, SHAPE), ours);
}

test('a float directory exports as the float model by default, and ONNX Runtime gives its logits', async () => {
  const { line, err, onnx } = await exportDir(floatDir, join(root, 'float.onnx'));
  assert.equal(line.format, 'onnx');
  assert.equal(line.weights, 'float');
  assert.match(err, /float model; input 'pixels' float32 NHWC \[batch, H, W, C\] in \[0, 1\], outputs 'logits'/);
  assert.ok((await floatDifference(onnx)) <= 1e-5);
});

test('a quantized directory with an integer form exports as onnx-int8 by default, with the integer path\'s codes', async () => {
  const { line, onnx } = await exportDir(int8Dir, join(root, 'int8.onnx'));
  assert.equal(line.format, 'onnx-int8');
  assert.equal(line.weights, 'int8');
  const { classifier } = await loadClassifier(int8Dir, { integer: true, rounding: 'onnxruntime' });
  assert.ok(classifier instanceof IntegerClassifier);
  const ours = classifier.codes(pixels, N);
  const theirs = await ortOutput(onnx, pixels, SHAPE, 'codes');
  assert.deepEqual(Array.from(theirs), Array.from(ours));
});

test('--format onnx on a quantized directory writes its float (latent) weights and says so', async () => {
  const { line, err, onnx } = await exportDir(int8Dir, join(root, 'latent.onnx'), '--format', 'onnx');
  assert.equal(line.format, 'onnx');
  assert.equal(line.weights, 'float-latent');
  assert.match(err, /float model from the float \(latent\) weights of quantized .*w8-a8-in8 \(w8-pc-a8-in8\), without its quantizers/);
  // After post-training quantization the latent weights are the parent's.
  assert.ok((await floatDifference(onnx)) <= 1e-5);
});

test('a quantized directory without an integer form exports its float weights by default and refuses onnx-int8', async () => {
  const { line } = await exportDir(weightsOnlyDir, join(root, 'w4.onnx'));
  assert.equal(line.weights, 'float-latent');
  const r = await runCliCaptured(['export', weightsOnlyDir, '--out', join(root, 'never.onnx'), '--format', 'onnx-int8']);
  assert.equal(r.code, 2);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, /w4: quantized model w4 has no integer form, so no onnx-int8 export; --format onnx writes its float \(latent\) weights$/m);
});

test('bad input is one line with exit code 2', async () => {
  const unsupportedDir = join(root, 'tanh');
  const model = tfl.sequential({
    layers: [
      new Normalize({ mean: [0.5], std: [0.5], inputShape: [28, 28, 1], name: 'normalize' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 10, activation: 'tanh', name: 'squash' }),
    ],
  });
  await saveModel(unsupportedDir, model, mnistMeta('custom'));
  model.dispose();
  const out = join(root, 'never.onnx');
  const cases: [string[], RegExp][] = [
    [['export', root, '--out', out], /is not a qrobust model directory: qrobust\.json not found/],
    [['export', join(root, 'missing'), '--out', out], /missing is not a qrobust model directory/],
    [['export', floatDir, '--out', out, '--format', 'onnx-int8'], /cnn-small is a full-precision model; --format onnx-int8 needs a quantized model/],
    [['export', floatDir, '--out', out, '--format', 'tflite'], /--format: expected one of onnx, onnx-int8, got 'tflite'/],
    [['export', floatDir], /export: --out is required/],
    [['export', unsupportedDir, '--out', out], /tanh: layer 'squash' \(Dense\): activation 'tanh' is not supported/],
  ];
  for (const [argv, message] of cases) {
    const r = await runCliCaptured(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, message);
  }
  await assert.rejects(readFile(out), { code: 'ENOENT' });
});

test('--help states both formats and the default', async () => {
  const r = await runCliCaptured(['export', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /--format onnx\|onnx-int8/);
  assert.match(r.out, /Default: onnx-int8 for a quantized directory with an integer form, onnx otherwise/);
});
