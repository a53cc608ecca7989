/**
 * What a running task can use: the experiment's model directories (built on first use), seeded test slices
 * (loaded once), the backend, and a status line for the progress display.
 *
 * Model directories live in `<out>/models/<name>`, each with a marker file holding the id of the task that
 * built it. A directory is built in a scratch folder beside it and renamed into place when complete, so a run
 * killed mid-build leaves no half-written model behind; a directory whose marker names another task (the config
 * changed) is replaced.
 */
import { readFile, rm, rename, writeFile, mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { BackendName } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { loadDataset, type ImageDataset } from '../data/index.js';
import { weightsSha256 } from '../quant/quantized-dir.js';
import type { DataRef, ModelRef, Task } from './tasks.js';

export const MODELS_DIR = 'models';
export const TASK_MARKER = '.qrobust-task';

/** Builds the model directory of a train or quantize task at `dir` (which does not exist yet). */
export type ModelBuilder = (task: Task, dir: string, ctx: TaskContext) => Promise<void>;

export interface TaskContextOptions {
  readonly outDir: string;
  /** The folder `load` paths are relative to (the config file's folder). */
  readonly baseDir: string;
  readonly tasks: readonly Task[];
  readonly backend: BackendName;
  readonly dataDir?: string;
  readonly build: ModelBuilder;
  readonly onStatus?: (text: string) => void;
}

export class TaskContext {
  readonly outDir: string;
  readonly backend: BackendName;
  readonly dataDir: string | undefined;
  private readonly byId: ReadonlyMap<string, Task>;
  private readonly slices = new Map<string, Promise<ImageDataset>>();
  private readonly hashes = new Map<string, Promise<string>>();
  private readonly building = new Map<string, Promise<string>>();

  constructor(private readonly o: TaskContextOptions) {
    this.outDir = o.outDir;
    this.backend = o.backend;
    this.dataDir = o.dataDir;
    this.byId = new Map(o.tasks.map((t) => [t.id, t]));
  }

  status(text: string): void {
    this.o.onStatus?.(text);
  }

  task(id: string): Task {
    const t = this.byId.get(id);
    if (!t) throw new Error(`no task ${id} in this experiment`);
    return t;
  }

  /** Where a model task's directory is (without building it). */
  modelPath(id: string): string {
    const c = this.task(id).config;
    if (c.kind === 'load') return resolve(this.o.baseDir, c.path);
    if (c.kind === 'train' || c.kind === 'quantize') return join(this.outDir, MODELS_DIR, c.model);
    throw new Error(`task ${id} (${c.kind}) makes no model`);
  }

  /** The directory of a model, built first if it is missing or was built for another task. */
  async modelDir(ref: ModelRef | string): Promise<string> {
    const id = typeof ref === 'string' ? ref : ref.task;
    let p = this.building.get(id);
    if (!p) {
      p = this.ensureModel(id);
      this.building.set(id, p);
      p.catch(() => this.building.delete(id));
    }
    return p;
  }

  private async ensureModel(id: string): Promise<string> {
    const task = this.task(id);
    const dir = this.modelPath(id);
    if (task.config.kind === 'load') return dir;
    if ((await readMarker(dir)) === id) return dir;
    const scratch = join(dirname(dir), `.${basename(dir)}.partial`);
    await rm(scratch, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    this.status(task.label);
    await this.o.build(task, scratch, this);
    await writeFile(join(scratch, TASK_MARKER), id + '\n');
    await rm(dir, { recursive: true, force: true });
    await rename(scratch, dir);
    return dir;
  }

  /** SHA-256 of a model's weight files (what `qrobust merge` compares across shards). */
  async modelSha(id: string): Promise<string> {
    let p = this.hashes.get(id);
    if (!p) {
      p = this.modelDir(id).then((dir) => weightsSha256(dir));
      this.hashes.set(id, p);
    }
    return p;
  }

  /** The seeded slice of a test split (cached). */
  async testSlice(data: DataRef): Promise<ImageDataset> {
    const key = `${data.dataset}/${data.split}/${data.n}/${data.seed}`;
    let p = this.slices.get(key);
    if (!p) {
      p = loadDataset(data.dataset, data.split, { n: data.n, seed: data.seed, ...(this.dataDir ? { dataDir: this.dataDir } : {}) });
      this.slices.set(key, p);
      p.catch(() => this.slices.delete(key));
    }
    const ds = await p;
    if (ds.count < data.n) {
      throw new QrobustError('invalid_argument', `${data.dataset} ${data.split} has ${ds.count} images here (variant ${ds.variant}), fewer than the ${data.n} the experiment asks for`);
    }
    return ds;
  }
}

async function readMarker(dir: string): Promise<string | null> {
  try {
    return (await readFile(join(dir, TASK_MARKER), 'utf8')).trim();
  } catch {
    return null;
  }
}
