/** The names of the defenses, apart from their code so that the CLI's help loads no tfjs. */
export const DEFENSE_METHODS = ['pgd-at', 'trades', 'boundary', 'nonlinear-map', 'ensemble'] as const;
export type DefenseMethod = (typeof DEFENSE_METHODS)[number];

/** Boundary retraining's searches for boundary points (see `boundary-points.ts`). */
export const BOUNDARY_SEARCH_NAMES = ['deepfool', 'fab'] as const;

/** The ways an ensemble combines its members (see `ensemble.ts`). */
export const ENSEMBLE_COMBINE_NAMES = ['mean-probabilities', 'majority-vote'] as const;

export function isDefenseMethod(s: string): s is DefenseMethod {
  return (DEFENSE_METHODS as readonly string[]).includes(s);
}
