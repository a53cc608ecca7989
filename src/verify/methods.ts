/** The verification methods a user names (`--method`), and what each means for the auto pipeline. */

export const VERIFY_METHODS = ['ibp', 'crown', 'milp', 'bab', 'smt', 'auto'] as const;
export type VerifyMethod = (typeof VERIFY_METHODS)[number];

/** The auto pipeline restricted to one method: 'ibp'/'crown' stop after that bound, 'milp'/'bab'/'smt' skip the attack. */
export function methodOptions(method: VerifyMethod): { upTo?: 'ibp' | 'crown'; noAttack?: boolean; complete?: 'milp' | 'bab' | 'smt' } {
  switch (method) {
    case 'ibp':
    case 'crown':
      return { upTo: method, noAttack: true };
    case 'milp':
    case 'bab':
    case 'smt':
      return { noAttack: true, complete: method };
    case 'auto':
      return {};
  }
}
