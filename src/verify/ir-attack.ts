/**
 * A cheap falsifier on the IR: projected signed-gradient descent (PGD, Madry et al. 2018, arXiv 1706.06083) on
 * the property's own margin, in float64, inside the input box. Untargeted runs descend the currently smallest
 * disjunct (from the box centre and from seeded random starts); targeted runs then descend each of the most
 * promising disjuncts on its own. Every point it returns is a float32 vector re-checked by `checkCounterexample`,
 * so a `sat` from here is as sound as one from a complete method.
 */
import { Rng } from '../core/rng.js';
import { checkCounterexample, conjunctionValue, float32InBox, unsafeMargin, type CheckedCounterexample } from './counterexample.js';
import { backwardFrom, forwardTrace } from './ir-gradient.js';
import type { NetworkIR } from './ir.js';
import type { LinearConstraint, VerificationCase } from './property.js';

export interface IrAttackOptions {
  /** Gradient steps per run (default 50). */
  readonly steps?: number;
  /** Untargeted runs: the first from the box centre, the others from random points (default 2). */
  readonly restarts?: number;
  /** Disjuncts attacked one by one after the untargeted runs, the closest first (default 3). */
  readonly targeted?: number;
  readonly seed?: number;
  /** Stop at this `performance.now()` time. */
  readonly deadline?: number;
}

export interface IrAttackResult {
  readonly counterexample: CheckedCounterexample | null;
  /** The smallest unsafe margin seen (≤ 0 when a counterexample was found). */
  readonly bestMargin: number;
  /** Per disjunct, the smallest value seen (for ordering the complete method's work). */
  readonly disjunctValues: Float64Array;
  /** Forward-and-backward passes spent. */
  readonly passes: number;
}

/** The constraint of a conjunction with the largest value at y (the one to push down). */
function activeConstraint(conj: readonly LinearConstraint[], y: Float64Array): LinearConstraint {
  let best = conj[0]!;
  let worst = -Infinity;
  for (const c of conj) {
    let v = c.offset;
    for (let i = 0; i < c.coeffs.length; i++) v += c.coeffs[i]! * y[i]!;
    if (v > worst) {
      worst = v;
      best = c;
    }
  }
  return best;
}

export function attackIR(ir: NetworkIR, vcase: VerificationCase, o: IrAttackOptions = {}): IrAttackResult {
  const box = vcase.input;
  const n = box.lower.length;
  const steps = o.steps ?? 50;
  const rng = new Rng(o.seed ?? 0);
  const disjuncts = vcase.unsafe.disjuncts;
  const values = new Float64Array(disjuncts.length).fill(Infinity);
  let bestMargin = Infinity;
  let passes = 0;
  const timeUp = (): boolean => o.deadline !== undefined && performance.now() > o.deadline;

  const record = (y: Float64Array): void => {
    disjuncts.forEach((conj, d) => {
      const v = conjunctionValue(conj, y);
      if (v < values[d]!) values[d] = v;
    });
  };

  /** One PGD run; `target` = −1 descends the smallest disjunct at each step. */
  const run = (start: Float64Array, target: number): CheckedCounterexample | null => {
    let x = start;
    for (let t = 0; t <= steps; t++) {
      if (timeUp()) return null;
      const { inputs, output } = forwardTrace(ir, x);
      passes++;
      record(output);
      const { margin, disjunct } = unsafeMargin(vcase.unsafe, output);
      bestMargin = Math.min(bestMargin, margin);
      if (margin <= 0) {
        const snapped = float32InBox(box, x);
        const checked = snapped ? checkCounterexample(ir, vcase, snapped) : null;
        if (checked) return checked;
      }
      if (t === steps) break;
      const d = target >= 0 ? target : disjunct;
      const c = activeConstraint(disjuncts[d]!, output);
      const g = backwardFrom(ir, inputs, c.coeffs);
      // Step size: 2.5 half-widths over the run (the schedule of Madry et al.), decaying linearly to a tenth.
      const frac = 2.5 / steps * (1 - 0.9 * (t / steps));
      const next = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const half = (box.upper[i]! - box.lower[i]!) / 2;
        const v = x[i]! - frac * half * Math.sign(g[i]!);
        next[i] = Math.min(box.upper[i]!, Math.max(box.lower[i]!, v));
      }
      x = next;
    }
    return null;
  };

  const centre = box.lower.map((l, i) => (l + box.upper[i]!) / 2);
  const starts = [centre];
  for (let r = 1; r < (o.restarts ?? 2); r++) starts.push(box.lower.map((l, i) => l + rng.next() * (box.upper[i]! - l)));
  for (const s of starts) {
    const found = run(s, -1);
    if (found) return { counterexample: found, bestMargin: found.margin, disjunctValues: values, passes };
  }
  const order = Array.from(values.keys()).sort((a, b) => values[a]! - values[b]!);
  const targets = order.slice(0, o.targeted ?? 3);
  for (const d of targets) {
    const found = run(centre, d);
    if (found) return { counterexample: found, bestMargin: found.margin, disjunctValues: values, passes };
  }
  return { counterexample: null, bestMargin, disjunctValues: values, passes };
}
