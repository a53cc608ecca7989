/**
 * Accuracy-vs-ε curves read back from an experiment's records: for each model, which test images it labels
 * correctly, clean and under each ε of an attack (`attack` tasks with role `curve`), as 0/1 vectors over the
 * experiment's test slice, so that intervals and paired differences can be bootstrapped over the images.
 */
import { QrobustError } from '../core/errors.js';
import type { AttackTaskResult, DataResult } from '../experiments/result-types.js';
import type { ResultRecord } from '../experiments/results-file.js';

export interface CorrectnessCurve {
  readonly model: string;
  /** ε = 0 (clean) first, then the attack's grid in increasing order. */
  readonly eps: readonly number[];
  /** `correct[k][i]`: 1 when image i is labelled correctly at eps[k]. */
  readonly correct: readonly Uint8Array[];
}

function correctness(predictions: readonly number[], labels: readonly number[]): Uint8Array {
  return Uint8Array.from(labels, (y, i) => (predictions[i] === y ? 1 : 0));
}

/**
 * The curve of every model attacked with `attack`.
 * @throws QrobustError('invalid_argument') when the records hold no data slice or no such attack.
 */
export function correctnessCurves(records: readonly ResultRecord[], attack: string): Map<string, CorrectnessCurve> {
  const data = records.find((r) => r.kind === 'data')?.result as DataResult | undefined;
  if (!data) throw new QrobustError('invalid_argument', 'the results hold no data slice (is the run finished?)');
  const curves = new Map<string, CorrectnessCurve>();
  for (const r of records) {
    const c = r.config as { kind: string; role?: string; model?: { name: string }; attack?: { name: string } };
    if (r.kind !== 'attack' || c.role !== 'curve') continue;
    const name = c.attack?.name;
    if (name !== attack) continue;
    const res = r.result as AttackTaskResult;
    const points = [...res.points].sort((a, b) => a.eps - b.eps);
    curves.set(c.model!.name, {
      model: c.model!.name,
      eps: [0, ...points.map((p) => p.eps)],
      correct: [correctness(res.cleanPredictions, data.labels), ...points.map((p) => correctness(p.predictions, data.labels))],
    });
  }
  if (curves.size === 0) throw new QrobustError('invalid_argument', `the results hold no '${attack}' curves (is the run finished?)`);
  return curves;
}

/** Mean of a 0/1 vector over resampled indices (all of them when `indices` is null). */
export function meanAt(v: Uint8Array, indices: Int32Array | null): number {
  if (!indices) return v.reduce((a, b) => a + b, 0) / v.length;
  let s = 0;
  for (let i = 0; i < indices.length; i++) s += v[indices[i]!]!;
  return s / indices.length;
}
