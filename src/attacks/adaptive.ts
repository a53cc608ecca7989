/**
 * Adaptive evaluation: every applicable attack (adaptive-members.ts) runs over the same samples and ε list, and
 * per sample the worst case is kept: an input counts as robust at ε only if every member left it classified
 * correctly. Beside the worst case each ε reports every member's robust accuracy, which member was worst, how
 * many samples each broke, and the masking rule: a model whose exact-gradient PGD robust accuracy exceeds its
 * adaptive (worst-case) robust accuracy by more than `MASKING_GAP` is flagged, since that gap is what a masked
 * gradient hides (Athalye, Carlini & Wagner 2018, arXiv 1802.00420; Tramèr et al. 2020, arXiv 2002.08347). The
 * gradient-masking checks of metrics/gradient-masking.ts run on the same measurements.
 *
 * @example
 * const r = adaptiveAttack({ exact, ste, integer }, x, labels, { epsilons: [0.1, 0.2], seed: 0 });
 * r.results[0].masking.flagged; // true when pgd-exact is more than 5 points above the worst case
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { maskingChecks, type AccuracyAt, type MaskingCheck, type MaskingEvidence } from '../metrics/gradient-masking.js';
import { planMembers, type AdaptiveClassifiers, type AdaptiveKnobs, type PlannedMember, type SkippedMember } from './adaptive-members.js';
import { lossGradient } from './losses.js';
import { predict, runAttack } from './run.js';
import { getAttack } from './registry.js';
import type { Norm } from './types.js';

/** Robust-accuracy gap (a fraction: 0.05 is 5 points) above which exact-gradient PGD flags gradient masking. */
export const MASKING_GAP = 0.05;

export interface AdaptiveOptions extends AdaptiveKnobs {
  readonly epsilons: readonly number[];
  readonly norm?: Norm;
  readonly seed?: number;
  readonly batchSize?: number;
}

/** One member at one ε. */
export interface MemberOutcome {
  readonly name: string;
  readonly robustAccuracy: number;
  /** Per sample, 1 when the judged classifier got it right both clean and attacked. */
  readonly robust: readonly number[];
  readonly seconds: number;
}

/** How a member was run, for the record. */
export interface MemberRecord {
  readonly name: string;
  readonly attack: string;
  readonly role: string;
  readonly attacked: string;
  readonly judged: string;
  readonly seed: number;
  /** Every option it ran with, the attack's defaults included. */
  readonly options: Record<string, unknown>;
}

/** The masking rule at one ε; gaps in fractions (0.05 = 5 points), null when the member did not run. */
export interface MaskingFlag {
  /** pgd-exact robust accuracy − worst case. */
  readonly exactGap: number | null;
  /** pgd-ste robust accuracy − worst case (a weak STE attack; reported, never flagged). */
  readonly steGap: number | null;
  /** exactGap > MASKING_GAP. */
  readonly flagged: boolean;
}

export interface AdaptiveEpsilonResult {
  readonly eps: number;
  /** Clean accuracy of the model (exact form). */
  readonly cleanAccuracy: number;
  /** Worst-case robust accuracy over the members. */
  readonly robustAccuracy: number;
  /** Per sample, the AND of the members' `robust`. */
  readonly robust: readonly number[];
  /** The member of lowest robust accuracy (the first in run order on a tie). */
  readonly worst: string;
  /** Per member, how many samples it broke that the model classifies correctly when clean; 'clean': those it does not. */
  readonly brokenBy: Record<string, number>;
  readonly members: readonly MemberOutcome[];
  readonly masking: MaskingFlag;
}

export interface AdaptiveResult {
  readonly members: readonly MemberRecord[];
  readonly skipped: readonly SkippedMember[];
  readonly cleanPredictions: readonly number[];
  readonly results: readonly AdaptiveEpsilonResult[];
  /** Share of samples whose exact input gradient of the cross-entropy is all zero. */
  readonly zeroGradientShare: number;
  readonly checks: readonly MaskingCheck[];
}

/**
 * The per-sample worst case of `members` (equal length): robust only where every member is robust. Returns the
 * AND and, per member, how many of the `cleanCorrect` samples it broke.
 */
export function worstCase(members: readonly MemberOutcome[], cleanCorrect: readonly number[]): { robust: number[]; brokenBy: Record<string, number> } {
  const robust = cleanCorrect.map((c, i) => (c && members.every((m) => m.robust[i]) ? 1 : 0));
  const brokenBy: Record<string, number> = { clean: cleanCorrect.filter((c) => !c).length };
  for (const m of members) brokenBy[m.name] = cleanCorrect.reduce((s, c, i) => s + (c && !m.robust[i] ? 1 : 0), 0);
  return { robust, brokenBy };
}

/** The masking rule on one ε's outcomes. */
export function maskingFlag(members: readonly MemberOutcome[], worst: number): MaskingFlag {
  const gap = (name: string): number | null => {
    const m = members.find((o) => o.name === name);
    return m ? m.robustAccuracy - worst : null;
  };
  const exactGap = gap('pgd-exact');
  return { exactGap, steGap: gap('pgd-ste'), flagged: exactGap !== null && exactGap > MASKING_GAP + 1e-12 };
}

/** A member's seed: the run's seed mixed with its name, so adding a member changes no other member's stream. */
export function memberSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Share of samples whose exact cross-entropy input gradient is zero everywhere. */
function zeroGradientShare(c: Classifier, x: tf.Tensor4D, labels: Int32Array, batchSize: number): number {
  let zeros = 0;
  const n = labels.length;
  for (let s = 0; s < n; s += batchSize) {
    const size = Math.min(batchSize, n - s);
    const maxAbs = tf.tidy(() => {
      const g = lossGradient(c, tf.slice(x, s, size), tf.tensor1d(labels.subarray(s, s + size), 'int32'), null, 'ce');
      // The logits and losses are kept past any tidy: release them here.
      tf.dispose([g.logits, g.loss]);
      return tf.max(tf.abs(tf.reshape(g.grad, [size, -1])), 1).dataSync();
    });
    maxAbs.forEach((v) => (zeros += v === 0 ? 1 : 0));
  }
  return n ? zeros / n : 0;
}

/** Runs one member at every ε and returns its per-sample outcomes, in ε order. */
function runMember(m: PlannedMember, x: tf.Tensor4D, labels: Int32Array, o: AdaptiveOptions, seed: number, judgedClean: Int32Array): MemberOutcome[] {
  const out: MemberOutcome[] = [];
  runAttack(m.attack, m.attacked, x, labels, {
    ...m.options,
    epsilons: o.epsilons,
    seed,
    batchSize: o.batchSize ?? 256,
    onEpsilon: (r) => {
      const pred = m.judged === m.attacked ? r.predictions : predict(m.judged, r.adversarial, o.batchSize ?? 256);
      r.adversarial.dispose();
      const robust = Array.from(labels, (y, i): number => (judgedClean[i] === y && pred[i] === y ? 1 : 0));
      out.push({ name: m.name, robustAccuracy: labels.length ? robust.reduce((s, v) => s + v, 0) / labels.length : 0, robust, seconds: r.seconds });
    },
  });
  return out;
}

/** The evidence the gradient-masking checks read, from the members' accuracies (no large-ε run here). */
function maskingEvidence(results: readonly AdaptiveEpsilonResult[], zeroShare: number): MaskingEvidence {
  const at = (name: string): AccuracyAt[] =>
    results.flatMap((r) => r.members.filter((m) => m.name === name).map((m) => ({ eps: r.eps, accuracy: m.robustAccuracy, by: name })));
  const names = results[0]?.members.map((m) => m.name) ?? [];
  return {
    singleStep: at('fgsm-exact'),
    iterative: at('pgd-exact'),
    whiteBox: at('pgd-exact'),
    blackBox: at('square-integer'),
    transfer: at('transfer'),
    largeEps: null,
    zeroGradientShare: zeroShare,
    curves: names.map((name) => ({ attack: name, points: at(name).map((a) => ({ eps: a.eps, value: a.accuracy })) })),
  };
}

/**
 * Runs every applicable member on `x` (`[N, H, W, C]`, not disposed) over `o.epsilons` and combines them per
 * sample. Seeded: the same classifiers, inputs and options give the same result.
 */
export function adaptiveAttack(c: AdaptiveClassifiers, x: tf.Tensor4D, labels: Int32Array, o: AdaptiveOptions): AdaptiveResult {
  const seed = o.seed ?? 0;
  const batchSize = o.batchSize ?? 256;
  const { members, skipped } = planMembers(c, o, o.norm);
  const cleanCache = new Map<Classifier, Int32Array>();
  const cleanOf = (k: Classifier): Int32Array => {
    if (!cleanCache.has(k)) cleanCache.set(k, predict(k, x, batchSize));
    return cleanCache.get(k)!;
  };
  const outcomes = members.map((m) => runMember(m, x, labels, o, memberSeed(seed, m.name), cleanOf(m.judged)));
  const clean = cleanOf(c.exact);
  const cleanCorrect = Array.from(labels, (y, i): number => (clean[i] === y ? 1 : 0));
  const n = labels.length;
  const results: AdaptiveEpsilonResult[] = o.epsilons.map((eps, e) => {
    const atEps = outcomes.map((per) => per[e]!);
    const { robust, brokenBy } = worstCase(atEps, cleanCorrect);
    const robustAccuracy = n ? robust.reduce((s, v) => s + v, 0) / n : 0;
    const worst = atEps.reduce((w, m) => (m.robustAccuracy < w.robustAccuracy ? m : w), atEps[0]!).name;
    return {
      eps,
      cleanAccuracy: n ? cleanCorrect.reduce((s, v) => s + v, 0) / n : 0,
      robustAccuracy,
      robust,
      worst,
      brokenBy,
      members: atEps,
      masking: maskingFlag(atEps, robustAccuracy),
    };
  });
  const zeroShare = zeroGradientShare(c.exact, x, labels, batchSize);
  const records: MemberRecord[] = members.map((m) => ({
    name: m.name,
    attack: m.attack,
    role: m.role,
    attacked: m.attacked.description,
    judged: m.judged.description,
    seed: memberSeed(seed, m.name),
    options: { ...getAttack(m.attack).defaults, ...m.options, norm: o.norm ?? getAttack(m.attack).norms[0]! },
  }));
  const checks = maskingChecks(maskingEvidence(results, zeroShare)).map((k) =>
    k.name === 'large-eps' && k.status === 'not-measured' ? { ...k, detail: "not run by the adaptive evaluation (an experiment's diagnostics.largeEps runs it)" } : k,
  );
  return { members: records, skipped, cleanPredictions: [...clean], results, zeroGradientShare: zeroShare, checks };
}
