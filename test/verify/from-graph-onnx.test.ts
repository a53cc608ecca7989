/**
 * PyTorch's own exports with residual blocks, depthwise and grouped convolutions, padding and concatenation
 * (test/fixtures/onnx) verified through the import: ONNX → model graph → saved TF.js directory → model graph
 * → IR computes ONNX Runtime's outputs (the branch net's Tanh through the IR's smooth step), and verification of
 * a small box never contradicts ONNX Runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/backend.js';
import { Rng } from '../../src/core/rng.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importOnnx } from '../../src/import/onnx/index.js';
import { saveModel } from '../../src/models/io.js';
import { METADATA_FORMAT, METADATA_VERSION } from '../../src/models/metadata.js';
import { verifyProblemAuto } from '../../src/verify/auto.js';
import { irFromModelDir } from '../../src/verify/from-model.js';
import { evaluateIR } from '../../src/verify/ir.js';
import { localRobustnessCase } from '../../src/verify/property.js';
import { ortOutputs, randomImages, type Image } from '../import/onnx-fixtures.js';

await initBackend('wasm');
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'onnx');
const IMAGE: Image = [12, 12, 3];
const SIZE = 12 * 12 * 3;

async function importedDir(file: string, root: string): Promise<{ dir: string; bytes: Uint8Array }> {
  const bytes = new Uint8Array(await readFile(join(FIXTURES, file)));
  const imported = importOnnx({ file, bytes, imageShape: IMAGE, numClasses: 10 });
  const model = buildLayersModel(imported.graph);
  const dir = join(root, file);
  await saveModel(dir, model, {
    format: METADATA_FORMAT,
    version: METADATA_VERSION,
    dataset: 'none',
    arch: 'imported-onnx',
    inputShape: IMAGE,
    numClasses: 10,
    preprocessing: { inputRange: [0, 1], mean: [0], std: [1], layout: 'NHWC' },
    seed: 0,
    versions: {},
    createdAt: new Date(0).toISOString(),
  });
  model.dispose();
  return { dir, bytes };
}

for (const net of ['residual', 'branch']) {
  test(`PyTorch '${net}' (opset 13): the IR read from the imported directory computes ONNX Runtime's outputs, and verification agrees with it`, async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'qrobust-dag-'));
    try {
      const { dir, bytes } = await importedDir(`torch_${net}_opset13.onnx`, root);
      const ir = await irFromModelDir(dir);
      assert.equal(ir.inputSize, SIZE);
      const rng = new Rng(3);
      const n = 8;
      const images = randomImages(rng, n, IMAGE);
      const reference = await ortOutputs(bytes, images, IMAGE, 'nchw', [1, 3, 12, 12]);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const y = evaluateIR(ir, images.subarray(i * SIZE, (i + 1) * SIZE));
        // The branch net ends in a Softmax, which the import strips: compare probabilities.
        (net === 'branch' ? softmax(y) : Array.from(y)).forEach((v, k) => (worst = Math.max(worst, Math.abs(v - reference[i]![k]!))));
      }
      assert.ok(worst < 1e-4, `max |IR − ONNX Runtime| ${worst}`);
      const center = images.subarray(0, SIZE);
      const label = argmax(evaluateIR(ir, center));
      for (const eps of [1e-3, 0.05]) {
        const c = localRobustnessCase(center, label, eps, 10);
        const r = await verifyProblemAuto(ir, { cases: [c], inputSize: SIZE, outputSize: 10, source: net }, { timeLimit: 5, seed: 0 });
        t.diagnostic(`${net} ε ${eps}: ${r.verdict} (${r.method}, ${r.seconds.toFixed(1)} s)`);
        const samples = Float32Array.from({ length: 64 * SIZE }, (_, j) => {
          const i = j % SIZE;
          return c.input.lower[i]! + rng.next() * (c.input.upper[i]! - c.input.lower[i]!);
        });
        const ys = await ortOutputs(bytes, samples, IMAGE, 'nchw', [1, 3, 12, 12]);
        const violated = ys.some((y) => argmax(Array.from(y)) !== label);
        if (violated) assert.notEqual(r.verdict, 'unsat', `ε ${eps}: unsat, but ONNX Runtime misclassifies a sampled input`);
        if (r.verdict === 'sat') {
          const [y] = await ortOutputs(bytes, Float32Array.from(r.counterexample!.input), IMAGE, 'nchw', [1, 3, 12, 12]);
          assert.notEqual(argmax(Array.from(y!)), label, 'ONNX Runtime confirms the counterexample');
        }
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < v.length; k++) if (v[k]! > v[best]!) best = k;
  return best;
}

function softmax(y: Float64Array): number[] {
  const m = Math.max(...y);
  const e = Array.from(y, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
