/**
 * ONNX Runtime's dynamic quantization (DynamicQuantizeLinear + MatMulInteger/ConvInteger), written as its
 * quantizer writes it, imported as a float model directory with a dynamic-range record: the deployed path must
 * give ONNX Runtime's logits on real MNIST images (one image per run, as DynamicQuantizeLinear's range is that
 * of the whole tensor), the fake-quant path its labels, and a file outside the pattern is refused in one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { tf } from '../../src/backend/tf.js';
import { initBackend } from '../../src/backend/backend.js';
import { Rng } from '../../src/core/rng.js';
import { loadDataset } from '../../src/data/index.js';
import { classifierLogits } from '../../src/models/classifier.js';
import { argmaxRows } from '../../src/models/prediction.js';
import { readOnnxModel, writeOnnxModel } from '../../src/onnx/index.js';
import { quantizeDynamicLinear } from '../../src/quant/hybrid/input-quantizer.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { verifyModelDir } from '../../src/workflows/verify-model.js';
import { importModel } from '../../src/workflows/import-model.js';
import { dynamicOnnx, type DynamicLayer, type WeightQuantization } from './dynamic-onnx-fixtures.js';

await initBackend('wasm');
const images = await loadDataset('mnist', 'test', { n: 60, seed: 41, allowDownload: false });
const N = images.count;
const pixels = Float32Array.from(images.pixels, (v) => v / 255);

function layer(rng: Rng, kind: 'conv' | 'matmul', dims: number[], relu: boolean, pads = 1): DynamicLayer {
  const fanIn = kind === 'conv' ? dims.slice(1).reduce((a, b) => a * b, 1) : dims[0]!;
  const weight = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.normal() * Math.sqrt(2 / fanIn));
  const bias = Float32Array.from({ length: kind === 'conv' ? dims[0]! : dims[1]! }, () => rng.normal() * 0.05);
  return kind === 'conv' ? { kind, weight, dims: dims as [number, number, number, number], bias, pads, relu } : { kind, weight, dims: dims as [number, number], bias, relu };
}

/** ONNX Runtime's logits, one image per run. */
async function ortLogits(bytes: Uint8Array, inputShape: readonly number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const size = 28 * 28;
  const out = new Float32Array(N * 10);
  for (let i = 0; i < N; i++) {
    const r = await session.run({ input: new ort.Tensor('float32', pixels.slice(i * size, (i + 1) * size), [1, ...inputShape.slice(1)]) });
    out.set(r['logits']!.data as Float32Array, i * 10);
  }
  return out;
}

async function withImport<T>(bytes: Uint8Array, body: (dir: string) => Promise<T>): Promise<T> {
  const tmp = await mkdtemp(join(tmpdir(), 'qrobust-dynonnx-'));
  try {
    const file = join(tmp, 'model.onnx');
    await writeFile(file, bytes);
    const dir = join(tmp, 'imported');
    await importModel({ file, dataset: 'mnist', out: dir, n: N, seed: 41 });
    return await body(dir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function checkAgainstOrt(layers: DynamicLayer[], inputShape: number[], q: WeightQuantization): Promise<void> {
  const fixture = dynamicOnnx(layers, inputShape, q);
  const reference = await ortLogits(fixture.bytes, inputShape);
  await withImport(fixture.bytes, async (dir) => {
    const deployed = await loadClassifier(dir, { integer: true });
    const record = deployed.meta['sourceQuantization'] as { runtime: string; layers: { inputQuantization: string }[] };
    assert.equal(record.runtime, 'onnxruntime');
    assert.equal(record.layers.length, layers.filter((l) => l.kind === 'conv' || l.kind === 'matmul').length);
    assert.ok(record.layers.every((l) => l.inputQuantization === 'dynamic-quantize-linear'));
    const ours = classifierLogits(deployed.classifier, images);
    deployed.classifier.dispose();
    let differ = 0;
    let worst = 0;
    for (let i = 0; i < ours.length; i++) {
      const d = Math.abs(ours[i]! - reference[i]!);
      worst = Math.max(worst, d);
      if (d !== 0) differ++;
    }
    // Every step is exact integer arithmetic or one float32 operation in ONNX Runtime's order: equal bits.
    assert.equal(differ, 0, `${differ} of ${ours.length} logits differ from ONNX Runtime's (worst by ${worst})`);
    // The fake-quant path runs the same quantizers as TF.js ops (float32 sums in another order).
    const fake = await loadClassifier(dir);
    assert.equal(fake.classifier.gradientMode, 'ste');
    const fakeLabels = argmaxRows(classifierLogits(fake.classifier, images), 10);
    const refLabels = argmaxRows(reference, 10);
    let same = 0;
    for (let i = 0; i < N; i++) if (fakeLabels[i] === refLabels[i]) same++;
    assert.ok(same >= N - 2, `fake-quant labels agree with ONNX Runtime on ${same} of ${N}`);
    // Its straight-through gradient reaches the input.
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(pixels.slice(0, 2 * 784), [2, 28, 28, 1]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(fake.classifier.logits(v as tf.Tensor4D), [0, 0], [2, 1])))(x);
    const gradNorm = tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]!);
    tf.dispose([x, g]);
    assert.ok(gradNorm > 0 && Number.isFinite(gradNorm), `STE gradient ${gradNorm}`);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    fake.classifier.dispose();
    // Verified as deployed: the run-time quantizers are in the IR; the images ONNX Runtime misclassifies are falsified.
    const report = await verifyModelDir({ dir, epsilon: 0.002, n: N, seed: 41, method: 'crown' });
    assert.equal(report.semantics, 'dynamic-range');
    report.samples.forEach((s, i) => {
      if (refLabels[i] !== s.label) assert.equal(s.verdict, 'misclassified', `sample ${i}`);
      else assert.notEqual(s.verdict, 'misclassified', `sample ${i}`);
    });
  });
}

test('an MLP dynamically quantized with int8 per-tensor weights imports with ONNX Runtime\'s logits', async () => {
  const rng = new Rng(1);
  await checkAgainstOrt([{ kind: 'flatten' }, layer(rng, 'matmul', [784, 48], true), layer(rng, 'matmul', [48, 10], false)], [1, 1, 28, 28], { type: 'int8', perChannel: false });
});

test('an MLP with uint8 per-channel weights (nonzero zero points) imports with ONNX Runtime\'s logits', async () => {
  const rng = new Rng(2);
  await checkAgainstOrt([layer(rng, 'matmul', [784, 32], true), layer(rng, 'matmul', [32, 10], false)], [1, 784], { type: 'uint8', perChannel: true });
});

test('a CNN of ConvInteger layers (padding, max pooling, per-channel int8) imports with ONNX Runtime\'s logits', async () => {
  const rng = new Rng(3);
  await checkAgainstOrt(
    [
      layer(rng, 'conv', [4, 1, 3, 3], true),
      { kind: 'maxpool' },
      layer(rng, 'conv', [6, 4, 3, 3], true, 0),
      { kind: 'maxpool' },
      { kind: 'flatten' },
      layer(rng, 'matmul', [6 * 6 * 6, 10], false),
    ],
    [1, 1, 28, 28],
    { type: 'int8', perChannel: true },
  );
});

test('a CNN with uint8 per-tensor conv weights imports with ONNX Runtime\'s logits', async () => {
  const rng = new Rng(4);
  await checkAgainstOrt(
    [layer(rng, 'conv', [3, 1, 3, 3], true), { kind: 'maxpool' }, { kind: 'flatten' }, layer(rng, 'matmul', [3 * 14 * 14, 10], false)],
    [1, 1, 28, 28],
    { type: 'uint8', perChannel: false },
  );
});

test('a dynamic-quantization pattern ONNX Runtime does not write is refused in one line, nothing written', async () => {
  const fixture = dynamicOnnx([{ kind: 'flatten' }, layer(new Rng(5), 'matmul', [784, 10], false)], [1, 1, 28, 28], { type: 'int8', perChannel: false });
  const model = readOnnxModel(fixture.bytes);
  // The int32 sum read by something other than the Cast to float.
  const nodes = model.graph.nodes.map((n) => (n.opType === 'Cast' ? { ...n, opType: 'Identity', attributes: [] } : n));
  const tmp = await mkdtemp(join(tmpdir(), 'qrobust-dynonnx-'));
  try {
    const file = join(tmp, 'dyn.onnx');
    await writeFile(file, writeOnnxModel({ ...model, graph: { ...model.graph, nodes } }));
    await assert.rejects(importModel({ file, dataset: 'mnist', out: join(tmp, 'out'), n: 10 }), /^QrobustError: .*dyn\.onnx: node '.*' \(MatMulInteger\): its output must feed one Cast/);
    assert.deepEqual(await readdir(tmp), ['dyn.onnx']);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('the input quantizer gives ONNX Runtime\'s DynamicQuantizeLinear codes, scale and zero point, ties included', async () => {
  const model = {
    irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'qrobust-test', producerVersion: '0', domain: '', modelVersion: 1, docString: '',
    graph: {
      name: 'g', initializers: [], valueInfo: [],
      nodes: [{ name: 'dql', opType: 'DynamicQuantizeLinear', domain: '', inputs: ['x'], outputs: ['q', 's', 'z'], attributes: [] }],
      inputs: [{ name: 'x', elemType: 1, shape: [1, 'D'] }],
      outputs: [{ name: 'q', elemType: 2, shape: null }, { name: 's', elemType: 1, shape: null }, { name: 'z', elemType: 2, shape: null }],
    },
    metadataProps: [],
  };
  const session = await ort.InferenceSession.create(writeOnnxModel(model));
  const rng = new Rng(6);
  const cases: Float32Array[] = [new Float32Array(5), Float32Array.of(-1, -0.5, -0.25)];
  // Exact ties x / s = k + 0.5 (s = 2^-8 when the range is [0, 255 · 2^-8]), where half-even and half-away differ.
  cases.push(Float32Array.from({ length: 64 }, (_, j) => (j === 0 ? 255 : (j % 200) + 0.5) / 256));
  for (let t = 0; t < 200; t++) {
    const d = 1 + Math.floor(rng.next() * 200);
    const kind = t % 3;
    cases.push(Float32Array.from({ length: d }, () => (kind === 0 ? Math.floor(rng.next() * 256) / 255 : kind === 1 ? (rng.next() - 0.3) * 10 : Math.max(0, rng.normal()))));
  }
  let wrong = 0;
  for (const x of cases) {
    const r = await session.run({ x: new ort.Tensor('float32', x, [1, x.length]) });
    const codes = new Int16Array(x.length);
    const ours = quantizeDynamicLinear(x, codes);
    const same = ours.scale === (r['s']!.data as Float32Array)[0] && ours.zeroPoint === (r['z']!.data as Uint8Array)[0] && codes.every((c, i) => c === (r['q']!.data as Uint8Array)[i]);
    if (!same) wrong++;
  }
  assert.equal(wrong, 0, `${wrong} of ${cases.length} tensors quantized otherwise than ONNX Runtime`);
  const tie = new Int16Array(64);
  quantizeDynamicLinear(cases[2]!, tie);
  assert.equal(tie[1], 2, '1.5 rounds to 2 (half to even)');
  assert.equal(tie[2], 2, '2.5 rounds to 2 (half to even)');
});
