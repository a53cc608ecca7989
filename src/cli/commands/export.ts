/** `qrobust export`: a model directory as an ONNX file, the float model or the integer (QLinearConv) one. */
import { EXPORT_FORMATS } from '../../quant/export-formats.js';
import type { CommandDef } from '../command.js';

export const exportCommand: CommandDef = {
  name: 'export',
  summary: 'write a model as ONNX: the float model, or a quantized one as integer ONNX (identical codes in ONNX Runtime)',
  positionals: [{ name: 'DIR', description: 'model directory (full-precision or quantized)', required: true }],
  options: [
    { name: 'out', type: 'string', description: 'the ONNX file to write', placeholder: 'FILE' },
    {
      name: 'format',
      type: 'string',
      description:
        'onnx: the float model (for a quantized directory, its float (latent) weights); onnx-int8: the integer QOperator model of a quantized directory. ' +
        'Default: onnx-int8 for a quantized directory with an integer form, onnx otherwise',
      placeholder: EXPORT_FORMATS.join('|'),
      choices: EXPORT_FORMATS,
    },
    { name: 'backend', type: 'string', description: 'tensor backend', choices: ['wasm', 'cpu', 'node'] },
  ],
  action: () => import('../actions/export.js'),
};
