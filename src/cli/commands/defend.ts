/**
 * `qrobust defend`: apply a defense to a model directory and write the defended model directory: adversarial
 * training (PGD-AT, TRADES) in float or, with --bits or a quantized DIR, quantization-aware; or an ensemble of
 * models of several bit widths; or Song et al.'s boundary-based retraining (QAT on clean and boundary points) or
 * non-linear input map (a fixed transform saved in the model directory).
 */
import { BOUNDARY_SEARCH_NAMES, DEFENSE_METHODS, ENSEMBLE_COMBINE_NAMES } from '../../defenses/defense-names.js';
import type { CommandDef } from '../command.js';

export const defendCommand: CommandDef = {
  name: 'defend',
  summary: 'defend a model: adversarial training (pgd-at, trades), an ensemble of bit widths, boundary retraining or a non-linear input map',
  positionals: [{ name: 'DIR', description: 'the model to defend (float or quantized); optional for --method ensemble with --members', required: false }],
  options: [
    { name: 'method', type: 'string', description: 'defense', choices: [...DEFENSE_METHODS] },
    { name: 'out', type: 'string', description: 'output model directory (several --bits: one subdirectory per width)', placeholder: 'DIR' },
    { name: 'eps', type: 'string', description: 'adversarial training: L∞ radius, a number or a fraction such as 8/255 (default 0.3 for MNIST/Fashion-MNIST, 8/255 for CIFAR-10)', placeholder: 'E' },
    { name: 'steps', type: 'int', description: 'adversarial training: PGD steps per batch; boundary: iterations of the boundary search (default 10)' },
    { name: 'step-size', type: 'number', description: 'adversarial training: PGD step size (default 2.5·eps/steps)' },
    { name: 'beta', type: 'number', description: 'TRADES: weight of the KL term (default 6)' },
    { name: 'boundary-attack', type: 'string', description: 'boundary: the search for boundary points (default deepfool)', choices: [...BOUNDARY_SEARCH_NAMES] },
    { name: 'norm', type: 'string', description: 'boundary: norm of the boundary search (default l2)', choices: ['l2', 'linf'] },
    { name: 'overshoot', type: 'number', description: 'boundary: relative push past the located boundary (default 0.02)' },
    { name: 'bisection-steps', type: 'int', description: 'boundary: bisection steps that locate the crossing (default 10)' },
    { name: 'lambda', type: 'number', description: 'boundary: weight of the loss on the boundary points (default 1)' },
    { name: 'regenerate', type: 'string', description: 'boundary: make the points with the weights of each epoch\'s start (default) or each batch\'s step', choices: ['epoch', 'batch'] },
    { name: 'levels', type: 'int', description: 'nonlinear-map: levels of the smooth staircase (default 8)' },
    { name: 'steepness', type: 'number', description: 'nonlinear-map: steepness of each step (default 100)' },
    { name: 'epochs', type: 'int', description: 'training epochs (default 1; nonlinear-map: none unless given, the network behind the map is then fine-tuned)' },
    { name: 'bits', type: 'string', list: true, description: 'adversarial training, boundary (and nonlinear-map with --epochs): train quantization-aware at these weight widths; ensemble: add the parent quantized to each', placeholder: 'LIST' },
    { name: 'members', type: 'string', list: true, description: 'ensemble: member model directories', placeholder: 'DIR,DIR,...' },
    { name: 'combine', type: 'string', description: 'ensemble: how members are combined (default mean-probabilities)', choices: [...ENSEMBLE_COMBINE_NAMES] },
    { name: 'seed', type: 'int', description: 'seed for the data subsets, shuffling, PGD random starts and the boundary search', default: 0 },
    { name: 'n', type: 'int', description: 'training: train on a seeded subset of N images (default: all)' },
    { name: 'batch-size', type: 'int', description: 'training: mini-batch size (default 128)' },
    { name: 'lr', type: 'number', description: 'training: Adam learning rate (default 1e-3)' },
    { name: 'eval-n', type: 'int', description: 'evaluate on a seeded subset of N test images (default all; 0 skips)' },
    { name: 'workers', type: 'int', description: 'float training (adversarial, or behind a map): threads to split each batch over (default: up to 2 where it pays)' },
    { name: 'json', type: 'string', description: 'write the results as JSON to FILE', placeholder: 'FILE' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  action: () => import('../actions/defend.js'),
};
