/** The `eval` task: clean predictions of a model on the slice, and of its integer-exact path when it has one. */
import { classifierPredictions } from '../../models/classifier.js';
import { accuracyOf } from '../../models/prediction.js';
import type { TaskContext } from '../context.js';
import type { EvalResult } from '../result-types.js';
import type { Task } from '../tasks.js';
import { openClassifier, openIntegerClassifier } from './classifiers.js';
import { configOf, type TaskOutput } from './types.js';

export async function runEvalTask(task: Task, ctx: TaskContext): Promise<TaskOutput<EvalResult>> {
  const c = configOf(task, 'eval');
  const dir = await ctx.modelDir(c.model);
  const ds = await ctx.testSlice(c.data);
  const { classifier, quantized } = await openClassifier(dir, ds);
  let predictions: Int32Array;
  try {
    predictions = classifierPredictions(classifier, ds);
  } finally {
    classifier.dispose();
  }
  let integer: EvalResult['integer'] = null;
  const ic = quantized ? await openIntegerClassifier(dir) : null;
  if (ic) {
    try {
      const p = classifierPredictions(ic, ds);
      let same = 0;
      for (let i = 0; i < p.length; i++) if (p[i] === predictions[i]) same++;
      integer = { accuracy: accuracyOf(p, ds.labels).accuracy, predictions: Array.from(p), agreement: p.length ? same / p.length : 1 };
    } finally {
      ic.dispose();
    }
  }
  return { result: { accuracy: accuracyOf(predictions, ds.labels).accuracy, predictions: Array.from(predictions), integer } };
}
