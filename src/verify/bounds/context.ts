/**
 * The state backward bound propagation works on: the input box, the bounds of every step's output computed so
 * far, the relaxation of every non-linear step (fixed once its input bounds are), and the per-step magnitudes
 * the rounding analysis needs. `backward` carries objectives from the output of step `from` to the input.
 */
import { stepInSize, type AffineStep, type NetworkIR } from '../ir.js';
import type { Interval } from '../property.js';
import { affineMagnitude, backAffine, backRelaxed, type LinearRows } from './backward.js';
import { affineEvalMargins } from './evaluation.js';
import type { Relaxation } from './relaxation.js';

export class BoundContext {
  /** bounds[i]: the output of step i (set in order as propagation proceeds). */
  readonly bounds: Interval[] = [];
  /** relax[i]: the relaxation of non-linear step i (null for affine steps). */
  readonly relax: (Relaxation | null)[] = [];
  private readonly magnitudes: (Float64Array | undefined)[] = [];
  private readonly evalMargins: (Float64Array | undefined)[] = [];

  constructor(
    readonly ir: NetworkIR,
    readonly box: Interval,
  ) {}

  /** The bounds of step i's input. */
  inputBounds(i: number): Interval {
    return i === 0 ? this.box : this.bounds[i - 1]!;
  }

  private magnitude(i: number): Float64Array {
    let m = this.magnitudes[i];
    if (!m) {
      const x = this.inputBounds(i);
      const absMax = x.lower.map((l, j) => Math.max(Math.abs(l), Math.abs(x.upper[j]!)));
      m = affineMagnitude(this.ir.steps[i] as AffineStep, absMax);
      this.magnitudes[i] = m;
      this.evalMargins[i] = affineEvalMargins(this.ir.steps[i] as AffineStep, absMax);
    }
    return m;
  }

  /** Per row of affine step i, its float32 evaluation margin (`evaluation.ts`). */
  private evalMargin(i: number): Float64Array {
    this.magnitude(i);
    return this.evalMargins[i]!;
  }

  /**
   * Carries `rows` (objectives over the output of step `from`) back to the input.
   * @param alpha per ReLU step index, optional per-row lower slopes (rows × size).
   * @param record called with the objectives entering each step, before its rule is applied (alpha-CROWN
   *   needs those at every relaxed step).
   * @param adjust may replace the objectives entering step i before they are recorded and carried through it
   *   (beta-CROWN adds its split multipliers there).
   */
  backward(
    rows: LinearRows,
    from: number,
    alpha?: ReadonlyMap<number, Float64Array>,
    record?: (i: number, entering: LinearRows) => void,
    adjust?: (i: number, entering: LinearRows) => LinearRows,
  ): LinearRows {
    let r = rows;
    for (let i = from; i >= 0; i--) {
      const step = this.ir.steps[i]!;
      if (adjust) r = adjust(i, r);
      record?.(i, r);
      if (step.kind === 'affine') r = backAffine(r, step, this.magnitude(i), this.evalMargin(i));
      else r = backRelaxed(r, this.relax[i]!, stepInSize(step), alpha?.get(i));
    }
    return r;
  }
}
