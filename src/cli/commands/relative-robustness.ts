/**
 * `qrobust relative-robustness FP_DIR Q_DIR --eps E --n N`: of the test samples verified robust for the
 * full-precision model, the share also verified robust for the quantized one, and the reverse (Duncan et al.,
 * IJCNN 2020), both verified on the same seeded samples.
 */
import { VERIFY_METHODS } from '../../verify/methods.js';
import { REQUANT_ROUNDINGS } from '../../quant/integer/fixed-point.js';
import type { CommandDef } from '../command.js';

export const relativeRobustnessCommand: CommandDef = {
  name: 'relative-robustness',
  summary: 'share of samples verified robust for a full-precision model that stay verified after quantization',
  positionals: [
    { name: 'FP_DIR', description: 'full-precision model directory', required: true },
    { name: 'Q_DIR', description: 'quantized model directory', required: true },
  ],
  options: [
    { name: 'eps', type: 'string', description: 'L∞ radius in pixel units (a number or a fraction such as 2/255)', placeholder: 'E' },
    { name: 'n', type: 'int', description: 'verify a seeded subset of N test images', default: 100 },
    { name: 'seed', type: 'int', description: 'seed for the subset and the attack stage', default: 0 },
    { name: 'method', type: 'string', description: 'ibp, crown, milp, bab, smt or auto', choices: VERIFY_METHODS, placeholder: 'NAME', default: 'auto' },
    { name: 'timeout', type: 'number', description: 'seconds per sample and model', placeholder: 'S', default: 60 },
    { name: 'semantics', type: 'string', description: 'the quantized model as deployed integer program or fake-quant model (default integer)', choices: ['integer', 'fake-quant'], placeholder: 'integer|fake-quant' },
    { name: 'rounding', type: 'string', description: 'integer semantics: requantization rounding (default double)', choices: REQUANT_ROUNDINGS, placeholder: 'MODE' },
    { name: 'json', type: 'string', description: 'write both reports and the shares as JSON to FILE', placeholder: 'FILE' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  action: () => import('../actions/relative-robustness.js'),
};
