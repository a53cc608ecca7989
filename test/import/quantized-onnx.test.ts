/**
 * Quantized ONNX files (QDQ and QOperator, written as ONNX Runtime's static quantizer writes them and calibrated
 * by ONNX Runtime itself) imported as qrobust quantized models: the integer path must give ONNX Runtime's output
 * codes on every test image, the fake-quant path must run the same grids, and what cannot be held is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../../src/backend/backend.js';
import { Rng } from '../../src/core/rng.js';
import { loadDataset } from '../../src/data/index.js';
import { classifierLogits } from '../../src/models/classifier.js';
import { argmaxRows } from '../../src/models/prediction.js';
import { IntegerClassifier } from '../../src/quant/integer/integer-classifier.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { importModel } from '../../src/workflows/import-model.js';
import { quantizedOnnx, type FloatLayer } from './quantized-onnx-fixtures.js';

await initBackend('wasm');
const calib = await loadDataset('mnist', 'train', { n: 64, seed: 31, allowDownload: false });
const images = await loadDataset('mnist', 'test', { n: 100, seed: 32, allowDownload: false });
const N = images.count;

function nchw(d: typeof images): Float32Array {
  // MNIST has one channel, so NHWC and NCHW hold the same values in the same order.
  return Float32Array.from(d.pixels, (v) => v / 255);
}

function randomLayer(rng: Rng, kind: 'conv' | 'gemm', dims: number[], relu: boolean, pads = 0): FloatLayer {
  const fanIn = dims.slice(1).reduce((a, b) => a * b, 1);
  const weight = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.normal() * Math.sqrt(2 / fanIn));
  const bias = Float32Array.from({ length: dims[0]! }, () => rng.normal() * 0.05);
  return kind === 'conv'
    ? { kind, weight, dims: dims as [number, number, number, number], bias, pads, relu }
    : { kind, weight, dims: dims as [number, number], bias, relu };
}

async function ortLogits(bytes: Uint8Array, output: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', nchw(images), [N, 1, 28, 28]) });
  return Float32Array.from(out[output]!.data as Float32Array);
}

async function withImport(bytes: Uint8Array, body: (dir: string) => Promise<void>): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'qrobust-qonnx-'));
  try {
    const file = join(tmp, 'model.onnx');
    await writeFile(file, bytes);
    const dir = join(tmp, 'imported');
    await importModel({ file, dataset: 'mnist', out: dir, n: 100, seed: 32 });
    await body(dir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function checkAgainstOrt(form: 'qdq' | 'qoperator', layers: FloatLayer[]): Promise<void> {
  const fixture = await quantizedOnnx(form, layers, [1, 1, 28, 28], nchw(calib), calib.count);
  const reference = await ortLogits(fixture.bytes, fixture.output);
  await withImport(fixture.bytes, async (dir) => {
    const deployed = await loadClassifier(dir, { integer: true });
    assert.ok(deployed.classifier instanceof IntegerClassifier, 'the import has an integer form');
    assert.equal((deployed.meta['quantization'] as { deployedRounding?: string }).deployedRounding, 'onnxruntime');
    const ours = classifierLogits(deployed.classifier, images);
    let differ = 0;
    for (let i = 0; i < ours.length; i++) if (Math.abs(ours[i]! - reference[i]!) > 1e-6 * Math.max(1, Math.abs(reference[i]!))) differ++;
    assert.equal(differ, 0, `${differ} of ${ours.length} output values differ from ONNX Runtime's`);
    deployed.classifier.dispose();
    // The fake-quant path runs the same grids in float32: its labels may differ only where an accumulator
    // lands on a rounding edge.
    const fake = await loadClassifier(dir);
    const fakeLabels = argmaxRows(classifierLogits(fake.classifier, images), 10);
    const refLabels = argmaxRows(reference, 10);
    let same = 0;
    for (let i = 0; i < N; i++) if (fakeLabels[i] === refLabels[i]) same++;
    assert.ok(same >= N - 2, `fake-quant labels agree with ONNX Runtime on ${same} of ${N}`);
    fake.classifier.dispose();
  });
}

test('a QDQ CNN (per-channel int8 weights, uint8 activations) imports with ONNX Runtime\'s output codes', async () => {
  const rng = new Rng(5);
  await checkAgainstOrt('qdq', [
    randomLayer(rng, 'conv', [6, 1, 3, 3], true, 1),
    { kind: 'maxpool' },
    { kind: 'flatten' },
    randomLayer(rng, 'gemm', [32, 6 * 14 * 14], true),
    randomLayer(rng, 'gemm', [10, 32], false),
  ]);
});

test('a QOperator CNN (QLinearConv, MaxPool on codes) imports with ONNX Runtime\'s output codes', async () => {
  const rng = new Rng(6);
  await checkAgainstOrt('qoperator', [
    randomLayer(rng, 'conv', [4, 1, 3, 3], true, 1),
    { kind: 'maxpool' },
    randomLayer(rng, 'conv', [10, 4, 14, 14], false, 0),
    { kind: 'flatten' },
  ]);
});

test('static and dynamic quantization mixed in one file are refused in one line naming the node, and nothing is written', async () => {
  const fixture = await quantizedOnnx('qdq', [{ kind: 'flatten' }, randomLayer(new Rng(7), 'gemm', [10, 784], false)], [1, 1, 28, 28], nchw(calib), calib.count);
  const { readOnnxModel, writeOnnxModel } = await import('../../src/onnx/index.js');
  const model = readOnnxModel(fixture.bytes);
  const nodes = model.graph.nodes.map((n, i) => (i === 0 ? { ...n, opType: 'DynamicQuantizeLinear', inputs: [n.inputs[0]!] } : n));
  const tmp = await mkdtemp(join(tmpdir(), 'qrobust-qonnx-'));
  try {
    const file = join(tmp, 'dyn.onnx');
    await writeFile(file, writeOnnxModel({ ...model, graph: { ...model.graph, nodes } }));
    await assert.rejects(importModel({ file, dataset: 'mnist', out: join(tmp, 'out'), n: 10 }), /dyn\.onnx: node '.*' \(DequantizeLinear\): static and dynamic quantization in one model are not supported/);
    assert.deepEqual(await readdir(tmp), ['dyn.onnx']);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
