/**
 * Experiments from a config: validation, expansion into tasks with stable ids, the resumable runner, sharding
 * and merging of shards, the work queue on a Redis broker, and the typed records in `results.jsonl`.
 */
export {
  GRAD_MODES,
  loadExperimentConfig,
  validateExperimentConfig,
  type AttackConfig,
  type CompareConfig,
  type DiagnosticsConfig,
  type ExperimentConfig,
  type GradMode,
  type ModelConfig,
  type QuantizeConfig,
  type TransferConfig,
} from './config.js';
export { expandTasks, MODEL_KINDS, type ExperimentModel, type ExperimentPlan, type ModelRef, type Task, type TaskConfig, type TaskKind } from './tasks.js';
export { formatShard, parseShard, shardTasks, type Shard } from './shard.js';
export { configHash, stableStringify, taskId } from './stable-json.js';
export {
  EXPERIMENT_FILE,
  RESULTS_FILE,
  appendRecord,
  readExperimentFile,
  readResults,
  type ExperimentFile,
  type ResultRecord,
} from './results-file.js';
export { runExperiment, taskSeed, type RunEvent, type RunExperimentOptions, type RunSummary } from './runner.js';
export { runTask, type TaskRunInfo } from './run-task.js';
export { parseBrokerUrl, type BrokerUrl } from './queue/broker-url.js';
export { runExperimentOnQueue, type QueueRunOptions, type QueueRunSummary } from './queue/queue-run.js';
export { runQueueWorker, type QueueWorkerOptions, type QueueWorkerSummary, type WorkerEvent } from './queue/queue-worker.js';
export { DEFAULT_QUEUE_NAME, type RetryPolicy, type TaskJobData } from './queue/task-job.js';
export { mergeRuns, type MergeOptions, type MergeSummary } from './merge.js';
export type * from './result-types.js';
