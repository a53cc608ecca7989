/**
 * The `gradients` task: statistics of the input gradient of the cross-entropy for one model and gradient mode
 * (share of all-zero gradients, share of zero coordinates, mean L1 and L2 norms), for Athalye et al.'s
 * zero-gradient check and Song et al.'s first-order adversarial-loss criterion.
 */
import { tf } from '../../backend/tf.js';
import { lossGradient } from '../../attacks/losses.js';
import { GradientStats, type GradientSummary } from '../../metrics/gradient-alignment.js';
import type { TaskContext } from '../context.js';
import type { Task } from '../tasks.js';
import { openClassifier, sliceTensors } from './classifiers.js';
import { configOf, type TaskOutput } from './types.js';

const BATCH = 100;

export async function runGradientsTask(task: Task, ctx: TaskContext): Promise<TaskOutput<GradientSummary>> {
  const c = configOf(task, 'gradients');
  const dir = await ctx.modelDir(c.model);
  const ds = await ctx.testSlice(c.data);
  const { classifier } = await openClassifier(dir, ds, c.grad);
  const { x, labels } = sliceTensors(ds);
  const stats = new GradientStats();
  try {
    for (let s = 0; s < labels.length; s += BATCH) {
      const m = Math.min(BATCH, labels.length - s);
      const xb = tf.slice(x, s, m);
      const yb = tf.tensor1d(labels.subarray(s, s + m), 'int32');
      const g = lossGradient(classifier, xb, yb, null, 'ce');
      stats.add(g.grad.dataSync() as Float32Array, m);
      tf.dispose([xb, yb, g.grad, g.logits, g.loss]);
    }
  } finally {
    x.dispose();
    classifier.dispose();
  }
  return { result: stats.summary() };
}
