/**
 * Cross-check of the integer path against ONNX Runtime: a quantized model exported to ONNX (QLinearConv form) and
 * run by onnxruntime-node must give exactly the output codes of qrobust's integer path in its 'onnxruntime'
 * rounding mode, on real MNIST test images. Also reports how far TFLite's fixed-point requantization (the
 * default 'double' rounding) is from ONNX Runtime's float requantization.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/backend.js';
import { loadDataset } from '../../src/data/index.js';
import { graphFromModel } from '../../src/models/graph.js';
import { IntegerClassifier } from '../../src/quant/integer/integer-classifier.js';
import { integerProgramToOnnx } from '../../src/quant/integer/onnx-export.js';
import { prepareGraph } from '../../src/quant/plan.js';
import { quantizeGraph } from '../../src/quant/ptq.js';
import { makeQuantSpec, type QuantSpecInit } from '../../src/quant/spec.js';
import { readOnnxModel, writeOnnxModel } from '../../src/onnx/index.js';
import { trainedTinyMlp, untrained } from './fixtures.js';

await initBackend('wasm');
const calib = await loadDataset('mnist', 'train', { n: 300, seed: 21, allowDownload: false });
const images = await loadDataset('mnist', 'test', { n: 300, seed: 22, allowDownload: false });
const pixels = Float32Array.from(images.pixels, (v) => v / 255);

interface Outcome {
  /** Fraction of output codes where ONNX Runtime equals the integer path in 'onnxruntime' mode. */
  readonly sameCodes: number;
  /** The same against TFLite's default double rounding. */
  readonly sameCodesTflite: number;
  readonly samePredictions: number;
}

async function crossCheck(model: tfl.LayersModel, init: QuantSpecInit): Promise<Outcome> {
  const graph = graphFromModel(model);
  const { plan } = quantizeGraph(graph, [0, 1], makeQuantSpec(init), calib);
  const prep = prepareGraph(graph, plan);
  const ours = new IntegerClassifier(prep, [0, 1], 'integer', { rounding: 'onnxruntime' });
  const tflite = new IntegerClassifier(prep, [0, 1], 'integer', { rounding: 'double' });
  const bytes = writeOnnxModel(integerProgramToOnnx(ours.program, 'test'));
  // The file must also read back through qrobust's own ONNX reader.
  assert.equal(readOnnxModel(bytes).graph.outputs[0]!.name, 'codes');
  const session = await ort.InferenceSession.create(bytes);
  const n = images.count;
  const feeds = { pixels: new ort.Tensor('float32', pixels, [n, ...graph.inputShape]) };
  const out = await session.run(feeds);
  const codes = out['codes']!.data as Int8Array;
  const mine = ours.codes(pixels, n);
  const theirs = tflite.codes(pixels, n);
  assert.equal(codes.length, mine.length);
  let same = 0;
  let sameTflite = 0;
  let samePred = 0;
  const k = graph.outputSize;
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] === mine[i]) same++;
    if (codes[i] === theirs[i]) sameTflite++;
  }
  for (let r = 0; r < n; r++) {
    let a = 0;
    let b = 0;
    for (let j = 1; j < k; j++) {
      if (codes[r * k + j]! > codes[r * k + a]!) a = j;
      if (mine[r * k + j]! > mine[r * k + b]!) b = j;
    }
    if (a === b) samePred++;
  }
  await session.release();
  return { sameCodes: same / codes.length, sameCodesTflite: sameTflite / codes.length, samePredictions: samePred / n };
}

function report(t: TestContext, label: string, o: Outcome): void {
  t.diagnostic(
    `${label}: identical codes vs ONNX Runtime ${(o.sameCodes * 100).toFixed(2)}% (TFLite double rounding: ${(o.sameCodesTflite * 100).toFixed(2)}%), ` +
      `same predictions ${(o.samePredictions * 100).toFixed(2)}%`,
  );
}

test('ONNX Runtime computes exactly the integer path (mlp-tiny, 8-bit per-tensor and per-channel)', async (t) => {
  const model = await trainedTinyMlp();
  for (const granularity of ['per-tensor', 'per-channel'] as const) {
    const o = await crossCheck(model, { weights: { bits: 8, granularity }, activations: { bits: 8 }, inputs: { bits: 8 } });
    report(t, `mlp-tiny w8 ${granularity} a8`, o);
    assert.equal(o.sameCodes, 1);
  }
  model.dispose();
});

test('ONNX Runtime computes exactly the integer path (cnn-small with convolutions, max-pooling and a flatten)', async (t) => {
  const model = untrained('cnn-small', 5);
  const o = await crossCheck(model, { weights: { bits: 8, granularity: 'per-channel' }, activations: { bits: 8 }, inputs: { bits: 8 } });
  report(t, 'cnn-small w8 per-channel a8', o);
  assert.equal(o.sameCodes, 1);
  model.dispose();
});

test('narrower grids export as int8 codes with clamps and still match exactly (w4 a4)', async (t) => {
  const model = await trainedTinyMlp();
  const o = await crossCheck(model, { weights: { bits: 4, granularity: 'per-channel' }, activations: { bits: 4 }, inputs: { bits: 8 } });
  report(t, 'mlp-tiny w4 per-channel a4', o);
  assert.equal(o.sameCodes, 1);
  model.dispose();
});
