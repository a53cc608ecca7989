/** `qrobust train`: train an architecture from the zoo on a dataset and save it with its metadata. */
import { type CliIO, optNumber, optString, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { TrainingProgress } from '../training-progress.js';
import { trainAndSave } from '../../models/train-and-save.js';
import { parseBackendName } from '../../backend/backend.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const dataset = requireString(args, 'dataset', 'train');
  const arch = requireString(args, 'arch', 'train');
  const out = requireString(args, 'out', 'train');
  const backend = optString(args, 'backend');
  const progress = new TrainingProgress(io.stderr, 'train');
  const result = await trainAndSave({
    dataset,
    arch,
    out,
    epochs: optNumber(args, 'epochs')!,
    seed: optNumber(args, 'seed')!,
    batchSize: optNumber(args, 'batch-size')!,
    learningRate: optNumber(args, 'lr'),
    schedule: optString(args, 'schedule') as 'cosine' | 'constant',
    augmentation: optString(args, 'augment') as 'none' | 'crop-flip' | undefined,
    n: optNumber(args, 'n'),
    dataDir: optString(args, 'data-dir'),
    workers: optNumber(args, 'workers'),
    backend: backend ? parseBackendName(backend) : undefined,
    onStart: (info) => {
      io.stderr.write(
        `training ${info.arch} on ${info.dataset} (${info.trainCount} images, ${info.epochs} epochs, backend ${info.backend})\n`,
      );
      progress.start(info.epochs, info.stepsPerEpoch);
    },
    onStep: progress.onStep,
    onEpoch: progress.onEpoch,
  });
  io.stdout.write(
    `saved ${result.dir}: test accuracy ${(result.testAccuracy.accuracy * 100).toFixed(2)}% on ${result.testAccuracy.n} images ` +
      `(${result.testAccuracy.variant}); trained in ${result.trainSeconds.toFixed(1)} s\n`,
  );
  return EXIT_OK;
}
