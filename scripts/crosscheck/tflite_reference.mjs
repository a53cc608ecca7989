#!/usr/bin/env node
// Runs a TFLite model with TFLite's own interpreter (the WebAssembly build shipped in the npm package
// @tensorflow/tfjs-tflite, installed in a scratch folder: it is not a qrobust dependency) on the first CIFAR-10
// test images and writes their output vectors as a JSON fixture for test/import/tflite-hybrid.test.ts.
//
// The images are read straight from the CIFAR-10 binary file (1 label byte, then 3072 pixel bytes R-G-B planes,
// each 32×32 row-major), so nothing of qrobust's loader or importer is involved. Each image is fed the way the
// network's authors fed it: pixels / 255 (float32), channels first, flattened to 3072 values.
//
// Usage:
//   mkdir -p /tmp/tflref && cd /tmp/tflref && npm install --ignore-scripts --legacy-peer-deps @tensorflow/tfjs-tflite@0.0.1-alpha.10
//   node scripts/crosscheck/tflite_reference.mjs /tmp/tflref/node_modules/@tensorflow/tfjs-tflite/wasm \
//     ../shared/models/duncan2020/converted_model_cifar.tflite ../shared/datasets/cifar10/test_batch_first1000.bin.gz 20 \
//     test/import/fixtures/duncan-tflite-reference.json
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const [wasmDir, modelPath, cifarPath, countArg, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: tflite_reference.mjs <tfjs-tflite wasm dir> <model.tflite> <cifar test batch (.bin or .bin.gz)> <count> <out.json>');
  process.exit(2);
}
const count = Number(countArg);
const require = createRequire(import.meta.url);
const factory = require(join(wasmDir, 'tflite_web_api_cc.js'));
const M = await factory({ wasmBinary: readFileSync(join(wasmDir, 'tflite_web_api_cc.wasm')) });

const modelBytes = readFileSync(modelPath);
const ptr = M._malloc(modelBytes.length);
M.HEAPU8.set(modelBytes, ptr);
const created = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, modelBytes.length, {
  numThreads: 1,
  enableProfiling: false,
  maxProfilingBufferEntries: 1024,
});
if (!created.ok()) throw new Error(`TFLite could not load the model: ${created.errorMessage()}`);
const runner = created.value();
const inputs = runner.GetInputs();
const outputs = runner.GetOutputs();
const input = inputs.get(0);
const output = outputs.get(0);

let cifar = readFileSync(cifarPath);
if (cifar[0] === 0x1f && cifar[1] === 0x8b) cifar = gunzipSync(cifar);
const RECORD = 1 + 3072;
const rows = [];
for (let i = 0; i < count; i++) {
  const rec = cifar.subarray(i * RECORD, (i + 1) * RECORD);
  const x = new Float32Array(3072);
  for (let k = 0; k < 3072; k++) x[k] = rec[1 + k] / 255; // the file's plane order is already C-H-W
  input.data().set(x);
  if (!runner.Infer()) throw new Error(`TFLite inference failed on image ${i}`);
  const y = Array.from(output.data());
  rows.push({ index: i, label: rec[0], output: y });
}

const fixture = {
  what: 'outputs of TFLite\'s own interpreter (wasm build of @tensorflow/tfjs-tflite 0.0.1-alpha.10, 1 thread) on CIFAR-10 test images',
  model: basename(modelPath),
  modelSha256: createHash('sha256').update(modelBytes).digest('hex'),
  images: `${basename(cifarPath)} records 0..${count - 1}, fed as float32 pixels/255, channels first, flattened`,
  outputTensor: { name: output.name, shape: String(output.shape).split(',').map(Number), meaning: 'softmax probabilities (the model ends in SOFTMAX)' },
  command: `node scripts/crosscheck/tflite_reference.mjs <tfjs-tflite>/wasm ${basename(modelPath)} ${basename(cifarPath)} ${count} ${basename(outPath)}`,
  rows,
};
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, JSON.stringify(fixture, null, 1) + '\n');
console.log(`wrote ${rows.length} rows to ${outPath}`);
