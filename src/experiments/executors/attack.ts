/**
 * The `attack` task: one registry attack on one model (under one gradient mode) at every ε of the grid, with the
 * adversarial label of every sample, the summary `runAttack` gives per ε, the integer-exact re-check for quantized
 * models when asked, and the first few adversarial inputs for the report.
 */
import { getAttack } from '../../attacks/registry.js';
import { predict, runAttack } from '../../attacks/run.js';
import type { AttackOptions } from '../../attacks/types.js';
import { accuracyOf } from '../../models/prediction.js';
import type { Classifier } from '../../models/classifier.js';
import type { TaskContext } from '../context.js';
import type { AttackPoint, AttackTaskResult } from '../result-types.js';
import type { AttackRef, Task } from '../tasks.js';
import { openClassifier, openIntegerClassifier, sliceTensors } from './classifiers.js';
import { tensorImages } from './images.js';
import { configOf, type TaskOutput } from './types.js';

/** The attack options of a task, as `runAttack` takes them (validated when the config was read). */
export function attackOptions(a: AttackRef, seed: number): Omit<AttackOptions, 'epsilon'> {
  return { ...(a.options as Partial<AttackOptions>), norm: a.norm, seed };
}

export async function runAttackTask(task: Task, ctx: TaskContext): Promise<TaskOutput<AttackTaskResult>> {
  const c = configOf(task, 'attack');
  const dir = await ctx.modelDir(c.model);
  const ds = await ctx.testSlice(c.data);
  const { classifier } = await openClassifier(dir, ds, c.grad);
  let integer: Classifier | null = null;
  const { x, labels } = sliceTensors(ds);
  try {
    integer = c.integerCheck ? await openIntegerClassifier(dir) : null;
    const run = runAttack(getAttack(c.attack.name), classifier, x, labels, { ...attackOptions(c.attack, c.seed), epsilons: [...c.eps] });
    try {
      const intClean = integer ? predict(integer, x) : null;
      const timing: Record<string, number> = {};
      const points: AttackPoint[] = run.results.map((r) => {
        timing[`eps=${r.epsilon}`] = r.seconds;
        let check: AttackPoint['integer'] = null;
        if (integer && intClean) {
          const p = predict(integer, r.adversarial);
          let robust = 0;
          let disagreements = 0;
          for (let i = 0; i < labels.length; i++) {
            if (intClean[i] === labels[i] && p[i] === labels[i]) robust++;
            if (p[i] !== r.predictions[i]) disagreements++;
          }
          check = { robustAccuracy: labels.length ? robust / labels.length : 0, predictions: Array.from(p), disagreements };
        }
        return {
          eps: r.epsilon,
          robustAccuracy: r.robustAccuracy,
          successRate: r.successRate,
          meanPerturbation: r.meanPerturbation,
          meanQueries: r.meanQueries,
          predictions: Array.from(r.predictions),
          integer: check,
          examples: tensorImages(r.adversarial, c.examples),
        };
      });
      return {
        result: {
          cleanAccuracy: accuracyOf(run.cleanPredictions, labels).accuracy,
          cleanPredictions: Array.from(run.cleanPredictions),
          integerCleanPredictions: intClean ? Array.from(intClean) : null,
          points,
        },
        timing,
      };
    } finally {
      run.dispose();
    }
  } finally {
    x.dispose();
    classifier.dispose();
    integer?.dispose();
  }
}
