import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { importTflite } from '../../src/import/tflite/import-tflite.js';
import type { FullIntegerQuantization } from '../../src/import/types.js';
import { argmaxRows } from '../../src/models/prediction.js';
import { sourceQuantizedClassifierFromImport } from '../../src/quant/hybrid/index.js';
import { buildTflite } from './tflite-builder.js';
import { INT8_CLASSES, INT8_IMAGE, int8Inputs, int8ModelSpec } from './tflite-int8-model.js';

await initBackend('wasm');

interface Fixture { readonly modelSha256: string; readonly rows: readonly number[][] }

function reference(): Fixture {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  return JSON.parse(readFileSync(join(root, 'test', 'import', 'fixtures', 'int8-tflite-reference.json'), 'utf8')) as Fixture;
}

test('a full-integer TFLite network: the recorded grids, and the integer path reproduces TFLite\'s interpreter', () => {
  const bytes = buildTflite(int8ModelSpec());
  const ref = reference();
  assert.equal(createHash('sha256').update(bytes).digest('hex'), ref.modelSha256, 'the fixture was made from this model');
  const net = importTflite({ file: 'int8.tflite', bytes, imageShape: INT8_IMAGE, numClasses: INT8_CLASSES });
  const rec = net.sourceQuantization as FullIntegerQuantization;
  assert.equal(rec.kind, 'full-integer');
  assert.deepEqual(rec.input, { bits: 8, scale: Math.fround(1 / 255), zeroPoint: -128 });
  assert.deepEqual(rec.layers.map((l) => [l.op, l.weightScale.length, l.output.zeroPoint]), [['CONV_2D', 3, -128], ['FULLY_CONNECTED', 1, 3]]);
  const n = ref.rows.length;
  const x = tf.tensor4d(int8Inputs(n), [n, ...INT8_IMAGE]);
  const deployed = sourceQuantizedClassifierFromImport(net, undefined, { integer: true });
  const fakeQuant = sourceQuantizedClassifierFromImport(net, undefined, {});
  assert.equal(deployed.gradientMode, 'none');
  const out = tf.tidy(() => deployed.logits(x).dataSync());
  const fq = tf.tidy(() => fakeQuant.logits(x).dataSync());
  // The integer path implements TFLite's requantization: every output code is TFLite's.
  ref.rows.forEach((row, i) => row.forEach((v, k) => assert.ok(Math.abs(out[i * INT8_CLASSES + k]! - v) < 1e-6, `row ${i} class ${k}: ${out[i * INT8_CLASSES + k]} vs TFLite ${v}`)));
  const labels = argmaxRows(Float32Array.from(out), INT8_CLASSES);
  const fqLabels = argmaxRows(Float32Array.from(fq), INT8_CLASSES);
  assert.ok(fqLabels.filter((c, i) => c === labels[i]).length >= n - 2, 'the fake-quant path predicts (nearly) the same classes');
  tf.dispose(x);
  deployed.dispose();
  fakeQuant.dispose();
});
