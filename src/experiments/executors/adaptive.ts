/**
 * The `adaptive` task: the adaptive evaluation of one model on the slice (attacks/adaptive.ts): AutoAttack, PGD
 * with STE and exact gradients, FGSM, transfer from the full-precision parent of a variant, Square on the integer
 * path, with the per-sample worst case, every member's per-sample outcomes and the masking flag per ε.
 */
import { adaptiveAttack } from '../../attacks/adaptive.js';
import type { AdaptiveKnobs } from '../../attacks/adaptive-members.js';
import { QrobustError } from '../../core/errors.js';
import { loadAdaptiveForms } from '../../workflows/adaptive-attack.js';
import type { TaskContext } from '../context.js';
import type { AdaptiveTaskResult } from '../result-types.js';
import type { Task } from '../tasks.js';
import { sliceTensors } from './classifiers.js';
import { configOf, type TaskOutput } from './types.js';

export async function runAdaptiveTask(task: Task, ctx: TaskContext): Promise<TaskOutput<AdaptiveTaskResult>> {
  const c = configOf(task, 'adaptive');
  const dir = await ctx.modelDir(c.model);
  const parentDir = c.parent ? await ctx.modelDir(c.parent) : null;
  const ds = await ctx.testSlice(c.data);
  const loaded = await loadAdaptiveForms(dir, parentDir);
  const { x, labels } = sliceTensors(ds);
  try {
    if (JSON.stringify(loaded.meta.inputShape) !== JSON.stringify(ds.shape)) {
      throw new QrobustError('shape_mismatch', `${dir} takes inputs of shape [${loaded.meta.inputShape.join(',')}] but ${ds.name} images are [${ds.shape.join(',')}]`);
    }
    const knobs: AdaptiveKnobs = Object.fromEntries(Object.entries(c.knobs).filter(([, v]) => v !== null));
    const r = adaptiveAttack(loaded.forms, x, labels, { ...knobs, epsilons: [...c.eps], norm: c.norm, seed: c.seed });
    const timing: Record<string, number> = {};
    const results = r.results.map((row) => ({
      ...row,
      members: row.members.map(({ seconds, ...m }) => {
        timing[`${m.name} eps=${row.eps}`] = seconds;
        return m;
      }),
    }));
    const names = new Set(loaded.skipped.map((s) => s.name));
    return { result: { ...r, results, skipped: [...loaded.skipped, ...r.skipped.filter((s) => !names.has(s.name))] }, timing };
  } finally {
    x.dispose();
    loaded.dispose();
  }
}
