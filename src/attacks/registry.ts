/** The attacks by name. `getAttack` turns an unknown name into an error that lists the valid ones. */
import { QrobustError } from '../core/errors.js';
import { apgdCe, apgdDlr } from './apgd.js';
import { apgdT } from './apgd-targeted.js';
import { autoEnsemble } from './auto.js';
import { bim } from './bim.js';
import { carliniWagnerL2 } from './carlini-wagner.js';
import { deepfoolAttack } from './deepfool.js';
import { fabAttack, fabT } from './fab.js';
import { fgsm } from './fgsm.js';
import { hopSkipJumpAttack } from './hop-skip-jump.js';
import { mim } from './mim.js';
import { pgd } from './pgd.js';
import { spsaAttack } from './spsa.js';
import { squareAttack } from './square.js';
import type { AttackSpec } from './types.js';
import { ATTACK_NAMES } from './attack-names.js';

/** White-box attacks first, then score-based, decision-based, and the ensemble. */
export const ATTACKS: ReadonlyMap<string, AttackSpec> = new Map(
  [fgsm, bim, pgd, mim, apgdCe, apgdDlr, apgdT, carliniWagnerL2, deepfoolAttack, fabAttack, fabT, squareAttack, spsaAttack, hopSkipJumpAttack, autoEnsemble].map((a) => [a.name, a]),
);

if ([...ATTACKS.keys()].join() !== ATTACK_NAMES.join()) {
  throw new Error(`attack-names.ts lists ${ATTACK_NAMES.join(', ')} but the registry holds ${[...ATTACKS.keys()].join(', ')}`);
}

/** The attack registered under `name`. */
export function getAttack(name: string): AttackSpec {
  const spec = ATTACKS.get(name.toLowerCase());
  if (!spec) throw new QrobustError('invalid_option', `unknown attack '${name}' (attacks: ${ATTACK_NAMES.join(', ')})`);
  return spec;
}
