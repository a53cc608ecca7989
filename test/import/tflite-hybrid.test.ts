import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { loadDataset } from '../../src/data/index.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importTflite } from '../../src/import/tflite/import-tflite.js';
import type { ImportedNetwork } from '../../src/import/types.js';
import { makeBatch } from '../../src/models/batch.js';
import { classifierPredictions } from '../../src/models/classifier.js';
import { argmaxRows } from '../../src/models/prediction.js';
import { graphFromModel } from '../../src/models/graph.js';
import { saveModel } from '../../src/models/io.js';
import { METADATA_FORMAT, METADATA_VERSION, type ModelMetadata } from '../../src/models/metadata.js';
import { LayersClassifier } from '../../src/models/classifier.js';
import {
  dynamicFakeQuant,
  sourceQuantizedClassifier,
  sourceQuantizedClassifierFromImport,
  hybridDenseForward,
  quantizeRowAsymmetric,
  quantizeRowSymmetric,
  SOURCE_QUANTIZATION_FIELD,
} from '../../src/quant/hybrid/index.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { DUNCAN_TFLITE, duncanReference, NEEDS_CIFAR, NEEDS_DUNCAN, randomArray, randomInts } from './tflite-fixtures.js';

await initBackend('wasm');

const NEEDS_BOTH = NEEDS_DUNCAN || NEEDS_CIFAR;

function duncan(): ImportedNetwork {
  return importTflite({ file: 'converted_model_cifar.tflite', bytes: readFileSync(DUNCAN_TFLITE!), imageShape: [32, 32, 3], numClasses: 10, layout: 'flat-nchw' });
}

function softmaxRows(logits: Float32Array, k: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < logits.length / k; r++) {
    const row = Array.from(logits.subarray(r * k, (r + 1) * k));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(e.map((v) => v / s));
  }
  return out;
}

function logitsOf(c: { logits(x: tf.Tensor4D): tf.Tensor2D }, x: tf.Tensor4D): Float32Array {
  const t = c.logits(x);
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

test('the deployed hybrid classifier reproduces TFLite\'s own interpreter on 20 CIFAR-10 test images', { skip: NEEDS_BOTH }, async () => {
  const ref = duncanReference();
  assert.equal(createHash('sha256').update(readFileSync(DUNCAN_TFLITE!)).digest('hex'), ref.modelSha256, 'the fixture was made from this file');
  const data = await loadDataset('cifar10', 'test');
  const n = ref.rows.length;
  const batch = makeBatch(data, Int32Array.from({ length: n }, (_, i) => i));
  ref.rows.forEach((r, i) => assert.equal(r.label, data.labels[i], 'the same images'));
  const net = duncan();
  const deployed = sourceQuantizedClassifierFromImport(net, undefined, { integer: true });
  const fakeQuant = sourceQuantizedClassifierFromImport(net, undefined, {});
  const float = new LayersClassifier(buildLayersModel(net.graph));
  assert.equal(deployed.gradientMode, 'none');
  const outputs = { deployed: softmaxRows(logitsOf(deployed, batch.x), 10), fakeQuant: softmaxRows(logitsOf(fakeQuant, batch.x), 10), float: softmaxRows(logitsOf(float, batch.x), 10) };
  const maxDiff = (p: number[][]): number => Math.max(...ref.rows.flatMap((r, i) => r.output.map((v, k) => Math.abs(v - p[i]![k]!))));
  const argmax = (row: readonly number[]): number => row.indexOf(Math.max(...row));
  ref.rows.forEach((r, i) => assert.equal(argmax(outputs.deployed[i]!), argmax(r.output), `image ${i}: label`));
  // float32 rounding of the softmax itself is ~6e-8; the float (dequantized-weights) path is ~1e-3 away.
  assert.ok(maxDiff(outputs.deployed) < 5e-7, `deployed: ${maxDiff(outputs.deployed)}`);
  assert.ok(maxDiff(outputs.fakeQuant) < 2e-5, `fake-quant: ${maxDiff(outputs.fakeQuant)}`);
  assert.ok(maxDiff(outputs.float) > 1e-4, `the reference tells the hybrid semantics from the float one: ${maxDiff(outputs.float)}`);
  tf.dispose([batch.x, batch.labels]);
  for (const c of [deployed, fakeQuant, float]) c.dispose();
});

test('float (dequantized weights) and hybrid paths agree on at least 97% of 500 CIFAR-10 test images', { skip: NEEDS_BOTH }, async () => {
  const data = await loadDataset('cifar10', 'test', { n: 500, seed: 1 });
  const net = duncan();
  const deployed = sourceQuantizedClassifierFromImport(net, undefined, { integer: true });
  const float = new LayersClassifier(buildLayersModel(net.graph));
  const a = classifierPredictions(deployed, data, 100);
  const b = classifierPredictions(float, data, 100);
  const agree = a.filter((v, i) => v === b[i]).length / data.count;
  assert.equal(data.count, 500);
  assert.ok(agree >= 0.97, `agreement ${agree}`);
  deployed.dispose();
  float.dispose();
});

/** Brute force: the code in [lo, hi] nearest to `t`, ties to the larger magnitude (round half away from zero). */
function nearestCode(t: number, lo: number, hi: number): number {
  let best = lo;
  for (let q = lo; q <= hi; q++) {
    const d = Math.abs(q - t);
    const bd = Math.abs(best - t);
    if (d < bd || (d === bd && Math.abs(q) > Math.abs(best))) best = q;
  }
  return best;
}

test('symmetric row quantization against brute force: random rows, exact ties, an all-zero row, the extremes', () => {
  const rng = new Rng(21);
  const rows = [
    randomArray(rng, 64, 3),
    Float32Array.from([127, 2.5, -2.5, 0.5, -0.5, 126.5, -126.5, 0]), // range 127: x · inv = x, ties everywhere
    new Float32Array(7),
    Float32Array.from([-1e-30, 5e-31, 0]),
  ];
  for (const x of rows) {
    const q = new Int8Array(x.length);
    const scale = quantizeRowSymmetric(x, q);
    const range = Math.max(...Array.from(x, Math.abs));
    if (range === 0) {
      assert.equal(scale, 1);
      assert.ok(q.every((v) => v === 0));
      continue;
    }
    assert.equal(scale, Math.fround(range / 127));
    const inv = Math.fround(127 / range);
    x.forEach((v, i) => assert.equal(q[i], nearestCode(Math.fround(v * inv), -127, 127), `x = ${v}`));
    assert.ok(q.some((v) => Math.abs(v) === 127), 'the largest magnitude maps to ±127');
  }
  const tie = new Int8Array(8);
  quantizeRowSymmetric(rows[1]!, tie);
  assert.deepEqual(Array.from(tie), [127, 3, -3, 1, -1, 127, -127, 0]);
});

test('asymmetric row quantization: codes in [-128, 127], zero exact, every value within half a step', () => {
  const rng = new Rng(22);
  const rows = [randomArray(rng, 50, 2), Float32Array.from(randomArray(rng, 30, 1), (v) => Math.abs(v) + 0.5), Float32Array.from(randomArray(rng, 30), (v) => -Math.abs(v)), new Float32Array(5)];
  for (const x of rows) {
    const q = new Int8Array(x.length);
    const { scale, zeroPoint } = quantizeRowAsymmetric(x, q);
    if (x.every((v) => v === 0)) {
      assert.deepEqual([scale, zeroPoint], [0, 0]);
      assert.ok(q.every((v) => v === 0));
      continue;
    }
    const rmin = Math.min(0, ...x);
    const rmax = Math.max(0, ...x);
    assert.ok(Math.abs(scale - (rmax - rmin) / 255) <= 1e-7 * scale);
    assert.ok(zeroPoint >= -128 && zeroPoint <= 127 && Number.isInteger(zeroPoint));
    assert.ok(Math.abs(zeroPoint * scale + rmin - -128 * scale) <= scale, 'the zero point puts rmin at -128 (within a step)');
    x.forEach((v, i) => {
      assert.ok(q[i]! >= -128 && q[i]! <= 127);
      assert.equal(q[i], nearestCode(Math.fround(zeroPoint + Math.fround(v * Math.fround(1 / scale))), -128, 127));
      assert.ok(Math.abs((q[i]! - zeroPoint) * scale - v) <= scale * 0.5 + 1e-6, `x = ${v}`);
    });
  }
});

test('the hybrid dense kernel against a float64 brute force of its definition (symmetric, asymmetric, per channel)', () => {
  const rng = new Rng(23);
  const inSize = 40;
  const units = 6;
  const batch = 3;
  const weights = Int16Array.from(randomInts(rng, inSize * units, -127, 127));
  const bias = randomArray(rng, units, 0.5);
  const x = randomArray(rng, batch * inSize, 2);
  x.fill(0, inSize, 2 * inSize); // an all-zero row gives the bias
  for (const inputQuantization of ['symmetric', 'asymmetric'] as const) {
    for (const weightScale of [Float32Array.of(0.01), Float32Array.from(randomArray(rng, units), (v) => Math.abs(v) * 0.02 + 0.001)]) {
      const out = hybridDenseForward({ inSize, units, weights, weightScale, bias, activation: { kind: 'relu' }, inputQuantization }, x, batch);
      for (let b = 0; b < batch; b++) {
        const row = x.subarray(b * inSize, (b + 1) * inSize);
        const q = new Int8Array(inSize);
        const r = inputQuantization === 'symmetric' ? { scale: quantizeRowSymmetric(row, q), zeroPoint: 0 } : quantizeRowAsymmetric(row, q);
        for (let o = 0; o < units; o++) {
          let acc = 0;
          for (let i = 0; i < inSize; i++) acc += weights[o * inSize + i]! * (q[i]! - r.zeroPoint);
          const s = weightScale[weightScale.length === 1 ? 0 : o]!;
          const want = Math.max(0, bias[o]! + acc * r.scale * s);
          assert.ok(Math.abs(out[b * units + o]! - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${inputQuantization} b${b} o${o}: ${out[b * units + o]} vs ${want}`);
          if (b === 1) assert.equal(out[b * units + o], Math.max(0, bias[o]!));
        }
      }
    }
  }
});

test('dynamic fake quantization: the dequantized codes forward; identity (ste) or zero (exact) gradient', () => {
  const rng = new Rng(24);
  const x = randomArray(rng, 2 * 16, 3);
  for (const mode of ['symmetric', 'asymmetric'] as const) {
    const got = tf.tidy(() => dynamicFakeQuant(tf.tensor2d(x, [2, 16]), mode, 'ste').dataSync());
    for (let b = 0; b < 2; b++) {
      const row = x.subarray(b * 16, (b + 1) * 16);
      const q = new Int8Array(16);
      const r = mode === 'symmetric' ? { scale: quantizeRowSymmetric(row, q), zeroPoint: 0 } : quantizeRowAsymmetric(row, q);
      for (let i = 0; i < 16; i++) assert.ok(Math.abs(got[b * 16 + i]! - (q[i]! - r.zeroPoint) * r.scale) <= 1e-6, `${mode} [${b},${i}]`);
    }
    const c = randomArray(rng, 32);
    for (const gradient of ['ste', 'exact'] as const) {
      const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(dynamicFakeQuant(t as tf.Tensor2D, mode, gradient), tf.tensor2d(c, [2, 16]))))(tf.tensor2d(x, [2, 16])).dataSync());
      assert.deepEqual(Array.from(g), gradient === 'ste' ? Array.from(c) : new Array(32).fill(0));
    }
  }
});

function importedMeta(net: ImportedNetwork): ModelMetadata {
  return {
    format: METADATA_FORMAT,
    version: METADATA_VERSION,
    dataset: 'cifar10',
    arch: 'imported-tflite',
    inputShape: [32, 32, 3],
    numClasses: 10,
    preprocessing: { inputRange: [0, 1], mean: [0], std: [1], layout: 'NHWC' },
    seed: 0,
    versions: {},
    createdAt: new Date(0).toISOString(),
    [SOURCE_QUANTIZATION_FIELD]: net.sourceQuantization,
  };
}

test('loadClassifier on a model directory with the record: deployed with integer, fake-quant without; bad records', { skip: NEEDS_DUNCAN }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qrobust-tflite-'));
  try {
    const net = duncan();
    const model = buildLayersModel(net.graph);
    await saveModel(dir, model, importedMeta(net));
    const x = tf.tensor4d(randomArray(new Rng(25), 4 * 3072).map((v) => Math.abs(v)), [4, 32, 32, 3]);
    const inMemory = sourceQuantizedClassifier(graphFromModel(model), net.sourceQuantization!, { integer: true });
    model.dispose();
    const deployed = await loadClassifier(dir, { integer: true });
    const fq = await loadClassifier(dir);
    assert.equal(deployed.classifier.gradientMode, 'none');
    assert.equal(fq.classifier.gradientMode, 'ste');
    assert.deepEqual(Array.from(logitsOf(deployed.classifier, x)), Array.from(logitsOf(inMemory, x)));
    assert.deepEqual(argmaxRows(logitsOf(fq.classifier, x), 10), argmaxRows(logitsOf(inMemory, x), 10));
    const exact = await loadClassifier(dir, { gradient: 'exact' });
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(exact.classifier.logits(t as tf.Tensor4D)))(x).dataSync());
    assert.ok(g.every((v) => v === 0), 'the true gradient through the input quantizer is zero');
    for (const c of [deployed, fq, exact]) c.classifier.dispose();

    const { writeFile } = await import('node:fs/promises');
    const meta = importedMeta(net);
    const record = net.sourceQuantization!;
    const shifted = { ...record, layers: record.layers.map((l, i) => (i === 1 ? { ...l, weightScale: [l.weightScale[0]! * 1.5] } : l)) };
    await writeFile(join(dir, 'qrobust.json'), JSON.stringify({ ...meta, [SOURCE_QUANTIZATION_FIELD]: shifted }));
    await assert.rejects(loadClassifier(dir, { integer: true }), (e: Error & { code?: string }) => e.code === 'weights_mismatch' && /op1_fully_connected/.test(e.message));
    await writeFile(join(dir, 'qrobust.json'), JSON.stringify({ ...meta, [SOURCE_QUANTIZATION_FIELD]: { ...record, kind: 'full-integer' } }));
    await assert.rejects(loadClassifier(dir), (e: Error & { code?: string }) => e.code === 'not_a_model' && /sourceQuantization/.test(e.message));
    tf.dispose(x);
    inMemory.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
