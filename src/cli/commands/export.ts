/** `qrobust export`: a quantized model directory as an integer ONNX model (QLinearConv form) for ONNX Runtime. */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { initBackend, parseBackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import { writeOnnxModel } from '../../onnx/index.js';
import { integerProgramToOnnx } from '../../quant/integer/onnx-export.js';
import { IntegerClassifier } from '../../quant/integer/integer-classifier.js';
import { loadClassifier } from '../../quant/load-classifier.js';
import { type CommandDef, optString, requireString, EXIT_OK } from '../command.js';

export const exportCommand: CommandDef = {
  name: 'export',
  summary: 'write a quantized model as an integer ONNX model (runs in ONNX Runtime with identical codes)',
  positionals: [{ name: 'QDIR', description: 'quantized model directory with an integer form (weights, activations and input quantized)', required: true }],
  options: [
    { name: 'out', type: 'string', description: 'the ONNX file to write', placeholder: 'FILE' },
    { name: 'backend', type: 'string', description: 'tensor backend', choices: ['wasm', 'cpu', 'node'] },
  ],
  async run(args, io) {
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
  },
};
