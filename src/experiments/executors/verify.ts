/**
 * The `verify` task: local robustness of a model's test samples at one L∞ radius, proved or refuted by the
 * verifiers of `src/verify` (`verifyModelDir`): sound bounds first, an attack for counterexamples, a complete
 * method last, each sample within its time limit. Quantized models are verified bit-precisely as their integer
 * program when they have one, else as their fake-quant model. Per-sample timings go to the record's `run`
 * section: a sample decided near its time limit may come out `unknown` on a slower machine.
 */
import type { TaskContext } from '../context.js';
import type { VerifyResult } from '../result-types.js';
import type { Task } from '../tasks.js';
import { openIntegerClassifier } from './classifiers.js';
import { configOf, type TaskOutput } from './types.js';

export async function runVerifyTask(task: Task, ctx: TaskContext): Promise<TaskOutput<VerifyResult>> {
  const c = configOf(task, 'verify');
  const { verifyModelDir } = await import('../../workflows/verify-model.js');
  const dir = await ctx.modelDir(c.model);
  let semantics: 'integer' | 'fake-quant' | undefined;
  if (c.model.quantized) {
    semantics = c.semantics;
    if (semantics === 'integer') {
      const integer = await openIntegerClassifier(dir);
      if (integer) integer.dispose();
      else semantics = 'fake-quant';
    }
  }
  const report = await verifyModelDir({
    dir,
    epsilon: c.eps,
    n: c.data.n,
    seed: c.data.seed,
    method: c.method as 'auto',
    timeout: c.timeout,
    ...(semantics ? { semantics } : {}),
    ...(ctx.dataDir ? { dataDir: ctx.dataDir } : {}),
    backend: ctx.backend,
    onSample: (_s, done, total) => ctx.status(`${task.label}: ${done}/${total}`),
  });
  return {
    result: {
      semantics: report.semantics,
      verified: report.summary.verified,
      falsified: report.summary.falsified,
      unknown: report.summary.unknown,
      samples: report.samples.map((s) => ({ index: s.index, label: s.label, outcome: s.outcome, method: s.method })),
    },
    timing: { seconds: report.summary.seconds, slowestSample: Math.max(0, ...report.samples.map((s) => s.seconds)) },
  };
}
