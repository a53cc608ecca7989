/**
 * Writes the test suite's small full-integer TFLite network and its inputs, for `tflite_run.mjs` to run through
 * TFLite's interpreter. Usage: node dist/scripts/crosscheck/write-int8-model.js <out.tflite> <inputs.json> [count]
 */
import { writeFileSync } from 'node:fs';
import { buildTflite } from '../../test/import/tflite-builder.js';
import { int8Inputs, int8ModelSpec } from '../../test/import/tflite-int8-model.js';

const [modelOut, inputsOut, countArg] = process.argv.slice(2);
if (!modelOut || !inputsOut) throw new Error('usage: write-int8-model.js <out.tflite> <inputs.json> [count]');
const count = Number(countArg ?? 32);
writeFileSync(modelOut, buildTflite(int8ModelSpec()));
const x = int8Inputs(count);
writeFileSync(inputsOut, JSON.stringify(Array.from({ length: count }, (_, i) => Array.from(x.subarray(i * 32, (i + 1) * 32)))));
