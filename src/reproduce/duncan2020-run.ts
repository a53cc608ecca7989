/**
 * The duncan2020 run: its own resumable loop rather than tasks of the experiment runner, because the runner's
 * task kinds have no search whose records hold what two models said about one input's explored images, and
 * adding a task kind touches the planner, the executors, merge and report for one paper.
 *
 * The loop keeps the runner's conventions: `results.jsonl` in the output directory, one record per finished
 * search (one test image at one (MANIP, R)), appended and flushed the moment it finishes, in the runner's
 * record format (`kind: 'search'`, its config, seed, the SHA-256 of both source files, versions, result, run
 * time); an interrupted run drops a torn last line and runs only the searches without a record; the runner's
 * lock file keeps two runs out of one directory; `--shard K/N` runs every N-th search (shard folders are combined
 * by concatenating their `results.jsonl` into one folder and running once more there).
 *
 * Both networks are imported from the authors' files (`../shared/models/duncan2020`, or `modelsDir`) into
 * `<out>/models/fp` (the Keras weights on `dense:256,256,10`) and `<out>/models/qnn` (the TFLite file, run in
 * its deployed dynamic-range semantics) unless those directories exist already.
 */
import { access, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dlvSearch, type DlvEnd, type DlvSearchResult } from '../attacks/dlv-search.js';
import { dlvSearchOutcome } from '../attacks/dlv-transfer.js';
import { predictImages } from '../attacks/host-queries.js';
import { initBackend, type BackendName } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { versions } from '../core/versions.js';
import { findSiblingMirror, loadDataset } from '../data/index.js';
import { appendRecord, readResults, RECORD_FORMAT, RESULTS_FILE, type ResultRecord } from '../experiments/results-file.js';
import { acquireLock, type RunEvent, type RunSummary } from '../experiments/runner.js';
import { formatShard, type Shard } from '../experiments/shard.js';
import { readMetadata } from '../models/metadata.js';
import { loadClassifier } from '../quant/load-classifier.js';
import { importModel } from '../workflows/import-model.js';
import type { Budget } from './budget.js';
import { DUNCAN_FP_FILE, DUNCAN_MODELS_SUBDIR, DUNCAN_QNN_FILE, DUNCAN_SETTINGS, searchId, searchSeed, type DuncanSettings } from './duncan2020-settings.js';

export interface DuncanRunOptions {
  readonly budget: Budget;
  readonly out: string;
  readonly shard?: Shard | null;
  readonly dataDir?: string;
  /** Where the authors' two files are (default: `models/duncan2020` beside the shared datasets folder). */
  readonly modelsDir?: string;
  readonly backend?: BackendName;
  readonly onEvent?: (event: RunEvent) => void;
  /** Other settings than the budget's (library use: a measurement between smoke and full). */
  readonly settings?: DuncanSettings;
}

/** The result of one search record. */
export interface DuncanSearchResult {
  readonly index: number;
  readonly label: number;
  /** The quantized network's label for the clean image (the full-precision one is correct by selection). */
  readonly quantizedClean: number;
  readonly ended: DlvEnd;
  /** |S(x)|; how many of it the quantized network was shown (all for an FP-robust input unless it got one wrong, none otherwise), and got right. */
  readonly explored: number;
  readonly checked: number;
  readonly quantizedCorrect: number;
  /** The adversarial image the search reports (the authors' one per input): FP label, quantized label, L1 distance. */
  readonly best: { readonly fp: number; readonly quantized: number; readonly l1: number } | null;
  /** Every distinct FP adversarial image found, split by the quantized label: kept, same wrong, other. */
  readonly allAdversarial: { readonly n: number; readonly kept: number; readonly sameWrong: number; readonly otherWrong: number };
  readonly counts: DlvSearchResult['counts'];
}

export interface DuncanSearchConfig {
  readonly kind: 'search';
  readonly paper: 'duncan2020';
  readonly index: number;
  readonly manip: number;
  readonly radius: number;
  readonly search: Readonly<Record<string, unknown>>;
}

export type DuncanRecord = Omit<ResultRecord<DuncanSearchResult>, 'kind' | 'config'> & { readonly kind: 'search'; readonly config: DuncanSearchConfig };

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The folder holding the authors' files. */
async function modelsFolder(o: DuncanRunOptions): Promise<string> {
  const mirror = findSiblingMirror();
  const dir = o.modelsDir ?? (mirror ? join(dirname(mirror), 'models', DUNCAN_MODELS_SUBDIR) : null);
  for (const f of [DUNCAN_FP_FILE, DUNCAN_QNN_FILE]) {
    if (!dir || !(await exists(join(dir, f)))) {
      throw new QrobustError('io_error', `reproduce duncan2020: ${f} not found${dir ? ` in ${dir}` : ' (no shared models folder beside the datasets)'}: the authors' networks are needed (models/duncan2020 of the shared folder)`);
    }
  }
  return dir!;
}

/** Imports both networks into `<out>/models` unless already there; their source SHA-256s by name. */
async function importNetworks(o: DuncanRunOptions, from: string, status: (t: string) => void): Promise<{ fp: string; qnn: string; sha: Record<string, string> }> {
  const fp = join(o.out, 'models', 'fp');
  const qnn = join(o.out, 'models', 'qnn');
  const common = { dataset: 'cifar10', layout: 'flat-nchw' as const, n: 100, ...(o.dataDir ? { dataDir: o.dataDir } : {}), ...(o.backend ? { backend: o.backend } : {}) };
  if (!(await exists(join(fp, 'qrobust.json')))) {
    status('importing the full-precision network');
    await importModel({ ...common, file: join(from, DUNCAN_FP_FILE), arch: 'dense:256,256,10', out: fp });
  }
  if (!(await exists(join(qnn, 'qrobust.json')))) {
    status('importing the quantized network');
    await importModel({ ...common, file: join(from, DUNCAN_QNN_FILE), out: qnn });
  }
  const shaOf = async (dir: string): Promise<string> => String(((await readMetadata(dir)) as unknown as { source?: { sha256?: string } }).source?.sha256 ?? '');
  return { fp, qnn, sha: { fp: await shaOf(fp), qnn: await shaOf(qnn) } };
}

export async function runDuncan(o: DuncanRunOptions): Promise<RunSummary> {
  const started = Date.now();
  const s = o.settings ?? DUNCAN_SETTINGS[o.budget];
  const status = (text: string): void => o.onEvent?.({ type: 'status', text });
  await initBackend(o.backend);
  await mkdir(o.out, { recursive: true });
  const release = await acquireLock(o.out);
  try {
    return await runLocked(o, s, status, started);
  } finally {
    await release();
  }
}

async function runLocked(o: DuncanRunOptions, s: DuncanSettings, status: (t: string) => void, started: number): Promise<RunSummary> {
  const nets = await importNetworks(o, await modelsFolder(o), status);
  const test = await loadDataset('cifar10', 'test', o.dataDir ? { dataDir: o.dataDir } : {});
  const count = Math.min(s.images, test.count);
  const [h, w, c] = test.shape;
  const d = h * w * c;
  const pixels = Float32Array.from(test.pixels.subarray(0, count * d), (v) => v / 255);
  const fp = (await loadClassifier(nets.fp)).classifier;
  const qnn = (await loadClassifier(nets.qnn, { integer: true })).classifier;
  try {
    const fpClean = predictImages(fp, pixels, count);
    const qClean = predictImages(qnn, pixels, count);
    const searched = Array.from({ length: count }, (_, i) => i).filter((i) => fpClean[i] === test.labels[i]);
    const tasks = s.pairs.flatMap(([manip, radius]) => searched.map((index) => ({ index, manip, radius, id: searchId(index, manip, radius, s.search.maxQueries!) })));
    const share = o.shard ? tasks.filter((_, i) => i % o.shard!.count === o.shard!.index - 1) : tasks;
    const file = join(o.out, RESULTS_FILE);
    const { records, tornBytes } = await readResults(file, { repair: true });
    const finished = new Set(records.map((r) => r.id));
    const todo = share.filter((t) => !finished.has(t.id));
    o.onEvent?.({ type: 'start', tasks: tasks.length, inShard: share.length, finished: share.length - todo.length, todo: todo.length, configChanged: false, tornBytes });
    for (const [k, t] of todo.entries()) {
      status(`search MANIP ${t.manip}, R ${t.radius}, test image ${t.index} (${k + 1}/${todo.length})`);
      const t0 = Date.now();
      const seed = searchSeed(s.seed, t.index, t.manip, t.radius);
      const label = test.labels[t.index]!;
      const x = pixels.subarray(t.index * d, (t.index + 1) * d);
      const search = dlvSearch(fp, x, label, { ...s.search, manip: t.manip, radius: t.radius }, new Rng(seed));
      // S(x) enters relative robustness only for an FP-robust input, and one wrong label decides it.
      const outcome = dlvSearchOutcome(qnn, x, label, search, search.best ? 'none' : 'until-wrong');
      const all = { n: outcome.adversarial.length, kept: 0, sameWrong: 0, otherWrong: 0 };
      for (const a of outcome.adversarial) {
        if (a.quantized === label) all.kept++;
        else if (a.quantized === a.fp) all.sameWrong++;
        else all.otherWrong++;
      }
      const record: DuncanRecord = {
        format: RECORD_FORMAT,
        version: 1,
        id: t.id,
        kind: 'search',
        label: `dlv search MANIP ${t.manip} R ${t.radius} on test image ${t.index}`,
        config: { kind: 'search', paper: 'duncan2020', index: t.index, manip: t.manip, radius: t.radius, search: { ...s.search } },
        seed,
        inputs: nets.sha,
        versions: versions(),
        result: {
          index: t.index,
          label,
          quantizedClean: qClean[t.index]!,
          ended: search.ended,
          explored: outcome.explored,
          checked: outcome.checked,
          quantizedCorrect: outcome.quantizedCorrect,
          best: outcome.best,
          allAdversarial: all,
          counts: search.counts,
        },
        run: { seconds: (Date.now() - t0) / 1000, finishedAt: new Date().toISOString(), shard: o.shard ? formatShard(o.shard) : null },
      };
      await appendRecord(file, record as unknown as ResultRecord);
    }
    return {
      out: o.out,
      tasks: tasks.length,
      inShard: share.length,
      skipped: share.length - todo.length,
      ran: todo.length,
      seconds: (Date.now() - started) / 1000,
      shard: o.shard ? formatShard(o.shard) : null,
    };
  } finally {
    fp.dispose();
    qnn.dispose();
  }
}
