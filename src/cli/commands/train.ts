/** `qrobust train`: train an architecture from the zoo on a dataset and save it with its metadata. */
import { DATASET_PLACEHOLDER } from '../../data/source-names.js';
import { ARCH_NAMES } from '../../models/arch-names.js';
import type { CommandDef } from '../command.js';

export const trainCommand: CommandDef = {
  name: 'train',
  summary: 'train a model from the zoo and save it (TF.js layers format + qrobust.json)',
  positionals: [],
  options: [
    { name: 'dataset', type: 'string', description: 'dataset', placeholder: DATASET_PLACEHOLDER },
    { name: 'arch', type: 'string', description: 'architecture', placeholder: ARCH_NAMES.join('|') },
    { name: 'epochs', type: 'int', description: 'training epochs', default: 5 },
    { name: 'seed', type: 'int', description: 'seed for initialisation, shuffling and augmentation', default: 0 },
    { name: 'out', type: 'string', description: 'output model directory', placeholder: 'DIR' },
    { name: 'batch-size', type: 'int', description: 'mini-batch size', default: 128 },
    { name: 'lr', type: 'number', description: 'Adam learning rate (default: per architecture)' },
    { name: 'schedule', type: 'string', description: 'learning-rate schedule', choices: ['cosine', 'constant'], default: 'cosine' },
    { name: 'augment', type: 'string', description: 'augmentation (default: crop-flip for CIFAR-10, none otherwise)', choices: ['none', 'crop-flip'] },
    { name: 'n', type: 'int', description: 'train on a seeded subset of N images (default: all)' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
    { name: 'workers', type: 'int', description: 'threads to split each batch over (default: up to 2 where it pays)' },
  ],
  action: () => import('../actions/train.js'),
};
