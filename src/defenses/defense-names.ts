/** The names of the defenses, apart from their code so that the CLI's help loads no tfjs. */
export const DEFENSE_METHODS = ['pgd-at', 'trades', 'boundary', 'nonlinear-map', 'ensemble'] as const;
export type DefenseMethod = (typeof DEFENSE_METHODS)[number];

/** Named by the issue but not written yet (Song et al.'s boundary-based retraining and non-linear mapping). */
export const PLANNED_DEFENSES: readonly DefenseMethod[] = ['boundary', 'nonlinear-map'];

/** The ways an ensemble combines its members (see `ensemble.ts`). */
export const ENSEMBLE_COMBINE_NAMES = ['mean-probabilities', 'majority-vote'] as const;

export function isDefenseMethod(s: string): s is DefenseMethod {
  return (DEFENSE_METHODS as readonly string[]).includes(s);
}
