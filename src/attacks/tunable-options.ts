/**
 * The tunable attack options, declared once: the key of `AttackOptions`, its type and what it does. The
 * `qrobust attack` flags and their help, the checks of `attackModelDir` and the experiment config's types all
 * derive from this list; `resolveOptions` (options.ts) checks the values' ranges and merges each attack's
 * defaults, and every attack declares which of them it uses (`AttackSpec.uses`).
 */
import { LOSSES, type AttackOptionName, type LossName } from './types.js';

export type TunableType = 'int' | 'number' | 'boolean' | 'loss';

export interface TunableOption {
  readonly key: AttackOptionName;
  readonly type: TunableType;
  readonly doc: string;
  /** A boolean that is on by default: the command line turns it off with `--no-<flag>`. */
  readonly negated?: boolean;
}

export const TUNABLE_OPTIONS: readonly TunableOption[] = [
  { key: 'loss', type: 'loss', doc: "loss to ascend: cross-entropy, CW margin or DLR (default: the attack's)" },
  { key: 'steps', type: 'int', doc: "iterations (iterative attacks; default: the attack's)" },
  { key: 'stepSize', type: 'number', doc: 'absolute step size (default: relative to ε)' },
  { key: 'relStepSize', type: 'number', doc: "step size as a multiple of ε (default: the attack's, else 2.5 / steps)" },
  { key: 'randomStart', type: 'boolean', doc: 'start from a uniformly random point of the ε-ball (pgd, apgd-ce, apgd-dlr, apgd-t)' },
  { key: 'restarts', type: 'int', doc: 'random restarts, worst case kept per sample (pgd, fab, fab-t)' },
  { key: 'decay', type: 'number', doc: 'momentum decay μ (mim)' },
  { key: 'overshoot', type: 'number', doc: 'relative overshoot past the linearized boundary (deepfool, fab, fab-t)' },
  { key: 'earlyStop', type: 'boolean', negated: true, doc: 'keep updating samples once they are adversarial (default: stop)' },
  { key: 'confidence', type: 'number', doc: 'required logit margin κ (cw-l2)' },
  { key: 'binarySearchSteps', type: 'int', doc: 'rounds of the search over the constant c (cw-l2)' },
  { key: 'initialConst', type: 'number', doc: 'starting trade-off constant c (cw-l2)' },
  { key: 'learningRate', type: 'number', doc: 'Adam learning rate (cw-l2, spsa)' },
  { key: 'maxQueries', type: 'int', doc: 'query budget per image (square, hopskipjump, auto)' },
  { key: 'pInit', type: 'number', doc: 'initial fraction of pixels a square covers (square, auto)' },
  { key: 'samples', type: 'int', doc: 'evaluations per gradient estimate (spsa; hopskipjump: the first)' },
  { key: 'delta', type: 'number', doc: 'finite-difference perturbation size δ (spsa)' },
  { key: 'targetClasses', type: 'int', doc: 'wrong classes tried, one run each, best first (apgd-t, fab-t, auto)' },
  { key: 'eot', type: 'int', doc: 'expectation over transformation: average gradients over K passes (randomized models)' },
];

/** The values of tunable options, by key. */
export type TunableValues = Partial<Record<AttackOptionName, number | boolean | LossName>>;

/** The option's name on the command line: `stepSize` → `step-size`. */
export function optionNameOf(t: TunableOption): string {
  return t.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The flag a user types: the option's name, with `no-` in front for the booleans that are on by default. */
export function flagOf(t: TunableOption): string {
  return t.negated ? `no-${optionNameOf(t)}` : optionNameOf(t);
}

export function tunableOption(key: string): TunableOption | undefined {
  return TUNABLE_OPTIONS.find((t) => t.key === key);
}

/** Why `value` is not of the option's type, or null when it is. */
export function tunableTypeError(t: TunableOption, value: unknown): string | null {
  switch (t.type) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? null : `expected an integer, got ${JSON.stringify(value)}`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : `expected a number, got ${JSON.stringify(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `expected true or false, got ${JSON.stringify(value)}`;
    case 'loss':
      return typeof value === 'string' && (LOSSES as readonly string[]).includes(value) ? null : `expected one of ${LOSSES.join(', ')}, got ${JSON.stringify(value)}`;
  }
}
