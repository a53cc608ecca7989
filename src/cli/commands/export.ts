/** `qrobust export`: a quantized model directory as an integer ONNX model (QLinearConv form) for ONNX Runtime. */
import type { CommandDef } from '../command.js';

export const exportCommand: CommandDef = {
  name: 'export',
  summary: 'write a quantized model as an integer ONNX model (runs in ONNX Runtime with identical codes)',
  positionals: [{ name: 'QDIR', description: 'quantized model directory with an integer form (weights, activations and input quantized)', required: true }],
  options: [
    { name: 'out', type: 'string', description: 'the ONNX file to write', placeholder: 'FILE' },
    { name: 'backend', type: 'string', description: 'tensor backend', choices: ['wasm', 'cpu', 'node'] },
  ],
  action: () => import('../actions/export.js'),
};
