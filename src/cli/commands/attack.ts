/** `qrobust attack`: robust accuracy of a model directory under one attack over a list of ε. */
import { ATTACK_NAMES } from '../../attacks/attack-names.js';
import { TARGET_MODES } from '../../attacks/target-modes.js';
import { optionNameOf, TUNABLE_OPTIONS } from '../../attacks/tunable-options.js';
import { LOSSES } from '../../attacks/types.js';
import type { CommandDef } from '../command.js';

export const attackCommand: CommandDef = {
  name: 'attack',
  summary: 'robust accuracy under an adversarial attack over a list of ε',
  positionals: [{ name: 'DIR', description: 'model directory (written by train or quantize)', required: true }],
  options: [
    { name: 'attack', type: 'string', description: `attack: ${ATTACK_NAMES.join(', ')}`, choices: ATTACK_NAMES, placeholder: 'NAME' },
    { name: 'adaptive', type: 'boolean', description: 'adaptive evaluation instead of one attack: AutoAttack, PGD with STE and exact gradients, EOT, transfer from the parent, Square on the integer path; per-sample worst case and the masking flag' },
    { name: 'norm', type: 'string', description: "threat model (default: the attack's own: linf; l2 for cw-l2, deepfool, hopskipjump)", choices: ['linf', 'l2'], placeholder: 'linf|l2' },
    { name: 'eps', type: 'string', list: true, description: 'comma-separated ε list in pixel units', placeholder: 'E1,E2,...', default: '0.05,0.1,0.2,0.3' },
    ...TUNABLE_OPTIONS.map((t) => ({
      name: optionNameOf(t),
      type: t.type === 'loss' ? ('string' as const) : t.type,
      ...(t.negated ? { negatable: true } : {}),
      description: t.doc,
      ...(t.type === 'loss' ? { choices: LOSSES, placeholder: LOSSES.join('|') } : {}),
    })),
    { name: 'targeted', type: 'string', description: 'targeted attack at a random or the least likely class (seeded)', choices: TARGET_MODES, placeholder: 'random|least-likely' },
    { name: 'source', type: 'string', description: 'transfer attack: craft on this model directory, evaluate on DIR', placeholder: 'SRC' },
    { name: 'query', type: 'string', description: 'what the attack queries: the model, or the integer-exact path of a quantized DIR (black-box attacks)', choices: ['model', 'integer'], placeholder: 'model|integer' },
    { name: 'pixel-grid', type: 'int', description: 'round adversarial inputs onto the lattice of L levels (255: 8-bit) inside the ε-ball, then re-check', placeholder: 'L' },
    { name: 'n', type: 'int', description: 'attack a seeded subset of N test images', default: 500 },
    { name: 'seed', type: 'int', description: 'seed for the subset, the targets and the attack', default: 0 },
    { name: 'grad', type: 'string', description: 'gradient through quantizers of the attacked model (quantized models; default ste) and through an input map (ste: BPDA; default exact)', choices: ['exact', 'ste'], placeholder: 'exact|ste' },
    { name: 'integer-check', type: 'boolean', description: 're-classify every adversarial example on the integer-exact path' },
    { name: 'batch-size', type: 'int', description: 'images per attack batch', default: 256 },
    { name: 'json', type: 'string', description: 'write the report as JSON to FILE', placeholder: 'FILE' },
    { name: 'save-examples', type: 'string', description: 'write the adversarial examples of every ε to FILE (JSON, base64 pixels)', placeholder: 'FILE' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  action: () => import('../actions/attack.js'),
};
