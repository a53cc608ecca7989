/**
 * The `transfer` task: adversarial examples crafted on a source model at every ε, then classified by every
 * target model (the threat model of Duncan et al. 2020 and Bernhard et al. 2019: the attacker knows the
 * full-precision model, the deployed one is quantized, or the other way round). Targets only classify, so their
 * gradient mode does not matter.
 */
import { getAttack } from '../../attacks/registry.js';
import { predict, runAttack } from '../../attacks/run.js';
import type { TaskContext } from '../context.js';
import type { TransferPoint, TransferResult } from '../result-types.js';
import type { Task } from '../tasks.js';
import { attackOptions } from './attack.js';
import { openClassifier, sliceTensors } from './classifiers.js';
import { configOf, type TaskOutput } from './types.js';

export async function runTransferTask(task: Task, ctx: TaskContext): Promise<TaskOutput<TransferResult>> {
  const c = configOf(task, 'transfer');
  const sourceDir = await ctx.modelDir(c.source);
  const targetDirs = await Promise.all(c.targets.map((t) => ctx.modelDir(t)));
  const ds = await ctx.testSlice(c.data);
  const { classifier: source } = await openClassifier(sourceDir, ds, c.grad);
  const { x, labels } = sliceTensors(ds);
  try {
    const run = runAttack(getAttack(c.attack.name), source, x, labels, { ...attackOptions(c.attack, c.seed), epsilons: [...c.eps] });
    try {
      const targetClean: Record<string, number[]> = {};
      const perEps = run.results.map(() => ({}) as Record<string, number[]>);
      for (let t = 0; t < c.targets.length; t++) {
        const name = c.targets[t]!.name;
        ctx.status(`${task.label}: classifying on ${name}`);
        const { classifier } = await openClassifier(targetDirs[t]!, ds);
        try {
          targetClean[name] = Array.from(predict(classifier, x));
          run.results.forEach((r, k) => (perEps[k]![name] = Array.from(predict(classifier, r.adversarial))));
        } finally {
          classifier.dispose();
        }
      }
      const points: TransferPoint[] = run.results.map((r, k) => ({ eps: r.epsilon, sourcePredictions: Array.from(r.predictions), targets: perEps[k]! }));
      const timing = Object.fromEntries(run.results.map((r) => [`eps=${r.epsilon}`, r.seconds]));
      return { result: { sourceCleanPredictions: Array.from(run.cleanPredictions), targetCleanPredictions: targetClean, points }, timing };
    } finally {
      run.dispose();
    }
  } finally {
    x.dispose();
    source.dispose();
  }
}
