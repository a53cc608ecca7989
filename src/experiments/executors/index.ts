/** The executor of every task kind, and the builder of model directories. */
import type { TaskKind } from '../tasks.js';
import { runAdaptiveTask } from './adaptive.js';
import { runAttackTask } from './attack.js';
import { runCompareTask } from './compare.js';
import { runDataTask } from './data.js';
import { runEvalTask } from './eval.js';
import { runGradientsTask } from './gradients.js';
import { buildModel, runModelTask, runQuantizeTask } from './models.js';
import { runTransferTask } from './transfer.js';
import { runVerifyTask } from './verify.js';
import type { Executor } from './types.js';

export const EXECUTORS: Readonly<Record<TaskKind, Executor>> = {
  data: runDataTask,
  train: runModelTask,
  load: runModelTask,
  quantize: runQuantizeTask,
  eval: runEvalTask,
  gradients: runGradientsTask,
  attack: runAttackTask,
  transfer: runTransferTask,
  compare: runCompareTask,
  verify: runVerifyTask,
  adaptive: runAdaptiveTask,
};

export { buildModel };
export type { Executor, TaskOutput } from './types.js';
