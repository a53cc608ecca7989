/**
 * A falsifier for deployed integer programs. The integer program has no gradient, so the fake-quant IR of the
 * same model guides the search (straight-through gradients, `irInputGradient`), while every iterate is judged
 * by the integer program itself on float32 pixels: a point counts only when the deployed path misclassifies it.
 * Projected signed-gradient descent (Madry et al. 2018, arXiv 1706.06083) on the disjunct the integer program is
 * closest to, from the box centre and seeded random starts; then, while time is left, one targeted run per
 * disjunct (in `order`, the most promising first) that always descends on that disjunct. The targeted runs
 * matter on coarse output grids, where many disjuncts tie in the integer margin and the untargeted run keeps
 * following the first of them.
 */
import { Rng } from '../../core/rng.js';
import { runIntegerProgram } from '../../quant/integer/kernels.js';
import { unsafeMargin } from '../counterexample.js';
import { backwardFrom, forwardTrace } from '../ir-gradient.js';
import type { NetworkIR } from '../ir.js';
import { dequantizeCodes } from './evaluate.js';
import { float32AtLeast, float32AtMost } from './input-region.js';
import { checkIntegerPixels, type IntegerCounterexample, type IntegerVerificationCase } from './integer-case.js';

export interface IntegerAttackOptions {
  readonly steps?: number;
  readonly restarts?: number;
  readonly seed?: number;
  /** Stop at this `performance.now()` time. */
  readonly deadline?: number;
  /** Disjuncts for the targeted runs, the most promising first (default: all, as given). */
  readonly order?: readonly number[];
}

export interface IntegerAttackResult {
  readonly counterexample: IntegerCounterexample | null;
  /** Smallest unsafe margin of the integer program's logits seen. */
  readonly bestMargin: number;
}

/** The integer program's margin at float32 pixels. */
function integerMargin(icase: IntegerVerificationCase, x: Float32Array): { margin: number; disjunct: number } {
  return unsafeMargin(icase.unsafe, dequantizeCodes(icase.program, runIntegerProgram(icase.program, x, 1)));
}

export function attackInteger(icase: IntegerVerificationCase, guide: NetworkIR, o: IntegerAttackOptions = {}): IntegerAttackResult {
  const box = icase.pixels;
  const n = box.lower.length;
  const steps = o.steps ?? 50;
  const rng = new Rng(o.seed ?? 0);
  let bestMargin = Infinity;
  const toPixels = (x: Float64Array): Float32Array => {
    const p = Float32Array.from(x);
    // Keep every float32 inside the box (rounding to float32 may step just outside it).
    for (let i = 0; i < n; i++) {
      if (p[i]! < box.lower[i]!) p[i] = float32AtLeast(box.lower[i]!);
      if (p[i]! > box.upper[i]!) p[i] = float32AtMost(box.upper[i]!);
    }
    return p;
  };
  const run = (start: Float64Array, target: number | null): IntegerCounterexample | null => {
    let x = start;
    for (let t = 0; t <= steps; t++) {
      if (o.deadline !== undefined && performance.now() > o.deadline) return null;
      const pixels = toPixels(x);
      const { margin, disjunct } = integerMargin(icase, pixels);
      bestMargin = Math.min(bestMargin, margin);
      if (margin <= 0) {
        const ce = checkIntegerPixels(icase, pixels);
        if (ce) return ce;
      }
      if (t === steps) break;
      const { inputs, output } = forwardTrace(guide, x);
      const conj = icase.unsafe.disjuncts[target ?? disjunct]!;
      let active = conj[0]!;
      let worst = -Infinity;
      for (const c of conj) {
        let v = c.offset;
        for (let i = 0; i < c.coeffs.length; i++) v += c.coeffs[i]! * output[i]!;
        if (v > worst) {
          worst = v;
          active = c;
        }
      }
      const g = backwardFrom(guide, inputs, active.coeffs);
      const frac = (2.5 / steps) * (1 - 0.9 * (t / steps));
      const next = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const half = (box.upper[i]! - box.lower[i]!) / 2;
        next[i] = Math.min(box.upper[i]!, Math.max(box.lower[i]!, x[i]! - frac * half * Math.sign(g[i]!)));
      }
      x = next;
    }
    return null;
  };
  const starts = [box.lower.map((l, i) => (l + box.upper[i]!) / 2)];
  for (let r = 1; r < (o.restarts ?? 2); r++) starts.push(box.lower.map((l, i) => l + rng.next() * (box.upper[i]! - l)));
  for (const s of starts) {
    const found = run(s, null);
    if (found) return { counterexample: found, bestMargin: found.margin };
  }
  if (icase.unsafe.disjuncts.length > 1) {
    for (const d of o.order ?? icase.unsafe.disjuncts.map((_, k) => k)) {
      if (o.deadline !== undefined && performance.now() > o.deadline) break;
      const found = run(starts[0]!, d);
      if (found) return { counterexample: found, bestMargin: found.margin };
    }
  }
  return { counterexample: null, bestMargin };
}
