/**
 * Robust accuracy versus ε, per model and threat model, as Gorsline, Smith & Merkel 2021 ("On the Adversarial
 * Robustness of Quantized Neural Networks", arXiv 2105.00227) study it across weight bit widths: quantization can
 * raise robustness in one ε regime and lower it in another, which shows up as curves that cross.
 *
 * Robust accuracy at ε is the share of samples classified correctly both clean and under the attack at ε
 * (`robustAccuracy`); a curve is that value over the ε grid; `curveCrossings` locates where two curves change
 * order and `accuracyIncreases` where a curve rises with ε (which a correct attack never produces).
 */

/** Share of samples correct both clean and attacked: (1/n)·#{i : clean_i = y_i ∧ adv_i = y_i}. */
export function robustAccuracy(labels: ArrayLike<number>, clean: ArrayLike<number>, adversarial: ArrayLike<number>): number {
  checkLengths(labels, clean, adversarial);
  if (labels.length === 0) return 0;
  let robust = 0;
  for (let i = 0; i < labels.length; i++) if (clean[i] === labels[i] && adversarial[i] === labels[i]) robust++;
  return robust / labels.length;
}

export function checkLengths(...arrays: ArrayLike<number>[]): void {
  const n = arrays[0]!.length;
  if (arrays.some((a) => a.length !== n)) throw new Error(`per-sample arrays of different lengths: ${arrays.map((a) => a.length).join(', ')}`);
}

export interface CurvePoint {
  readonly eps: number;
  readonly value: number;
}

/** A place where two curves change order, between two ε of their common grid. */
export interface Crossing {
  /** The last ε (of the common grid) before the change where the curves differ. */
  readonly from: number;
  /** The first ε after it where they differ again, in the other order. */
  readonly to: number;
  /** Which curve is higher before the crossing. */
  readonly higherBefore: 'a' | 'b';
}

/**
 * Where curve `a` and curve `b` change order, on the ε values both were measured at. Points where the two are
 * equal are ties and do not end an order; a crossing is reported between the last strict order and the next
 * strict order of the opposite sign.
 */
export function curveCrossings(a: readonly CurvePoint[], b: readonly CurvePoint[]): Crossing[] {
  const bAt = new Map(b.map((p) => [p.eps, p.value]));
  const diffs = [...a]
    .sort((p, q) => p.eps - q.eps)
    .filter((p) => bAt.has(p.eps))
    .map((p) => ({ eps: p.eps, d: p.value - bAt.get(p.eps)! }))
    .filter((x) => x.d !== 0);
  const out: Crossing[] = [];
  for (let i = 1; i < diffs.length; i++) {
    const prev = diffs[i - 1]!;
    const cur = diffs[i]!;
    if (Math.sign(prev.d) !== Math.sign(cur.d)) out.push({ from: prev.eps, to: cur.eps, higherBefore: prev.d > 0 ? 'a' : 'b' });
  }
  return out;
}

/** The steps of a curve (sorted by ε) where the value rises with ε, with the size of the rise. */
export function accuracyIncreases(points: readonly CurvePoint[]): { readonly from: number; readonly to: number; readonly increase: number }[] {
  const sorted = [...points].sort((p, q) => p.eps - q.eps);
  const out: { from: number; to: number; increase: number }[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const rise = sorted[i]!.value - sorted[i - 1]!.value;
    if (rise > 0) out.push({ from: sorted[i - 1]!.eps, to: sorted[i]!.eps, increase: rise });
  }
  return out;
}
