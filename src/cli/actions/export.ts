/** `qrobust export`: a quantized model directory as an integer ONNX model (QLinearConv form) for ONNX Runtime. */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { initBackend, parseBackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import { writeOnnxModel } from '../../onnx/index.js';
import { integerProgramToOnnx } from '../../quant/integer/onnx-export.js';
import { IntegerClassifier } from '../../quant/integer/integer-classifier.js';
import { loadClassifier } from '../../quant/load-classifier.js';
import { type CliIO, optString, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const dir = args.positionals[0]!;
  const out = requireString(args, 'out', 'export');
  const backend = optString(args, 'backend');
  await initBackend(backend ? parseBackendName(backend) : undefined);
  const { classifier, quantized } = await loadClassifier(dir, { integer: true, rounding: 'onnxruntime' });
  if (!quantized || !(classifier instanceof IntegerClassifier)) {
    throw new QrobustError('invalid_argument', `${dir}: not a quantized model with an integer form`);
  }
  const bytes = writeOnnxModel(integerProgramToOnnx(classifier.program, basename(dir)));
  await writeFile(out, bytes);
  io.stderr.write(`wrote ${out} (${bytes.length} bytes): input 'pixels' float32 NHWC in [0, 1]; outputs 'codes' (int8) and 'logits'\n`);
  io.stdout.write(JSON.stringify({ onnx: out, bytes: bytes.length }) + '\n');
  return EXIT_OK;
}
