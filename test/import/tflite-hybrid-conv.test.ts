/**
 * Dynamic-range ("hybrid") TFLite convolutions: the deployed path against a brute force of TFLite's kernels
 * written here from TFLite's layouts, and against the outputs of TFLite's own interpreter on the same files
 * (fixtures written by scripts/crosscheck/tflite-hybrid-conv-reference.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '../../src/backend/tf.js';
import { initBackend } from '../../src/backend/backend.js';
import { importTflite } from '../../src/import/tflite/import-tflite.js';
import { quantizeRowAsymmetric, quantizeRowSymmetric } from '../../src/quant/hybrid/input-quantizer.js';
import { sourceQuantizedClassifierFromImport } from '../../src/quant/hybrid/load-hybrid.js';
import { argmaxRows } from '../../src/models/prediction.js';
import { CONV_CLASSES, CONV_IMAGE, hybridConvInputs, hybridConvSpec } from './tflite-hybrid-conv-model.js';

await initBackend('wasm');
const f32 = Math.fround;
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'import', 'fixtures');
const inputs = hybridConvInputs(16);

interface Reference {
  readonly modelSha256: string;
  readonly outputs: readonly (readonly number[])[];
}

function fixture(perChannel: boolean): { bytes: Uint8Array; reference: Reference } {
  const name = `hybrid-conv-${perChannel ? 'per-channel' : 'per-tensor'}`;
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, `${name}.tflite`)));
  const reference = JSON.parse(readFileSync(join(FIXTURES, `${name}-reference.json`), 'utf8')) as Reference;
  assert.equal(createHash('sha256').update(bytes).digest('hex'), reference.modelSha256, `${name}: the reference was computed on this file`);
  return { bytes, reference };
}

/**
 * TFLite's kernels on one input, from the spec's own tensors: per-tensor CONV_2D (symmetric inputs,
 * acc · f32(s_x·s_w) + bias) or per-channel (asymmetric inputs, (acc · s_w[c]) · s_x + bias), RELU, 2×2 max
 * pooling, the hybrid FULLY_CONNECTED (symmetric inputs).
 */
function bruteForce(perChannel: boolean, x: Float32Array): number[] {
  const spec = hybridConvSpec(perChannel);
  const [, wConv, bConv, , , , wFc, bFc] = spec.tensors;
  const wq = Array.from(wConv!.values!);
  const ws = wConv!.quant!.scale.map(f32);
  const codes = new Int8Array(x.length);
  const { scale: sx, zeroPoint: zp } = perChannel ? quantizeRowAsymmetric(x, codes) : { scale: quantizeRowSymmetric(x, codes), zeroPoint: 0 };
  const conv = new Float32Array(8 * 8 * 3);
  for (let oy = 0; oy < 8; oy++) {
    for (let ox = 0; ox < 8; ox++) {
      for (let o = 0; o < 3; o++) {
        let acc = 0;
        for (let ky = 0; ky < 3; ky++) {
          for (let kx = 0; kx < 3; kx++) {
            const iy = oy - 1 + ky;
            const ix = ox - 1 + kx;
            if (iy < 0 || iy >= 8 || ix < 0 || ix >= 8) continue;
            for (let c = 0; c < 2; c++) acc += wq[((o * 3 + ky) * 3 + kx) * 2 + c]! * (codes[(iy * 8 + ix) * 2 + c]! - zp);
          }
        }
        const b = f32(bConv!.values![o]!);
        const v = perChannel ? f32(f32(f32(f32(acc) * ws[o]!) * sx) + b) : f32(b + f32(f32(acc) * f32(sx * ws[0]!)));
        conv[(oy * 8 + ox) * 3 + o] = Math.max(0, v);
      }
    }
  }
  const pooled = new Float32Array(48);
  for (let y = 0; y < 4; y++) {
    for (let xx = 0; xx < 4; xx++) {
      for (let c = 0; c < 3; c++) {
        let m = -Infinity;
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) m = Math.max(m, conv[((2 * y + dy) * 8 + 2 * xx + dx) * 3 + c]!);
        pooled[(y * 4 + xx) * 3 + c] = m;
      }
    }
  }
  const fcCodes = new Int8Array(48);
  const fcScale = quantizeRowSymmetric(pooled, fcCodes);
  const fq = Array.from(wFc!.values!);
  return Array.from({ length: 4 }, (_, o) => {
    let acc = 0;
    for (let i = 0; i < 48; i++) acc += fq[o * 48 + i]! * fcCodes[i]!;
    return f32(f32(bFc!.values![o]!) + f32(f32(acc) * f32(fcScale * f32(wFc!.quant!.scale[0]!))));
  });
}

function deployedOutputs(bytes: Uint8Array, integer: boolean): Float32Array {
  const net = importTflite({ file: 'hybrid-conv.tflite', bytes, imageShape: CONV_IMAGE, numClasses: CONV_CLASSES });
  const record = net.sourceQuantization;
  assert.equal(record?.kind, 'dynamic-range');
  const classifier = sourceQuantizedClassifierFromImport(net, undefined, integer ? { integer: true } : {});
  const x = tf.tensor4d(Float32Array.from(inputs.flatMap((v) => Array.from(v))), [inputs.length, ...CONV_IMAGE]);
  const y = classifier.logits(x);
  const out = y.dataSync() as Float32Array;
  tf.dispose([x, y]);
  classifier.dispose();
  return Float32Array.from(out);
}

function ulps(a: number, b: number): number {
  return Math.abs(a - b) / (Math.max(Math.abs(a), Math.abs(b)) * 2 ** -23);
}

for (const perChannel of [false, true]) {
  const kind = perChannel ? 'per-channel' : 'per-tensor';
  test(`hybrid CONV_2D with ${kind} weights: the deployed path is TFLite's kernel, bit for bit`, () => {
    const { bytes } = fixture(perChannel);
    const net = importTflite({ file: 'hybrid-conv.tflite', bytes, imageShape: CONV_IMAGE, numClasses: CONV_CLASSES });
    const layers = net.sourceQuantization!.kind === 'dynamic-range' ? net.sourceQuantization!.layers : [];
    assert.deepEqual(layers.map((l) => [l.op, l.inputQuantization]), [['CONV_2D', perChannel ? 'asymmetric' : 'symmetric'], ['FULLY_CONNECTED', 'symmetric']]);
    const ours = deployedOutputs(bytes, true);
    inputs.forEach((x, k) => assert.deepEqual(Array.from(ours.subarray(k * 4, (k + 1) * 4)), bruteForce(perChannel, x), `input ${k}`));
  });

  test(`hybrid CONV_2D with ${kind} weights agrees with TFLite's own interpreter`, () => {
    const { bytes, reference } = fixture(perChannel);
    const ours = deployedOutputs(bytes, true);
    const theirs = reference.outputs.flat();
    let worst = 0;
    let equal = 0;
    theirs.forEach((v, i) => {
      worst = Math.max(worst, ulps(v, ours[i]!));
      if (v === ours[i]) equal++;
    });
    if (perChannel) {
      // The interpreter's XNNPACK delegate rounds the per-channel path in another order (see hybrid-conv.ts).
      assert.ok(worst <= 16, `worst difference ${worst.toFixed(1)} ulps`);
    } else {
      assert.equal(equal, theirs.length, `${theirs.length - equal} of ${theirs.length} outputs differ (worst ${worst.toFixed(1)} ulps)`);
    }
    assert.deepEqual(argmaxRows(ours, 4), argmaxRows(Float32Array.from(theirs), 4));
    // The fake-quant path (TF.js ops, the same quantizers) gives the same labels.
    assert.deepEqual(argmaxRows(deployedOutputs(bytes, false), 4), argmaxRows(ours, 4));
  });
}
