/** `qrobust export`: a model directory as an ONNX file, the float model or the integer (QLinearConv) one. */
import { writeFile } from 'node:fs/promises';
import { initBackend, parseBackendName } from '../../backend/backend.js';
import { exportModelDir, parseExportFormat, type OnnxExport } from '../../quant/export-dir.js';
import { type CliIO, optString, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';

/** What the file holds, for the output line. */
function describe(dir: string, e: OnnxExport): string {
  const what =
    e.weights === 'float'
      ? 'float model'
      : e.weights === 'float-latent'
        ? `float model from the float (latent) weights of quantized ${dir} (${e.label}), without its quantizers`
        : `integer QLinearConv model of ${e.label}`;
  const outputs = e.outputs.map((o) => `'${o}'`).join(', ');
  return `${what}; input 'pixels' float32 NHWC [batch, H, W, C] in [${e.inputRange.join(', ')}], outputs ${outputs}`;
}

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const dir = args.positionals[0]!;
  const out = requireString(args, 'out', 'export');
  const format = optString(args, 'format');
  const backend = optString(args, 'backend');
  await initBackend(backend ? parseBackendName(backend) : undefined);
  const exported = await exportModelDir(dir, format === undefined ? undefined : parseExportFormat(format));
  await writeFile(out, exported.bytes);
  io.stderr.write(`wrote ${out} (${exported.bytes.length} bytes, ${exported.format}): ${describe(dir, exported)}\n`);
  io.stdout.write(JSON.stringify({ onnx: out, bytes: exported.bytes.length, format: exported.format, weights: exported.weights }) + '\n');
  return EXIT_OK;
}
