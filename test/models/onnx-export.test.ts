/**
 * The float ONNX export against ONNX Runtime: a layer graph exported to ONNX and run by onnxruntime-node must give
 * TF.js's logits (to 1e-5, relative to max(1, |logit|)) on real dataset images and on random inputs, for every zoo shape family, a trained
 * model and a model with the padding cases TF's 'same' rule produces.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/backend.js';
import { QrobustError } from '../../src/core/errors.js';
import { loadDataset } from '../../src/data/index.js';
import { statisticsFor } from '../../src/models/dataset-statistics.js';
import { graphFromModel, type LayerGraph } from '../../src/models/graph.js';
import { Normalize } from '../../src/models/normalize-layer.js';
import { layerGraphToOnnx } from '../../src/models/onnx-export.js';
import type { ArchName } from '../../src/models/arch-names.js';
import { buildModel, type ModelInputSpec } from '../../src/models/zoo.js';
import { readOnnxModel, writeOnnxModel } from '../../src/onnx/index.js';
import { maxRelativeDiff, ortOutput, tfjsLogits, uniformPixels } from '../fixtures/logits.js';
import { MNIST_SPEC } from '../fixtures/mnist.js';
import { trainedTinyMlp } from '../quant/fixtures.js';

await initBackend('wasm');
const TOLERANCE = 1e-5;
const N = 16;
const cifar = statisticsFor('cifar10');
const CIFAR_SPEC: ModelInputSpec = { inputShape: [32, 32, 3], numClasses: 10, mean: cifar.mean, std: cifar.std };

async function realImages(dataset: 'mnist' | 'cifar10'): Promise<Float32Array> {
  const records = await loadDataset(dataset, 'test', { n: N, seed: 31, allowDownload: false });
  return Float32Array.from(records.pixels, (v) => v / 255);
}
const images = { mnist: await realImages('mnist'), cifar10: await realImages('cifar10') };

interface Difference {
  /** max |ONNX Runtime − TF.js| / max(1, |TF.js|) over all logits. */
  readonly relative: number;
  /** The largest |logit|, for scale. */
  readonly largest: number;
}

/** Exports the model, runs it in ONNX Runtime on `pixels`, and compares the logits with TF.js's. */
async function exportedDifference(model: tfl.LayersModel, pixels: Float32Array): Promise<Difference> {
  const graph = graphFromModel(model);
  const bytes = writeOnnxModel(layerGraphToOnnx(graph, model.name));
  const shape = [pixels.length / graph.inputShape.reduce((a, b) => a * b, 1), ...graph.inputShape];
  const theirs = await ortOutput(bytes, pixels, shape);
  const ours = tfjsLogits(model, pixels, shape);
  // Equal logits mean something only when the logits themselves differ from image to image.
  const spread = Math.max(...ours) - Math.min(...ours);
  assert.ok(spread > 0.1, `logits barely vary (spread ${spread}); the comparison would prove little`);
  return { relative: maxRelativeDiff(theirs, ours), largest: Math.max(...ours.map(Math.abs)) };
}

async function checkModel(t: TestContext, label: string, model: tfl.LayersModel, real: Float32Array): Promise<void> {
  const onReal = await exportedDifference(model, real);
  const onRandom = await exportedDifference(model, uniformPixels(real.length, 7));
  const show = (d: Difference): string => `${d.relative.toExponential(2)} (largest |logit| ${d.largest.toFixed(2)})`;
  t.diagnostic(`${label}: max |ONNX Runtime − TF.js| / max(1, |logit|) ${show(onReal)} on ${N} test images, ${show(onRandom)} on ${N} random inputs`);
  assert.ok(onReal.relative <= TOLERANCE, `${label}: real images differ by ${onReal.relative}`);
  assert.ok(onRandom.relative <= TOLERANCE, `${label}: random inputs differ by ${onRandom.relative}`);
}

const zoo: [ArchName, ModelInputSpec, keyof typeof images][] = [
  ['mlp-tiny', MNIST_SPEC, 'mnist'],
  ['cnn-small', MNIST_SPEC, 'mnist'],
  ['cnn-cifar', CIFAR_SPEC, 'cifar10'],
];
for (const [arch, spec, dataset] of zoo) {
  test(`ONNX Runtime gives TF.js's logits: ${arch} with seeded random weights on ${dataset}`, async (t) => {
    const model = buildModel(arch, spec, 11);
    await checkModel(t, arch, model, images[dataset]);
    model.dispose();
  });
}

test("ONNX Runtime gives TF.js's logits: a trained mlp-tiny on MNIST", async (t) => {
  const model = await trainedTinyMlp();
  await checkModel(t, 'trained mlp-tiny', model, images.mnist);
  model.dispose();
});

test("ONNX Runtime gives TF.js's logits with TF's asymmetric 'same' padding, strides, a ReLU layer and no biases", async (t) => {
  const seed = (s: number) => tfl.initializers.heNormal({ seed: s });
  const model = tfl.sequential({
    layers: [
      new Normalize({ mean: [0.2, 0.5, 0.7], std: [0.3, 0.25, 0.4], inputShape: [11, 9, 3], name: 'normalize' }),
      tfl.layers.conv2d({ filters: 6, kernelSize: [3, 2], strides: 2, padding: 'valid', useBias: false, kernelInitializer: seed(1), name: 'conv_valid' }),
      tfl.layers.reLU({ name: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool_same' }),
      tfl.layers.conv2d({ filters: 5, kernelSize: 2, padding: 'same', activation: 'relu', kernelInitializer: seed(2), biasInitializer: tfl.initializers.randomNormal({ seed: 5 }), name: 'conv_even' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 7, useBias: false, activation: 'relu', kernelInitializer: seed(3), name: 'dense' }),
      tfl.layers.dense({ units: 4, kernelInitializer: seed(4), biasInitializer: tfl.initializers.randomNormal({ seed: 6 }), name: 'logits' }),
    ],
  });
  await checkModel(t, 'padding cases', model, uniformPixels(N * 11 * 9 * 3, 3));
  model.dispose();
});

test('the batch dimension is symbolic and Transposes sit only around the NCHW part (cnn-small)', async () => {
  const model = buildModel('cnn-small', MNIST_SPEC, 2);
  const graph = graphFromModel(model);
  const bytes = writeOnnxModel(layerGraphToOnnx(graph, 'cnn'));
  const read = readOnnxModel(bytes);
  assert.deepEqual(read.graph.inputs[0]!.shape, ['batch', 28, 28, 1]);
  assert.deepEqual(read.graph.outputs.map((o) => [o.name, ...(o.shape ?? [])]), [['logits', 'batch', 10]]);
  const ops = read.graph.nodes.map((n) => n.opType);
  assert.deepEqual(ops, ['Sub', 'Mul', 'Transpose', 'Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Transpose', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Identity']);
  // One image and three images: each row equals TF.js's.
  for (const n of [1, 3]) {
    const pixels = images.mnist.subarray(0, n * 784);
    assert.ok(maxRelativeDiff(await ortOutput(bytes, pixels, [n, 28, 28, 1]), tfjsLogits(model, pixels, [n, 28, 28, 1])) <= TOLERANCE);
  }
  model.dispose();
});

test('a graph whose weights do not fit its shapes is refused in one line naming the step', () => {
  const model = buildModel('mlp-tiny', MNIST_SPEC, 2);
  const graph = graphFromModel(model);
  model.dispose();
  const steps = graph.steps.map((s) => (s.kind === 'dense' && s.name === 'logits' ? { ...s, bias: new Float32Array(3) } : s));
  const broken: LayerGraph = { ...graph, steps };
  assert.throws(
    () => layerGraphToOnnx(broken, 'broken'),
    (e: unknown) => e instanceof QrobustError && e.code === 'invalid_model' && /^ONNX export: step 'logits' \(dense\): bias has 3 values for 10 outputs$/.test(e.message),
  );
  const truncated: LayerGraph = { ...graph, steps: graph.steps.slice(0, 1) };
  assert.throws(() => layerGraphToOnnx(truncated, 'truncated'), /ends in shape \[28,28,1\], expected a vector of 10 logits/);
});
