/**
 * The VNN-COMP 2021 mnistfc networks (PyTorch exports, opset 9: Flatten of a [1, 784, 1] input, Gemm(transB)
 * and Relu, pixels in [0, 1] with no preprocessing in the network) imported and built as TF.js models: their
 * logits match ONNX Runtime's on real MNIST test images, they classify MNIST, and they become Sequential models
 * the layer graph accepts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { loadDataset } from '../../src/data/index.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importOnnx } from '../../src/import/onnx/index.js';
import { graphFromModel } from '../../src/models/graph.js';
import { MNISTFC, NEEDS_MNISTFC } from '../verify/fixtures.js';
import { maxAbsDiff, modelOutputs, ortOutputs } from './onnx-fixtures.js';

await initBackend('wasm');

const NETS = ['mnist-net_256x2.onnx', 'mnist-net_256x4.onnx', 'mnist-net_256x6.onnx'];
const IMAGE = [28, 28, 1] as const;

async function testImages(n: number): Promise<{ images: Float32Array; labels: Uint8Array }> {
  const ds = await loadDataset('mnist', 'test', { n, allowDownload: false });
  return { images: Float32Array.from(ds.pixels, (v) => v / 255), labels: ds.labels };
}

for (const net of NETS) {
  test(`${net}: logits equal ONNX Runtime's on 20 MNIST test images, accuracy above 90% on 200, a Sequential the layer graph accepts`, { skip: NEEDS_MNISTFC }, async (t) => {
    const file = join(MNISTFC!, net);
    const bytes = new Uint8Array(await readFile(file));
    const started = performance.now();
    const imported = importOnnx({ file: net, bytes, imageShape: IMAGE, numClasses: 10 });
    const ms = performance.now() - started;
    assert.equal(imported.layout, 'flat-nchw', 'a [1, 784, 1] input of a 1-channel image is flat');
    assert.equal(imported.details['opset'], 9);
    const depth = Number(/256x(\d)/.exec(net)![1]);
    assert.equal(imported.graph.nodes.filter((n) => n.op.kind === 'dense').length, depth + 1);

    const before = tf.memory().numTensors;
    const model = buildLayersModel(imported.graph);
    assert.equal(model.getClassName(), 'Sequential');
    const lg = graphFromModel(model);
    assert.deepEqual(lg.steps.map((s) => s.kind), ['flatten', ...new Array(depth + 1).fill('dense')]);
    assert.equal(lg.outputSize, 10);

    const { images, labels } = await testImages(200);
    const first = images.subarray(0, 20 * 784);
    const diff = maxAbsDiff(modelOutputs(model, first, IMAGE), await ortOutputs(bytes, first, IMAGE, 'flat-nchw', [1, 784, 1]));
    assert.ok(diff < 1e-5, `max |Δlogit| ${diff}`);

    const logits = modelOutputs(model, images, IMAGE);
    const correct = logits.filter((row, i) => row.indexOf(Math.max(...row)) === labels[i]).length;
    assert.ok(correct / 200 > 0.9, `accuracy ${correct}/200`);
    t.diagnostic(`${net}: import ${ms.toFixed(0)} ms, max |Δlogit| vs ONNX Runtime ${diff.toExponential(2)} (20 images), accuracy ${correct}/200`);
    model.dispose();
    assert.equal(tf.memory().numTensors, before, 'building, predicting and disposing leaks tensors');
  });
}
