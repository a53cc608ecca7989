/** The `data` task: the labels of the experiment's test slice, which dataset files it came from, and example images. */
import { describeDataset } from '../../data/index.js';
import type { TaskContext } from '../context.js';
import type { DataResult } from '../result-types.js';
import type { Task } from '../tasks.js';
import { datasetImages } from './images.js';
import { configOf, type TaskOutput } from './types.js';

export async function runDataTask(task: Task, ctx: TaskContext): Promise<TaskOutput<DataResult>> {
  const c = configOf(task, 'data');
  const ds = await ctx.testSlice(c.data);
  return {
    result: {
      dataset: describeDataset(ds),
      shape: ds.shape,
      classNames: ds.classNames,
      labels: Array.from(ds.labels),
      examples: datasetImages(ds, c.examples),
    },
  };
}
