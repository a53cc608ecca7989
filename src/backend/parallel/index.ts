/**
 * Data-parallel execution on worker threads: the TF.js wasm backend runs one thread in Node, so qrobust runs a
 * replica of the model in each of N−1 workers and splits every batch across them and the main thread.
 */
export {
  AUTO_MIN_SHARD_MACS,
  DataParallel,
  shardBounds,
  type DataParallelOptions,
  type InputGradientOutput,
  type Labels,
  type ShardTiming,
  type TrainStepOutput,
  type WeightGradientsOutput,
} from './data-parallel.js';
export {
  WorkerPool,
  WorkerError,
  WORKER_URL,
  MAX_DEFAULT_WORKERS,
  defaultWorkerCount,
  resolveWorkerCount,
  workerCountFromEnv,
} from './pool.js';
export { forwardMacsPerSample } from './replica.js';
export { INPUT_LOSSES, INPUT_LOSS_NAMES, isInputLossName, type InputLossName, type PerSampleLoss } from './losses.js';
export {
  registerShardLoss,
  registerShardTransform,
  shardLoss,
  shardTransform,
  type ShardLoss,
  type ShardParams,
  type ShardPlace,
  type ShardTransform,
  type TrainingObjective,
} from './shard-tasks.js';
