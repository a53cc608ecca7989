/**
 * Which attacks an adaptive evaluation runs on a model, given the forms of it that exist: the model with exact
 * gradients, the same function with straight-through (STE/BPDA) gradients through its quantizers and other
 * non-differentiable mappings, its integer-exact path, its undefended parent, and whether it is randomized.
 * Each member names the classifier it queries and the one its examples are judged on; a member that does not
 * apply is listed with the reason, so a report always says what was left out and why.
 */
import type { Classifier } from '../models/classifier.js';
import { getAttack } from './registry.js';
import type { AttackOptionName, AttackOptions } from './types.js';

/** The forms of one model an adaptive evaluation can attack. */
export interface AdaptiveClassifiers {
  /** The model under test, differentiated exactly (through a quantizer: zero almost everywhere). */
  readonly exact: Classifier;
  /** The same function with STE/BPDA gradients, where it has non-differentiable parts (quantized models). */
  readonly ste?: Classifier | null;
  /** The integer-exact path of a quantized model: queried by the score-based member. */
  readonly integer?: Classifier | null;
  /** The undefended parent: the source of the transfer member. */
  readonly parent?: Classifier | null;
  /** Whether the model draws fresh randomness per call: the EOT member then runs. */
  readonly randomized?: boolean;
}

/** The knobs of an adaptive evaluation; every member reads the ones its attack uses and keeps its own defaults otherwise. */
export interface AdaptiveKnobs {
  /** Iterations of every gradient member (each attack's default otherwise: pgd 40, auto 100 per run). */
  readonly steps?: number;
  /** PGD restarts (pgd members). */
  readonly restarts?: number;
  /** Query budget per image of the Square runs (auto's and the integer path's; default 5000). */
  readonly maxQueries?: number;
  /** APGD-T / FAB-T target classes (auto). */
  readonly targetClasses?: number;
  /** Passes averaged per gradient by the EOT member (randomized models; default 10). */
  readonly eot?: number;
}

export const EOT_DEFAULT = 10;

/** One attack of the evaluation. */
export interface PlannedMember {
  /** Unique within a report, e.g. 'pgd-exact'. */
  readonly name: string;
  /** The registry attack it runs. */
  readonly attack: string;
  /** What it is there for, one line. */
  readonly role: string;
  /** The classifier it queries or differentiates. */
  readonly attacked: Classifier;
  /** The classifier its adversarial examples are judged on (the attacked one unless it transfers). */
  readonly judged: Classifier;
  /** The options it runs with (ε, seed and batching are added per run). */
  readonly options: Omit<AttackOptions, 'epsilon' | 'rng' | 'seed'>;
}

export interface SkippedMember {
  readonly name: string;
  readonly reason: string;
}

/** `knobs` restricted to the options `attack` uses, plus the fixed ones of the member. */
function optionsFor(attack: string, knobs: AdaptiveKnobs, fixed: Partial<AttackOptions> = {}): Omit<AttackOptions, 'epsilon'> {
  const uses = new Set<string>(getAttack(attack).uses);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(knobs)) if (v !== undefined && uses.has(k) && k !== 'eot') out[k] = v;
  for (const [k, v] of Object.entries(fixed)) if (uses.has(k as AttackOptionName) || k === 'norm') out[k] = v;
  return out as Omit<AttackOptions, 'epsilon'>;
}

/**
 * The members that apply to `c`, in the order they run, and those that do not. The white-box members attack the
 * STE form when there is one (the gradient an adaptive attacker would use), except `pgd-exact` and `fgsm-exact`,
 * which measure what the exact gradient gives: the number a masked model inflates.
 */
export function planMembers(c: AdaptiveClassifiers, knobs: AdaptiveKnobs, norm: AttackOptions['norm']): { members: PlannedMember[]; skipped: SkippedMember[] } {
  const smooth = c.ste ?? c.exact;
  const n = norm ? { norm } : {};
  const members: PlannedMember[] = [
    { name: 'auto', attack: 'auto', role: 'AutoAttack: APGD-CE, APGD-T, FAB-T, Square', attacked: smooth, judged: smooth, options: optionsFor('auto', knobs, n) },
  ];
  const skipped: SkippedMember[] = [];
  if (c.ste) members.push({ name: 'pgd-ste', attack: 'pgd', role: 'PGD through STE/BPDA', attacked: c.ste, judged: c.ste, options: optionsFor('pgd', knobs, n) });
  else skipped.push({ name: 'pgd-ste', reason: 'the model has no quantizers: its exact gradient is the only one' });
  members.push({ name: 'pgd-exact', attack: 'pgd', role: 'PGD with exact gradients (what masking inflates)', attacked: c.exact, judged: c.exact, options: optionsFor('pgd', knobs, n) });
  members.push({ name: 'fgsm-exact', attack: 'fgsm', role: 'single step with exact gradients (the single-step check)', attacked: c.exact, judged: c.exact, options: optionsFor('fgsm', knobs, n) });
  if (c.randomized) {
    members.push({ name: 'pgd-eot', attack: 'pgd', role: 'PGD with expectation over transformation', attacked: smooth, judged: smooth, options: optionsFor('pgd', knobs, { ...n, eot: knobs.eot ?? EOT_DEFAULT }) });
  } else {
    skipped.push({ name: 'pgd-eot', reason: 'the model is deterministic: no randomized classifier' });
  }
  if (c.parent) members.push({ name: 'transfer', attack: 'pgd', role: 'PGD on the undefended parent, judged on the model', attacked: c.parent, judged: smooth, options: optionsFor('pgd', knobs, n) });
  else skipped.push({ name: 'transfer', reason: 'no undefended parent recorded' });
  if (c.integer) members.push({ name: 'square-integer', attack: 'square', role: 'Square querying the integer path', attacked: c.integer, judged: c.integer, options: optionsFor('square', knobs, n) });
  else skipped.push({ name: 'square-integer', reason: 'no integer path: not a quantized, integer-executable model' });
  return { members, skipped };
}
