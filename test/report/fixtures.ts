/**
 * A synthetic experiment directory for the report tests: hand-written records of a full-precision model and a
 * 4-bit variant on 8 samples, with predictions chosen so that every metric has a known value.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXPERIMENT_FILE, RECORD_FORMAT, RESULTS_FILE, type ResultRecord } from '../../src/experiments/results-file.js';
import type { AttackPoint, AttackTaskResult, CompareResult, DataResult, EvalResult, GradientsResult, ModelResult, QuantizeResult, TransferResult } from '../../src/experiments/result-types.js';
import { taskId } from '../../src/experiments/stable-json.js';
import type { DataRef, ModelRef, TaskConfig } from '../../src/experiments/tasks.js';
import { makeQuantSpec } from '../../src/quant/spec.js';

export const LABELS = [0, 1, 2, 3, 4, 5, 6, 7];
const data: DataRef = { dataset: 'mnist', split: 'test', n: 8, seed: 0 };
const fp: ModelRef = { name: 'fp', task: 'f'.repeat(16), quantized: false };
const q: ModelRef = { name: 'fp-w4', task: 'e'.repeat(16), quantized: true };

/** A 4×4 grey image, base64, every pixel `v`. */
function image(v: number): string {
  return Buffer.alloc(16, v).toString('base64');
}

function record(config: TaskConfig, label: string, result: unknown, id = taskId(config)): ResultRecord {
  return {
    format: RECORD_FORMAT,
    version: 1,
    id,
    kind: config.kind,
    label,
    config,
    seed: 0,
    inputs: {},
    versions: { qrobust: '0.1.0', node: '20' },
    result,
    run: { seconds: 0.1, finishedAt: '2026-01-01T00:00:00.000Z', shard: null },
  };
}

function point(eps: number, predictions: number[]): AttackPoint {
  const robust = predictions.filter((p, i) => p === LABELS[i]).length / LABELS.length;
  return { eps, robustAccuracy: robust, successRate: 1 - robust, meanPerturbation: eps, meanQueries: 2, predictions, integer: null, examples: [image(200), image(90)] };
}

function attack(name: string, model: ModelRef, grad: 'exact' | 'ste' | null, points: AttackPoint[], role: 'curve' | 'large-eps' = 'curve'): ResultRecord {
  const config: TaskConfig = {
    kind: 'attack',
    role,
    model,
    grad,
    attack: { name, norm: 'linf', options: name === 'pgd' ? { steps: 10 } : {} },
    eps: points.map((p) => p.eps),
    integerCheck: false,
    data,
    examples: 2,
    seed: 0,
  };
  const result: AttackTaskResult = { cleanAccuracy: 1, cleanPredictions: LABELS, integerCleanPredictions: null, points };
  return record(config, `attack ${name} on ${model.name}${grad ? ` (${grad})` : ''}`, result);
}

/** The records; see the comments for the values each metric must come out with. */
export function syntheticRecords(): ResultRecord[] {
  const spec = makeQuantSpec({ weights: { bits: 4 } });
  const fpModel: ModelResult = { dir: 'models/fp', dataset: 'mnist', arch: 'mlp-tiny', quantized: false, testAccuracy: { split: 'test', variant: 'canonical', n: 10000, accuracy: 0.97 }, weightsSha256: 'a'.repeat(64) };
  const qModel: QuantizeResult = { ...fpModel, dir: 'models/fp-w4', quantized: true, testAccuracy: null, parent: 'fp', variant: 'w4', label: 'w4', spec, integerExecutable: false, qat: null };
  const dataResult: DataResult = {
    dataset: { name: 'mnist', split: 'test', variant: 'canonical', canonical: true, count: 8, sourceCount: 10000, selection: { method: 'random', n: 8, seed: 0 }, files: [] },
    shape: [4, 4, 1],
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    labels: LABELS,
    examples: [image(255), image(0)],
  };
  const evalFp: EvalResult = { accuracy: 1, predictions: LABELS, integer: null };
  const evalQ: EvalResult = { accuracy: 7 / 8, predictions: [0, 1, 2, 3, 4, 5, 6, 0], integer: null };
  // Transfer fp → fp-w4 at ε=0.1. The source is fooled on samples 0-5 (6, 7 keep their label); the target is
  // correct clean on 0-6, so n = 6 (samples 0-5): kept on 0 and 1, same wrong label on 2, 3 and 4, other on 5.
  const transfer: TransferResult = {
    sourceCleanPredictions: LABELS,
    targetCleanPredictions: { 'fp-w4': [0, 1, 2, 3, 4, 5, 6, 0] },
    points: [{ eps: 0.1, sourcePredictions: [9, 9, 9, 9, 9, 9, 6, 7], targets: { 'fp-w4': [0, 1, 9, 9, 9, 8, 6, 0] } }],
  };
  const transferConfig: TaskConfig = { kind: 'transfer', source: fp, grad: null, targets: [q], attack: { name: 'pgd', norm: 'linf', options: { steps: 10 } }, eps: [0.1], data, seed: 0 };
  const gradients = (model: ModelRef, grad: 'exact' | 'ste' | null, zero: number): ResultRecord => {
    const g: GradientsResult = { n: 8, zeroSamples: zero, zeroCoordinates: zero, meanL1: zero === 1 ? 0 : 20, meanL2: zero === 1 ? 0 : 1 };
    return record({ kind: 'gradients', model, grad, data }, `gradients ${model.name}`, g);
  };
  const compare: CompareResult = {
    n: 8,
    eps: 0.1,
    layers: [
      { layer: 'dense_1', elements: 256, cleanShift: 0.02, fpPerturbation: 0.4, qPerturbation: 0.3, perturbationRatio: 0.75, binChangeRate: null },
      { layer: 'logits', elements: 80, cleanShift: 0.05, fpPerturbation: 0.8, qPerturbation: 1.2, perturbationRatio: 1.5, binChangeRate: null },
    ],
    alignment: { n: 8, meanCosine: 0.8, medianCosine: 0.82, undefinedCosine: 0, meanSignAgreement: 0.7 },
    loss: { fp: 0.1, q: 0.15, measured: 0.05, firstOrderWeights: 0.04 },
  };
  return [
    record({ kind: 'data', data, examples: 2 }, 'data mnist', dataResult),
    record({ kind: 'load', model: 'fp', path: 'fp', quantized: false }, 'load fp', fpModel, fp.task),
    record({ kind: 'quantize', model: 'fp-w4', parent: fp, variant: 'w4', spec, qat: null, calibrationN: 1000, seed: 0 }, 'quantize fp-w4', qModel, q.task),
    record({ kind: 'eval', model: fp, data }, 'eval fp', evalFp),
    record({ kind: 'eval', model: q, data }, 'eval fp-w4', evalQ),
    gradients(fp, null, 0),
    gradients(q, 'exact', 1),
    gradients(q, 'ste', 0),
    // FP: FGSM 50% then 25%; PGD 25% then 0% (iterative stronger: no flag).
    attack('fgsm', fp, null, [point(0.1, [0, 1, 2, 3, 9, 9, 9, 9]), point(0.2, [0, 1, 9, 9, 9, 9, 9, 9])]),
    attack('pgd', fp, null, [point(0.1, [0, 1, 9, 9, 9, 9, 9, 9]), point(0.2, [9, 9, 9, 9, 9, 9, 9, 9])]),
    // Variant, exact gradient: FGSM 75% beats PGD 87.5% at ε=0.1 (single-step flag); PGD rises to 100% at 0.2 (monotonic flag).
    attack('fgsm', q, 'exact', [point(0.1, [0, 1, 2, 3, 4, 5, 9, 9]), point(0.2, [0, 1, 2, 3, 4, 5, 9, 9])]),
    attack('pgd', q, 'exact', [point(0.1, [0, 1, 2, 3, 4, 5, 6, 9]), point(0.2, [0, 1, 2, 3, 4, 5, 6, 7])]),
    // Variant, STE: FGSM 37.5% at both ε, so its curve crosses the FP one (50%, 25%) between 0.1 and 0.2; PGD 37.5% then 12.5%.
    attack('fgsm', q, 'ste', [point(0.1, [0, 1, 2, 9, 9, 9, 9, 9]), point(0.2, [0, 1, 2, 9, 9, 9, 9, 9])]),
    attack('pgd', q, 'ste', [point(0.1, [0, 1, 2, 9, 9, 9, 9, 9]), point(0.2, [0, 9, 9, 9, 9, 9, 9, 9])]),
    attack('pgd', fp, null, [point(1, [9, 9, 9, 9, 9, 9, 9, 9])], 'large-eps'),
    attack('pgd', q, 'exact', [point(1, [0, 1, 2, 3, 4, 5, 6, 9])], 'large-eps'),
    attack('pgd', q, 'ste', [point(1, [9, 9, 9, 9, 9, 9, 9, 9])], 'large-eps'),
    record(transferConfig, 'transfer pgd from fp', transfer),
    record({ kind: 'compare', fp, q, eps: 0.1, data, seed: 0 }, 'compare fp with fp-w4', compare),
  ];
}

/** Writes the records (and an experiment file listing them, plus one unfinished task) into `dir`. */
export async function writeSyntheticExperiment(dir: string): Promise<ResultRecord[]> {
  const records = syntheticRecords();
  const tasks = [...records.map((r) => ({ id: r.id, kind: r.kind, label: r.label })), { id: '0'.repeat(16), kind: 'eval', label: 'an unfinished task' }];
  await writeFile(join(dir, EXPERIMENT_FILE), JSON.stringify({ format: 'qrobust-experiment', version: 1, name: 'synthetic', configHash: 'c'.repeat(64), config: {}, tasks }));
  await writeFile(join(dir, RESULTS_FILE), records.map((r) => JSON.stringify(r) + '\n').join(''));
  return records;
}
