/**
 * Runs the hybrid-convolution test models (test/import/tflite-hybrid-conv-model.ts) in TFLite's own interpreter
 * (the WebAssembly build in the npm package @tensorflow/tfjs-tflite, installed in a scratch folder: it is not a
 * qrobust dependency) and writes the models and their outputs as fixtures for
 * test/import/tflite-hybrid-conv.test.ts.
 *
 * Usage:
 *   mkdir -p /tmp/tflref && cd /tmp/tflref && npm install --ignore-scripts --legacy-peer-deps @tensorflow/tfjs-tflite@0.0.1-alpha.10
 *   npm run build && node dist/scripts/crosscheck/tflite-hybrid-conv-reference.js /tmp/tflref/node_modules/@tensorflow/tfjs-tflite/wasm test/import/fixtures
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { hybridConvInputs, hybridConvModel } from '../../test/import/tflite-hybrid-conv-model.js';

interface Runner {
  GetInputs(): { get(i: number): { data(): Float32Array } };
  GetOutputs(): { get(i: number): { data(): Float32Array } };
  Infer(): boolean;
}

const [wasmDir, outDir] = process.argv.slice(2);
if (!wasmDir || !outDir) {
  console.error('usage: tflite-hybrid-conv-reference.js <tfjs-tflite wasm dir> <fixtures dir>');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const factory = require(join(wasmDir, 'tflite_web_api_cc.js')) as (o: { wasmBinary: Buffer }) => Promise<{
  _malloc(n: number): number;
  HEAPU8: Uint8Array;
  TFLiteWebModelRunner: { CreateFromBufferAndOptions(p: number, n: number, o: object): { ok(): boolean; errorMessage(): string; value(): Runner } };
}>;
const M = await factory({ wasmBinary: readFileSync(join(wasmDir, 'tflite_web_api_cc.wasm')) });
const inputs = hybridConvInputs(16);
for (const perChannel of [false, true]) {
  const name = `hybrid-conv-${perChannel ? 'per-channel' : 'per-tensor'}`;
  const bytes = hybridConvModel(perChannel);
  writeFileSync(join(outDir, `${name}.tflite`), bytes);
  const ptr = M._malloc(bytes.length);
  M.HEAPU8.set(bytes, ptr);
  const created = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, bytes.length, { numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 1024 });
  if (!created.ok()) throw new Error(`TFLite could not load ${name}: ${created.errorMessage()}`);
  const runner = created.value();
  const outputs = inputs.map((x) => {
    runner.GetInputs().get(0).data().set(x);
    if (!runner.Infer()) throw new Error(`TFLite inference failed on ${name}`);
    return Array.from(runner.GetOutputs().get(0).data());
  });
  const fixture = {
    what: "outputs of TFLite's own interpreter (wasm build of @tensorflow/tfjs-tflite 0.0.1-alpha.10, 1 thread, its default XNNPACK delegate) on the seeded inputs of test/import/tflite-hybrid-conv-model.ts",
    model: `${name}.tflite`,
    modelSha256: createHash('sha256').update(bytes).digest('hex'),
    command: 'node dist/scripts/crosscheck/tflite-hybrid-conv-reference.js <tfjs-tflite>/wasm test/import/fixtures',
    outputs,
  };
  writeFileSync(join(outDir, `${name}-reference.json`), JSON.stringify(fixture, null, 1) + '\n');
  console.log(`wrote ${name}.tflite and ${outputs.length} reference outputs`);
}
