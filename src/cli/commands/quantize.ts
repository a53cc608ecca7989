/**
 * `qrobust quantize`: quantization of a model directory, one variant per weight width: post-training, or with
 * `--qat-epochs N` fine-tuned by quantization-aware training from the PTQ starting point; with `--from-scratch
 * --arch A --dataset D` (and no directory) the architecture is trained quantized from its initialisation.
 */
import { DATASET_PLACEHOLDER } from '../../data/source-names.js';
import { ARCH_NAMES } from '../../models/arch-names.js';
import type { CommandDef } from '../command.js';

export const quantizeCommand: CommandDef = {
  name: 'quantize',
  summary: 'quantize a model (weights 1-16 bit, binary, ternary, DoReFa, float16; activations 1-8 bit): post-training, or quantization-aware training with --qat-epochs',
  positionals: [{ name: 'DIR', description: 'full-precision model directory (written by train); leave out with --from-scratch', required: false }],
  options: [
    { name: 'out', type: 'string', description: 'output directory (several widths: one subdirectory per variant, named by its label)', placeholder: 'QDIR' },
    { name: 'bits', type: 'string', list: true, description: 'weight widths, e.g. 8 or 8,4,2,1 (1 = binary) or float16 (default 8)', placeholder: 'LIST' },
    { name: 'weights', type: 'string', description: 'weight quantizer', choices: ['uniform', 'binary', 'ternary', 'dorefa'], default: 'uniform' },
    { name: 'scheme', type: 'string', description: 'weight grid', choices: ['symmetric', 'affine'], default: 'symmetric' },
    { name: 'granularity', type: 'string', description: 'weight scales per tensor or per output channel (default per-tensor; binary: per-channel)', choices: ['per-tensor', 'per-channel'] },
    { name: 'act-bits', type: 'int', description: 'quantize activations to N bits (default: float activations)' },
    { name: 'act-kind', type: 'string', description: "activation quantizer: calibrated ranges, or DoReFa's fixed [0, 1] after ReLUs (default uniform)", choices: ['uniform', 'dorefa'] },
    { name: 'act-scheme', type: 'string', description: 'activation grid', choices: ['affine', 'symmetric'], default: 'affine' },
    { name: 'input-bits', type: 'int', description: 'quantize the input to N bits (default 8 when --act-bits is set)' },
    { name: 'calibration', type: 'string', description: 'activation range rule', choices: ['minmax', 'percentile', 'mse'], default: 'minmax' },
    { name: 'percentile', type: 'number', description: 'percentile for --calibration percentile (default 99.99)' },
    { name: 'first-last', type: 'string', description: 'first and last weight layers', choices: ['same', '8-bit', 'keep-float'], default: 'same' },
    { name: 'calib-n', type: 'int', description: 'calibration images from the training split', default: 1000 },
    { name: 'qat-epochs', type: 'int', description: 'quantization-aware training epochs after PTQ (default 0: PTQ only)' },
    { name: 'qat-lr', type: 'number', description: 'QAT Adam learning rate (default 1e-3)' },
    { name: 'qat-batch-size', type: 'int', description: 'QAT mini-batch size (default 128)' },
    { name: 'qat-n', type: 'int', description: 'QAT on a seeded subset of N training images (default: all)' },
    { name: 'qat-schedule', type: 'string', description: 'QAT learning-rate schedule (default cosine)', choices: ['cosine', 'constant'] },
    { name: 'act-ranges', type: 'string', description: 'QAT activation ranges: PTQ-calibrated and fixed, or EMA of batch ranges (default fixed; ema from scratch)', choices: ['fixed', 'ema'] },
    { name: 'weight-range', type: 'string', description: 'QAT uniform weight grids, refreshed every epoch (default mse)', choices: ['mse', 'minmax'] },
    { name: 'latent-clip', type: 'number', description: 'QAT: clip latent kernels to [-C, C] after each step, 0 = never (default 1 for binary weights, else never)' },
    { name: 'augment', type: 'string', description: 'QAT augmentation (default: crop-flip for CIFAR-10, none otherwise)', choices: ['none', 'crop-flip'] },
    { name: 'from-scratch', type: 'boolean', description: 'train --arch on --dataset quantized from its initialisation (needs --qat-epochs, no DIR)' },
    { name: 'arch', type: 'string', description: 'architecture for --from-scratch', placeholder: ARCH_NAMES.join('|') },
    { name: 'dataset', type: 'string', description: 'dataset for --from-scratch', placeholder: DATASET_PLACEHOLDER },
    { name: 'seed', type: 'int', description: 'seed for the calibration, evaluation and training subsets, QAT shuffling and initialisation', default: 0 },
    { name: 'eval-n', type: 'int', description: 'evaluate on a seeded subset of N test images (default all; 0 skips)' },
    { name: 'json', type: 'string', description: 'write the results as JSON to FILE', placeholder: 'FILE' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  action: () => import('../actions/quantize.js'),
};
