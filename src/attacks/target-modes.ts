/** How a targeted attack picks its target class (see `targets.ts`); light, for the CLI's option table. */
export type TargetMode = 'random' | 'least-likely';
export const TARGET_MODES: readonly TargetMode[] = ['random', 'least-likely'];
