/**
 * Gradient-masking diagnostics in the manner of Athalye, Carlini & Wagner 2018 ("Obfuscated Gradients Give a
 * False Sense of Security", arXiv 1802.00420, §3.1 and §8): signs that a model looks robust only because its
 * gradients are useless to the attacker, which quantizers cause when they are differentiated exactly (Bernhard
 * et al. 2019, arXiv 1909.12741). Each check compares robust accuracies measured on the same samples at the same
 * ε (lower is a stronger attack):
 *
 * - single-step: a one-step attack (FGSM) must not beat the iterative ones;
 * - black-box: score- or decision-based attacks, which ignore gradients, must not beat the white-box ones;
 * - transfer: examples crafted on another model must not beat white-box attacks on the model itself;
 * - large ε: an iterative attack with a budget large enough to reach any input must reach (almost) 0% accuracy;
 * - zero gradients: input gradients must not vanish on more than a few samples;
 * - monotonic: robust accuracy must not rise with ε for any attack.
 */
import { accuracyIncreases, type CurvePoint } from './robust-accuracy.js';

/** Above this robust accuracy, the large-ε attack is taken to have failed. */
export const LARGE_EPS_MAX_ACCURACY = 0.01;
/** Above this share of samples with an all-zero input gradient, gradients are flagged as vanishing. */
export const ZERO_GRADIENT_MAX_SHARE = 0.01;

/** The strongest attack of one family at one ε. */
export interface AccuracyAt {
  readonly eps: number;
  readonly accuracy: number;
  /** Which attack (or source model) reached it. */
  readonly by: string;
}

/** What was measured for one model under one gradient mode and one norm. */
export interface MaskingEvidence {
  readonly singleStep: readonly AccuracyAt[];
  readonly iterative: readonly AccuracyAt[];
  readonly whiteBox: readonly AccuracyAt[];
  readonly blackBox: readonly AccuracyAt[];
  readonly transfer: readonly AccuracyAt[];
  readonly largeEps: AccuracyAt | null;
  readonly zeroGradientShare: number | null;
  readonly curves: readonly { readonly attack: string; readonly points: readonly CurvePoint[] }[];
}

export type MaskingCheckName = 'single-step' | 'black-box' | 'transfer' | 'large-eps' | 'zero-gradients' | 'monotonic';

export interface MaskingCheck {
  readonly name: MaskingCheckName;
  /** 'flag': the sign of masking is present; 'pass': measured and absent; 'not-measured': the evidence is missing. */
  readonly status: 'pass' | 'flag' | 'not-measured';
  readonly detail: string;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/** At every ε both families were measured at, does the family that should be weaker reach a lower accuracy? */
function beats(name: MaskingCheckName, weaker: readonly AccuracyAt[], stronger: readonly AccuracyAt[], what: string): MaskingCheck {
  const strongAt = new Map(stronger.map((s) => [s.eps, s]));
  const common = weaker.filter((w) => strongAt.has(w.eps));
  if (common.length === 0) return { name, status: 'not-measured', detail: `needs ${what} at a common ε` };
  const wins = common.filter((w) => w.accuracy < strongAt.get(w.eps)!.accuracy);
  if (wins.length === 0) return { name, status: 'pass', detail: `at ${common.length} ε: never lower than ${common.map((w) => strongAt.get(w.eps)!.by).filter(unique).join('/')}` };
  const w = wins[0]!;
  const s = strongAt.get(w.eps)!;
  return { name, status: 'flag', detail: `${w.by} ${pct(w.accuracy)} < ${s.by} ${pct(s.accuracy)} at ε=${w.eps}${wins.length > 1 ? ` (and ${wins.length - 1} more ε)` : ''}` };
}

function unique<T>(v: T, i: number, a: readonly T[]): boolean {
  return a.indexOf(v) === i;
}

export function maskingChecks(e: MaskingEvidence): MaskingCheck[] {
  const checks: MaskingCheck[] = [
    beats('single-step', e.singleStep, e.iterative, 'a single-step and an iterative attack'),
    beats('black-box', e.blackBox, e.whiteBox, 'a black-box and a white-box attack'),
    beats('transfer', e.transfer, e.whiteBox, 'a transfer and a white-box attack'),
  ];
  const l = e.largeEps;
  checks.push(
    !l
      ? { name: 'large-eps', status: 'not-measured', detail: 'needs diagnostics.largeEps in the config' }
      : l.accuracy > LARGE_EPS_MAX_ACCURACY
        ? { name: 'large-eps', status: 'flag', detail: `${l.by} at ε=${l.eps} leaves ${pct(l.accuracy)} (expected ≤ ${pct(LARGE_EPS_MAX_ACCURACY)})` }
        : { name: 'large-eps', status: 'pass', detail: `${l.by} at ε=${l.eps} leaves ${pct(l.accuracy)}` },
  );
  const z = e.zeroGradientShare;
  checks.push(
    z === null
      ? { name: 'zero-gradients', status: 'not-measured', detail: 'needs diagnostics in the config' }
      : z > ZERO_GRADIENT_MAX_SHARE
        ? { name: 'zero-gradients', status: 'flag', detail: `${pct(z)} of samples have an all-zero input gradient` }
        : { name: 'zero-gradients', status: 'pass', detail: `${pct(z)} of samples have an all-zero input gradient` },
  );
  const rises = e.curves.flatMap((c) => accuracyIncreases(c.points).map((r) => ({ ...r, attack: c.attack })));
  const measured = e.curves.some((c) => c.points.length > 1);
  checks.push(
    !measured
      ? { name: 'monotonic', status: 'not-measured', detail: 'needs an attack at two or more ε' }
      : rises.length
        ? { name: 'monotonic', status: 'flag', detail: `${rises[0]!.attack}: +${pct(rises[0]!.increase)} from ε=${rises[0]!.from} to ε=${rises[0]!.to}` }
        : { name: 'monotonic', status: 'pass', detail: `${e.curves.length} curve${e.curves.length === 1 ? '' : 's'} never rise with ε` },
  );
  return checks;
}
