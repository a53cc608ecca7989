/**
 * Model tasks. `buildModel` makes the directory of a `train` task (`trainAndSave`) or a `quantize` task
 * (`quantizeDir` on the parent, post-training or with quantization-aware training); the executors then describe
 * the directory in the record: where it is, what it is, the SHA-256 of its weights and its recorded accuracy.
 */
import { relative } from 'node:path';
import { readMetadata } from '../../models/metadata.js';
import { trainAndSave } from '../../models/train-and-save.js';
import { quantizeDir } from '../../workflows/quantize-model.js';
import type { QuantizationRecord } from '../../quant/quantized-dir.js';
import type { TaskContext } from '../context.js';
import type { ModelResult, QuantizeResult } from '../result-types.js';
import type { Task } from '../tasks.js';
import { configOf, type TaskOutput } from './types.js';

function stepStatus(label: string): (p: { epoch: number; epochs: number; step: number; stepsPerEpoch: number; loss: number }) => string {
  return (p) => `${label}: epoch ${p.epoch + 1}/${p.epochs}, step ${p.step + 1}/${p.stepsPerEpoch}, loss ${p.loss.toFixed(3)}`;
}

/** Writes the model directory of a `train` or `quantize` task into `dir`. */
export async function buildModel(task: Task, dir: string, ctx: TaskContext): Promise<void> {
  const dataDir = ctx.dataDir ? { dataDir: ctx.dataDir } : {};
  const status = stepStatus(task.label);
  if (task.config.kind === 'train') {
    const t = task.config.train;
    await trainAndSave({
      dataset: t.dataset,
      arch: t.arch,
      out: dir,
      epochs: t.epochs,
      seed: t.seed,
      ...(t.n !== null ? { n: t.n } : {}),
      ...(t.batchSize !== null ? { batchSize: t.batchSize } : {}),
      ...(t.learningRate !== null ? { learningRate: t.learningRate } : {}),
      ...dataDir,
      backend: ctx.backend,
      onStep: (p) => ctx.status(status(p)),
    });
    return;
  }
  const c = configOf(task, 'quantize');
  const parent = await ctx.modelDir(c.parent);
  const q = c.qat;
  await quantizeDir({
    dir: parent,
    out: dir,
    specs: [c.spec],
    ...(q
      ? {
          qat: {
            epochs: q.epochs,
            ...(q.n !== null ? { n: q.n } : {}),
            ...(q.learningRate !== null ? { learningRate: q.learningRate } : {}),
            ...(q.batchSize !== null ? { batchSize: q.batchSize } : {}),
            onStep: (p) => ctx.status(status(p)),
          },
        }
      : {}),
    calibN: c.calibrationN,
    seed: c.seed,
    evalN: 0,
    ...dataDir,
    backend: ctx.backend,
  });
}

async function describeModel(task: Task, ctx: TaskContext): Promise<{ base: ModelResult; quantization: QuantizationRecord | null }> {
  const dir = await ctx.modelDir(task.id);
  const meta = await readMetadata(dir);
  const quantization = (meta['quantization'] as QuantizationRecord | undefined) ?? null;
  const c = task.config;
  return {
    base: {
      dir: c.kind === 'load' ? c.path : relative(ctx.outDir, dir),
      dataset: meta.dataset,
      arch: meta.arch,
      quantized: quantization !== null,
      testAccuracy: quantization ? (quantization.accuracy?.fakeQuant ?? null) : (meta.testAccuracy ?? null),
      weightsSha256: await ctx.modelSha(task.id),
    },
    quantization,
  };
}

/** `train` and `load` tasks: the model directory and what it records about itself. */
export async function runModelTask(task: Task, ctx: TaskContext): Promise<TaskOutput<ModelResult>> {
  return { result: (await describeModel(task, ctx)).base };
}

export async function runQuantizeTask(task: Task, ctx: TaskContext): Promise<TaskOutput<QuantizeResult>> {
  const c = configOf(task, 'quantize');
  const { base, quantization } = await describeModel(task, ctx);
  if (!quantization) throw new Error(`${base.dir}: quantize wrote a model without a quantization record`);
  return {
    result: {
      ...base,
      parent: c.parent.name,
      variant: c.variant,
      label: quantization.label,
      spec: quantization.spec,
      integerExecutable: quantization.integerExecutable,
      qat: quantization.qat ? { epochs: quantization.qat.epochs, trainCount: quantization.qat.trainCount } : null,
    },
  };
}
