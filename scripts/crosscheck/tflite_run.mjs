#!/usr/bin/env node
// Runs any single-input TFLite model with TFLite's own interpreter (the WebAssembly build in the npm package
// @tensorflow/tfjs-tflite, installed in a scratch folder, not a qrobust dependency; see tflite_reference.mjs) on
// the float input rows of a JSON file, and writes the output rows as a JSON fixture.
// Usage: node scripts/crosscheck/tflite_run.mjs <tfjs-tflite wasm dir> <model.tflite> <inputs.json> <out.json>
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [wasmDir, modelPath, inputsPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: tflite_run.mjs <tfjs-tflite wasm dir> <model.tflite> <inputs.json> <out.json>');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const M = await require(join(wasmDir, 'tflite_web_api_cc.js'))({ wasmBinary: readFileSync(join(wasmDir, 'tflite_web_api_cc.wasm')) });
const bytes = readFileSync(modelPath);
const ptr = M._malloc(bytes.length);
M.HEAPU8.set(bytes, ptr);
const created = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, bytes.length, { numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 1024 });
if (!created.ok()) throw new Error(`TFLite could not load the model: ${created.errorMessage()}`);
const runner = created.value();
const input = runner.GetInputs().get(0);
const output = runner.GetOutputs().get(0);
const rows = JSON.parse(readFileSync(inputsPath, 'utf8')).map((x, i) => {
  input.data().set(Float32Array.from(x));
  if (!runner.Infer()) throw new Error(`TFLite inference failed on row ${i}`);
  return Array.from(output.data());
});
writeFileSync(outPath, JSON.stringify({
  what: "outputs of TFLite's own interpreter (wasm build of @tensorflow/tfjs-tflite 0.0.1-alpha.10, 1 thread)",
  model: basename(modelPath),
  modelSha256: createHash('sha256').update(bytes).digest('hex'),
  command: `node scripts/crosscheck/tflite_run.mjs <tfjs-tflite>/wasm ${basename(modelPath)} ${basename(inputsPath)} ${basename(outPath)}`,
  rows,
}, null, 1) + '\n');
console.log(`wrote ${rows.length} rows to ${outPath}`);
