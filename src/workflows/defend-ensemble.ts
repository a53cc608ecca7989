/**
 * `defend --method ensemble`: an ensemble directory over the parent (if given), its post-training quantized
 * versions at each of `bits` (written under `out/<label>`) and the given member directories, evaluated on the
 * test split.
 */
import { join } from 'node:path';
import { initBackend } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { loadDataset } from '../data/index.js';
import { classifierAccuracy } from '../models/classifier.js';
import type { EvaluationRecord } from '../models/metadata.js';
import { loadClassifier } from '../quant/load-classifier.js';
import { quantizeDir } from './quantize-model.js';
import { makeQuantSpec, specLabel } from '../quant/spec.js';
import { ENSEMBLE_ARCH, saveEnsembleDir } from '../defenses/ensemble-dir.js';
import type { DefendOptions, DefendResult, DefenseRecord } from './defend.js';

const ADVERSARIAL_ONLY = ['epsilon', 'steps', 'stepSize', 'beta', 'epochs', 'n', 'batchSize', 'learningRate', 'workers'] as const;
const FLAG: Record<(typeof ADVERSARIAL_ONLY)[number], string> = {
  epsilon: 'eps',
  steps: 'steps',
  stepSize: 'step-size',
  beta: 'beta',
  epochs: 'epochs',
  n: 'n',
  batchSize: 'batch-size',
  learningRate: 'lr',
  workers: 'workers',
};

export async function defendEnsemble(o: DefendOptions): Promise<DefendResult> {
  const stray = ADVERSARIAL_ONLY.find((k) => o[k] !== undefined);
  if (stray) throw new QrobustError('invalid_option', `--${FLAG[stray]} is for adversarial training, not --method ensemble`);
  if (o.bits?.length && o.dir === undefined) throw new QrobustError('invalid_option', '--bits with --method ensemble quantizes the parent: give DIR');
  const start = performance.now();
  await initBackend(o.backend);
  const seed = o.seed ?? 0;
  const members: string[] = o.dir !== undefined ? [o.dir] : [];
  for (const bits of o.bits ?? []) {
    const spec = makeQuantSpec({ weights: { bits } });
    const out = join(o.out, specLabel(spec));
    await quantizeDir({ dir: o.dir!, out, specs: [spec], seed, evalN: o.evalN ?? 0, ...(o.dataDir ? { dataDir: o.dataDir } : {}) });
    members.push(out);
  }
  members.push(...(o.members ?? []));
  const combine = o.combine ?? 'mean-probabilities';
  const defense: DefenseRecord = {
    method: 'ensemble',
    parent: o.dir ?? null,
    seed,
    combine,
    ...(o.bits?.length ? { bits: o.bits } : {}),
    members,
  };
  const meta = await saveEnsembleDir({ out: o.out, members, combine, seed, extra: { defense } });
  let testAccuracy: EvaluationRecord | undefined;
  if (o.evalN !== 0) {
    const test = await loadDataset(meta.dataset, 'test', o.evalN !== undefined ? { dataDir: o.dataDir, n: o.evalN, seed } : { dataDir: o.dataDir });
    const { classifier } = await loadClassifier(o.out);
    try {
      testAccuracy = { split: 'test', variant: test.variant, n: test.count, accuracy: classifierAccuracy(classifier, test).accuracy };
    } finally {
      classifier.dispose();
    }
    await saveEnsembleDir({ out: o.out, members, combine, seed, extra: { defense }, testAccuracy });
  }
  return { method: 'ensemble', models: [{ dir: o.out, label: ENSEMBLE_ARCH, ...(testAccuracy ? { testAccuracy } : {}), seconds: (performance.now() - start) / 1000 }] };
}
