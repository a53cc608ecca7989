/**
 * `qrobust verify` on an ensemble directory (Bernhard et al.'s bit-width ensembles): local robustness of the
 * ensemble as deployed, each quantized member on its integer path and each full-precision member as its float
 * model, decided from its members' own verification.
 *
 * - **verified**: by the combination rule alone. Each member's `unsat` proves that its label score beats every
 *   other class strictly over the whole ball (in the member's own semantics). With `mean-probabilities`, every
 *   member verified gives p_k(label) > p_k(j) for every member k and class j, hence the mean probability of the
 *   label beats every other class (exact in real arithmetic; the ensemble's float32 log-mean-exp is not covered,
 *   and the report says so). With `majority-vote`, m > K/2 verified members give the label at least m votes and
 *   any other class at most K − m ≤ m − 1; the tie-breaking term adds less than 1/2, so the label wins in float32
 *   as well. Nothing weaker is used: a member that is not verified counts as a possible vote for any class.
 * - **falsified**: the image itself is misclassified by the deployed ensemble, or a point of the ball is:
 *   candidates are the members' re-checked counterexamples (method `member-cex`) and a PGD attack through the
 *   members' fake-quant (STE) models combined by mean probability (`pgd-ste`); each is judged by the deployed
 *   ensemble's own logits.
 * - **unknown** otherwise.
 *
 * Members are verified on the same test images (by test-set index), each with the per-sample time limit; a
 * member's run skips the samples that the combination rule can no longer verify.
 */
import { attack } from '../attacks/run.js';
import { tf } from '../backend/tf.js';
import { initBackend } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { describeDataset, loadDataset, select, type ImageDataset } from '../data/index.js';
import { EnsembleClassifier, type EnsembleCombine } from '../defenses/ensemble.js';
import { ensembleMemberDirs, ensembleRecordOf } from '../defenses/ensemble-dir.js';
import type { Classifier } from '../models/classifier.js';
import type { ModelMetadata } from '../models/metadata.js';
import { loadClassifier } from '../quant/load-classifier.js';
import { localRobustnessCase, isUnsafe } from '../verify/property.js';
import type { SampleOutcome, SampleVerdict, VerifyDirOptions, VerifyDirReport } from './verify-model.js';

/** What one member's verification said of one sample. */
export interface MemberVerdict {
  readonly member: string;
  /** 'skipped' when the combination rule could no longer verify the sample, so the member was not run on it. */
  readonly outcome: SampleOutcome | 'skipped';
  readonly verdict: string;
  readonly seconds: number;
}

/** The verified members a combination needs: all of them for mean probabilities, a strict majority for a vote. */
export function membersNeeded(combine: EnsembleCombine, members: number): number {
  return combine === 'mean-probabilities' ? members : Math.floor(members / 2) + 1;
}

/** Whether the combination rule proves the ensemble robust from its members' outcomes. */
export function ensembleVerified(combine: EnsembleCombine, outcomes: readonly (SampleOutcome | 'skipped')[]): boolean {
  return outcomes.filter((o) => o === 'verified').length >= membersNeeded(combine, outcomes.length);
}

/** The deployed ensemble's logits at one point. */
function logitsAt(c: Classifier, x: Float32Array): Float32Array {
  const t = tf.tensor4d(x, [1, ...c.inputShape]);
  const y = c.logits(t);
  const out = y.dataSync() as Float32Array;
  tf.dispose([t, y]);
  return out;
}

function inBox(x: Float32Array, lower: Float64Array, upper: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (!(x[i]! >= lower[i]! && x[i]! <= upper[i]!)) return false;
  return true;
}

async function testImages(meta: ModelMetadata, o: VerifyDirOptions): Promise<ImageDataset> {
  if (!o.indices) return loadDataset(meta.dataset, 'test', { dataDir: o.dataDir, n: o.n ?? 100, seed: o.seed ?? 0 });
  const all = await loadDataset(meta.dataset, 'test', { dataDir: o.dataDir });
  const past = o.indices.find((i) => !Number.isInteger(i) || i < 0 || i >= all.count);
  if (past !== undefined) throw new QrobustError('invalid_option', `--indices: index ${past} is not one of the ${all.count} ${meta.dataset} test images`);
  return select(all, o.indices);
}

/**
 * Verifies an ensemble directory (called by `verifyModelDir` for directories with an `ensemble` record).
 * @throws QrobustError for `semantics: 'fake-quant'` (an ensemble verifies as deployed only), or what a member's
 *   verification throws.
 */
export async function verifyEnsembleDir(
  o: VerifyDirOptions,
  meta: ModelMetadata,
  verifyMember: (options: VerifyDirOptions) => Promise<VerifyDirReport>,
): Promise<VerifyDirReport> {
  if (o.semantics === 'fake-quant') {
    throw new QrobustError('invalid_option', `${o.dir} is an ensemble: it verifies as deployed (quantized members on their integer paths); leave out --semantics`);
  }
  await initBackend(o.backend);
  const record = ensembleRecordOf(o.dir, meta);
  const memberDirs = ensembleMemberDirs(o.dir, record);
  const combine = record.combine;
  const data = await testImages(meta, o);
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  const indices = Array.from({ length: data.count }, (_, k) => (data.sourceIndices ? data.sourceIndices[k]! : k));
  const seed = o.seed ?? 0;
  const timeout = o.timeout ?? 60;
  const t0 = performance.now();

  // Members one after another, each on the samples the rule can still verify.
  const perMember: MemberVerdict[][] = indices.map(() => []);
  const candidates: Float32Array[][] = indices.map(() => []);
  const memberSemantics: string[] = [];
  let memberVersions: Record<string, string> = {};
  const needed = membersNeeded(combine, memberDirs.length);
  for (const [m, dir] of memberDirs.entries()) {
    const open = indices.filter((_, k) => {
      const failed = perMember[k]!.filter((v) => v.outcome !== 'verified').length;
      return memberDirs.length - failed >= needed;
    });
    const byIndex = new Map<number, SampleVerdict>();
    if (open.length > 0) {
      const r = await verifyMember({ ...o, dir, indices: open, keepCounterexamples: true, onSample: undefined });
      memberSemantics.push(`${record.members[m]!.label}: ${r.semantics}`);
      memberVersions = r.config.versions;
      for (const s of r.samples) byIndex.set(s.index, s);
    } else {
      memberSemantics.push(`${record.members[m]!.label}: not run`);
    }
    indices.forEach((idx, k) => {
      const s = byIndex.get(idx);
      perMember[k]!.push(
        s
          ? { member: record.members[m]!.dir, outcome: s.outcome, verdict: s.verdict, seconds: s.seconds }
          : { member: record.members[m]!.dir, outcome: 'skipped', verdict: 'skipped', seconds: 0 },
      );
      if (s?.counterexample) candidates[k]!.push(Float32Array.from(s.counterexample));
    });
  }

  const deployed = (await loadClassifier(o.dir, { integer: true, ...(o.rounding ? { rounding: o.rounding } : {}) })).classifier;
  const surrogateMembers = (await loadClassifier(o.dir)).classifier as EnsembleClassifier;
  const surrogate = new EnsembleClassifier(surrogateMembers.members, 'mean-probabilities');
  const samples: SampleVerdict[] = [];
  try {
    const [lo, hi] = meta.preprocessing.inputRange as [number, number];
    for (let k = 0; k < data.count; k++) {
      const s0 = performance.now();
      const x = Float32Array.from(data.pixels.subarray(k * size, (k + 1) * size), (v) => v / 255);
      const label = data.labels[k]!;
      const members = perMember[k]!;
      const base = { sample: k, index: indices[k]!, label, members };
      const memberSeconds = members.reduce((a, v) => a + v.seconds, 0);
      const vcase = localRobustnessCase(x, label, o.epsilon, meta.numClasses, lo, hi);
      const misclassifies = (p: Float32Array): boolean => inBox(p, vcase.input.lower, vcase.input.upper) && isUnsafe(vcase.unsafe, logitsAt(deployed, p));
      let verdict: SampleVerdict;
      if (misclassifies(x)) {
        verdict = { ...base, outcome: 'falsified', verdict: 'misclassified', method: 'model', seconds: (performance.now() - s0) / 1000 };
      } else if (ensembleVerified(combine, members.map((v) => v.outcome))) {
        verdict = { ...base, outcome: 'verified', verdict: 'unsat', method: 'members', seconds: memberSeconds };
      } else {
        let point: Float32Array | null = candidates[k]!.find(misclassifies) ?? null;
        let found: string | null = point ? 'member-cex' : null;
        if (!found && surrogate.gradientMode !== 'none') {
          const xt = tf.tensor4d(x, [1, ...surrogate.inputShape]);
          const r = attack('pgd', surrogate, xt, Int32Array.of(label), { epsilon: o.epsilon, steps: 40, seed, restarts: 1 });
          const adv = Float32Array.from(r.adversarial.dataSync());
          tf.dispose([xt, r.adversarial]);
          if (misclassifies(adv)) {
            point = adv;
            found = 'pgd-ste';
          }
        }
        const kept = o.keepCounterexamples && point ? { counterexample: Float64Array.from(point) } : {};
        verdict = found
          ? { ...base, outcome: 'falsified', verdict: 'sat', method: found, seconds: memberSeconds + (performance.now() - s0) / 1000, ...kept }
          : {
              ...base,
              outcome: 'unknown',
              verdict: 'unknown',
              method: 'members',
              seconds: memberSeconds + (performance.now() - s0) / 1000,
              reason: `${members.filter((v) => v.outcome === 'verified').length} of ${members.length} members verified, ${membersNeeded(combine, members.length)} needed; no counterexample of the ensemble found`,
            };
      }
      samples.push(verdict);
      o.onSample?.(verdict, k + 1, data.count);
    }
  } finally {
    deployed.dispose();
    surrogateMembers.dispose();
  }
  const count = (x: SampleOutcome): number => samples.filter((s) => s.outcome === x).length;
  return {
    model: o.dir,
    semantics: 'ensemble',
    epsilon: o.epsilon,
    norm: 'linf',
    method: o.method ?? 'auto',
    summary: { verified: count('verified'), falsified: count('falsified'), unknown: count('unknown'), seconds: (performance.now() - t0) / 1000 },
    samples,
    ensemble: {
      combine,
      members: memberSemantics,
      combination: combine === 'mean-probabilities' ? 'real arithmetic (the float32 log-mean-exp of the deployed ensemble is not covered)' : 'float32 (vote margins of at least 1/2)',
    },
    config: {
      n: data.count,
      seed,
      timeout,
      rounding: o.rounding ?? null,
      encoding: o.encoding ?? null,
      dataset: describeDataset(data),
      versions: memberVersions,
    },
  };
}
