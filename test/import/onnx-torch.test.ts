/**
 * Networks as PyTorch's exporter writes them (torch.onnx.export at opsets 9, 13 and 17; the files and the script
 * that made them are test/fixtures/onnx and scripts/crosscheck/export_torch_onnx.py): a residual net with
 * depthwise and grouped convs, a VGG-like chain with x.view(x.size(0), -1), and a branching net with
 * normalization, F.pad, concatenation and a final Softmax. Each is imported, built and compared with ONNX
 * Runtime on seeded random images.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importOnnx } from '../../src/import/onnx/index.js';
import { graphFromModel } from '../../src/models/graph.js';
import { maxAbsDiff, modelOutputs, ortOutputs, randomImages, type Image } from './onnx-fixtures.js';

await initBackend('wasm');

/** test/fixtures/onnx in the source tree (this file runs from dist/test/import). */
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'onnx');
const IMAGE: Image = [12, 12, 3];

/** Softmax at the output is stripped, so the branch net is compared on log-free probabilities of both sides. */
function softmax(rows: Float32Array[]): Float32Array[] {
  return rows.map((r) => {
    const m = Math.max(...r);
    const e = r.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

const CASES = [
  { net: 'residual', className: 'Model' },
  { net: 'chain', className: 'Sequential' },
  { net: 'branch', className: 'Model' },
] as const;

for (const { net, className } of CASES) {
  for (const opset of [9, 13, 17]) {
    test(`PyTorch export '${net}' at opset ${opset} matches ONNX Runtime`, async () => {
      const file = `torch_${net}_opset${opset}.onnx`;
      const bytes = new Uint8Array(await readFile(join(FIXTURES, file)));
      const imported = importOnnx({ file, bytes, imageShape: IMAGE, numClasses: 10 });
      assert.equal(imported.layout, 'nchw');
      const before = tf.memory().numTensors;
      const model = buildLayersModel(imported.graph);
      assert.equal(model.getClassName(), className, imported.graph.nodes.map((n) => n.op.kind).join(' → '));
      if (className === 'Sequential') graphFromModel(model);
      const images = randomImages(new Rng(opset), 4, IMAGE);
      let ours = modelOutputs(model, images, IMAGE);
      const theirs = await ortOutputs(bytes, images, IMAGE, 'nchw', [1, 3, 12, 12]);
      if (net === 'branch') {
        assert.equal(imported.details['strippedOutput'], 'Softmax');
        ours = softmax(ours);
      }
      const diff = maxAbsDiff(ours, theirs);
      assert.ok(diff < 1e-5, `max |Δ| ${diff}`);
      model.dispose();
      assert.equal(tf.memory().numTensors, before);
    });
  }
}
