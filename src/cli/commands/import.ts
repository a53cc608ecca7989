/** `qrobust import`: a model file made elsewhere (ONNX, TFLite, Keras HDF5) as a qrobust model directory. */
import { INPUT_LAYOUTS } from '../../import/types.js';
import { IMPORT_PRESETS } from '../../import/preset-names.js';
import type { CommandDef } from '../command.js';

export const importCommand: CommandDef = {
  name: 'import',
  summary: 'import an ONNX, TFLite or Keras HDF5 model as a model directory every command reads',
  positionals: [{ name: 'FILE', description: 'the model file (format detected from its content; .gz accepted)', required: true }],
  options: [
    { name: 'dataset', type: 'string', description: 'the dataset the network classifies (image shape, classes, test images)', placeholder: 'NAME' },
    { name: 'out', type: 'string', description: 'output model directory', placeholder: 'DIR' },
    {
      name: 'layout',
      type: 'string',
      description: 'how the network takes images (default: from its input shape where unambiguous)',
      choices: INPUT_LAYOUTS,
    },
    { name: 'scale', type: 'number', description: 'the network is fed pixel·S with pixels in [0,1] (255 for raw 0..255 values)', default: 1 },
    { name: 'mean', type: 'string', list: true, description: 'per-channel mean subtracted after scaling (one value or one per channel)', placeholder: 'M1,M2,M3' },
    { name: 'std', type: 'string', list: true, description: 'per-channel std divided by after subtracting the mean', placeholder: 'S1,S2,S3' },
    { name: 'arch', type: 'string', description: 'topology of a weights-only file: a zoo architecture or dense:N1,N2,...', placeholder: 'NAME' },
    { name: 'name', type: 'string', description: "a name for reports (default: the file's name)" },
    { name: 'preset', type: 'string', description: "a published network's own semantics (topology, preprocessing, fixed-point quantization): henzinger2021", choices: IMPORT_PRESETS, placeholder: 'NAME' },
    { name: 'n', type: 'int', description: 'measure clean accuracy on a seeded subset of N test images (default: all)' },
    { name: 'seed', type: 'int', description: 'seed for the subset', default: 0 },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  action: () => import('../actions/import.js'),
};
