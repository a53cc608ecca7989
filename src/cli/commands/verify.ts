/**
 * `qrobust verify`: formal verification.
 *
 * - `qrobust verify --onnx NET.onnx --vnnlib PROP.vnnlib [--timeout S] [--out CE.txt]`: one VNN-LIB property,
 *   VNN-COMP style: the first stdout line is `sat`, `unsat`, `unknown` or `timeout` (`sat`: a counterexample
 *   exists, re-checked in float64 and by onnxruntime), and `--out` receives the counterexample in VNN-COMP's
 *   format.
 * - `qrobust verify DIR --eps E [--n N] [--method ...] [--json FILE]`: local robustness of test samples of a
 *   model directory (quantized ones in their deployed integer semantics unless `--semantics fake-quant`).
 */
import { REQUANT_ROUNDINGS } from '../../quant/integer/fixed-point.js';
import type { CommandDef } from '../command.js';
import { VERIFY_METHODS } from '../../verify/methods.js';

const OPTIONS: CommandDef['options'] = [
  { name: 'onnx', type: 'string', description: 'ONNX network (with --vnnlib): verify one VNN-LIB property', placeholder: 'NET.onnx' },
  { name: 'vnnlib', type: 'string', description: 'VNN-LIB property for --onnx', placeholder: 'PROP.vnnlib' },
  { name: 'out', type: 'string', description: 'with --onnx: write the counterexample (VNN-COMP format) to FILE', placeholder: 'FILE' },
  { name: 'eps', type: 'string', description: 'with DIR: L∞ radius in pixel units (a number or a fraction such as 2/255)', placeholder: 'E' },
  { name: 'norm', type: 'string', description: 'threat model (L∞ only)', choices: ['linf'], placeholder: 'linf', default: 'linf' },
  { name: 'n', type: 'int', description: 'with DIR: verify a seeded subset of N test images (all of them are counted)', default: 100 },
  { name: 'indices', type: 'string', list: true, description: 'with DIR: verify these test-set indices instead of a subset, e.g. 0-99 or 3,17,40-49', placeholder: 'A-B' },
  { name: 'seed', type: 'int', description: 'seed for the subset and the attack stage', default: 0 },
  { name: 'method', type: 'string', description: 'ibp, crown (bounds only), milp, bab (branch and bound, float nets), smt (complete) or auto', choices: VERIFY_METHODS, placeholder: 'NAME', default: 'auto' },
  { name: 'timeout', type: 'number', description: 'seconds per property or sample', placeholder: 'S', default: 60 },
  { name: 'semantics', type: 'string', description: 'quantized DIR: deployed integer program or simulated fake-quant model (default integer)', choices: ['integer', 'fake-quant'], placeholder: 'integer|fake-quant' },
  { name: 'rounding', type: 'string', description: 'integer semantics: requantization rounding (default double, TFLite)', choices: REQUANT_ROUNDINGS, placeholder: 'MODE' },
  { name: 'encoding', type: 'string', description: 'integer semantics, smt: requantization as a threshold table or as fixed-point arithmetic', choices: ['threshold', 'arithmetic'], placeholder: 'threshold|arithmetic' },
  { name: 'json', type: 'string', description: 'with DIR: write per-sample verdicts and the summary as JSON to FILE', placeholder: 'FILE' },
  { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
];

export const verifyCommand: CommandDef = {
  name: 'verify',
  summary: 'formal verification: a VNN-LIB property of an ONNX net, or local robustness of a model directory',
  positionals: [{ name: 'DIR', description: 'model directory (leave out with --onnx)', required: false }],
  options: OPTIONS,
  action: () => import('../actions/verify.js'),
};
