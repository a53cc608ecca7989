/**
 * `import --preset henzinger2021` on Henzinger, Lechner and Žikelić's own MNIST network: the integer program's
 * label on every one of the 10,000 test images equals a direct fixed-point evaluation of the file written here
 * from the format rules (read with h5wasm, not through the importer), the misclassified samples among the
 * benchmark's first 400 are exactly the ones the paper lists, and its vulnerable samples at ε = 2 are falsified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { initBackend } from '../../src/backend/backend.js';
import { loadDataset } from '../../src/data/index.js';
import { classifierLogits } from '../../src/models/classifier.js';
import { argmaxRows } from '../../src/models/prediction.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { importModel } from '../../src/workflows/import-model.js';
import { verifyModelDir } from '../../src/workflows/verify-model.js';
import { NEEDS_DATASETS, NEEDS_SHARED_MODELS, SHARED_MODELS } from './keras-fixtures.js';

const skip = NEEDS_SHARED_MODELS || NEEDS_DATASETS;
const FILE = SHARED_MODELS ? join(SHARED_MODELS, 'henzinger2021', 'mnist_mlp.h5') : '';

/** Round half away from zero. */
const rha = (v: number): number => Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** The network's integers straight from the file: weights ×32 and biases ×16 after clipping to their formats. */
async function fixedPointNetwork(): Promise<{ w1: Int32Array; b1: Int32Array; w2: Int32Array; b2: Int32Array }> {
  await h5wasm.ready;
  const f = new h5wasm.File(FILE, 'r');
  try {
    const read = (p: string): Float32Array => (f.get(p) as unknown as { value: Float32Array }).value;
    const w = (v: Float32Array): Int32Array => Int32Array.from(v, (x) => rha(clamp(x, -1, 31 / 32) * 32));
    const b = (v: Float32Array): Int32Array => Int32Array.from(v, (x) => rha(clamp(x, -2, 31 / 16) * 16));
    return {
      w1: w(read('/quantized_dense/quantized_model/quantized_dense/kernel:0')),
      b1: b(read('/quantized_dense/quantized_model/quantized_dense/bias:0')),
      w2: w(read('/quantized_dense_1/quantized_model/quantized_dense_1/kernel:0')),
      b2: b(read('/quantized_dense_1/quantized_model/quantized_dense_1/bias:0')),
    };
  } finally {
    f.close();
  }
}

/**
 * The label of 8-bit image `p` (784 pixels, row-major): x = p/256; layer 1 sums p·w1 on the grid 2^-13 with
 * the bias (1/16 = 512 units), the ReLU output rounded to 1/16 and saturated to 0..63; layer 2 sums h·w2 on
 * 2^-9 with its bias (32 units), the output rounded to 1/16 and saturated to −32..31; the first maximum wins.
 */
function fixedPointLabel(net: Awaited<ReturnType<typeof fixedPointNetwork>>, p: Uint8Array): number {
  const h = new Int32Array(64);
  for (let j = 0; j < 64; j++) {
    let acc = net.b1[j]! * 512;
    for (let i = 0; i < 784; i++) acc += p[i]! * net.w1[i * 64 + j]!;
    h[j] = clamp(rha(acc / 512), 0, 63);
  }
  let best = -Infinity;
  let label = -1;
  for (let k = 0; k < 32; k++) {
    let acc = net.b2[k]! * 32;
    for (let j = 0; j < 64; j++) acc += h[j]! * net.w2[j * 32 + k]!;
    const out = clamp(rha(acc / 32), -32, 31);
    if (out > best) {
      best = out;
      label = k;
    }
  }
  return label;
}

test('henzinger2021 preset: the integer program is the paper\'s fixed-point network on all 10,000 MNIST test images', { skip }, async () => {
  await initBackend('wasm');
  const tmp = await mkdtemp(join(tmpdir(), 'qrobust-henzinger-'));
  try {
    const dir = join(tmp, 'mnist');
    const r = await importModel({ file: FILE, dataset: 'mnist', out: dir, preset: 'henzinger2021' });
    assert.equal(r.meta.numClasses, 32, 'the argmax runs over all 32 outputs');
    assert.equal((r.meta['quantization'] as { deployedRounding?: string }).deployedRounding, 'half-away');
    const data = await loadDataset('mnist', 'test', { allowDownload: false });
    const deployed = await loadClassifier(dir, { integer: true });
    const ours = argmaxRows(classifierLogits(deployed.classifier, data), 32);
    deployed.classifier.dispose();
    const net = await fixedPointNetwork();
    let differ = 0;
    for (let i = 0; i < data.count; i++) if (ours[i] !== fixedPointLabel(net, data.pixels.subarray(i * 784, (i + 1) * 784))) differ++;
    assert.equal(differ, 0, `${differ} of ${data.count} labels differ from the direct fixed-point evaluation`);
    // The paper's misclassified benchmark samples (MNIST test indices 0-399).
    const wrong = Array.from({ length: 400 }, (_, i) => i).filter((i) => ours[i] !== data.labels[i]);
    assert.deepEqual(wrong, [18, 149, 217, 241, 247, 259, 321, 340, 381]);
    // Its vulnerable samples at ε = 2 (pixel units) are falsified, each counterexample re-checked on the integer path.
    const v = await verifyModelDir({ dir, epsilon: 2 / 255, indices: [115, 151, 158], timeout: 20 });
    assert.deepEqual(v.samples.map((s) => [s.index, s.outcome]), [[115, 'falsified'], [151, 'falsified'], [158, 'falsified']]);
    // And robust samples at ε = 1 are verified.
    const ok = await verifyModelDir({ dir, epsilon: 1 / 255, indices: [0, 1, 2], timeout: 20 });
    assert.deepEqual(ok.samples.map((s) => s.outcome), ['verified', 'verified', 'verified']);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('henzinger2021 preset: other formats, another --arch or preprocessing flags are refused in one line', { skip }, async () => {
  const out = join(tmpdir(), 'qrobust-henzinger-never');
  await assert.rejects(importModel({ file: FILE, dataset: 'mnist', out, preset: 'henzinger2021', arch: 'dense:64,32,10' }), /--preset henzinger2021 sets --arch dense:64,32; leave out --arch dense:64,32,10/);
  await assert.rejects(importModel({ file: FILE, dataset: 'mnist', out, preset: 'henzinger2021', preprocessing: { scale: 255 } }), /sets the preprocessing; leave out --scale/);
});
