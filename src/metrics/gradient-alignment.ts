/**
 * Input-gradient statistics.
 *
 * Gradient misalignment (Bernhard, Moellic & Dutertre 2019, "Impact of Low-bitwidth Quantization on the
 * Adversarial Robustness for Embedded Neural Networks", arXiv 1909.12741): adversarial examples transfer poorly
 * between a full-precision model and its quantized variant because their loss gradients with respect to the input
 * point in different directions. Per sample, the cosine similarity
 *
 *     cos(g_FP, g_Q) = ⟨g_FP, g_Q⟩ / (‖g_FP‖₂ ‖g_Q‖₂),   g = ∇ₓ L(f(x), y),
 *
 * and the sign agreement, the share of input coordinates where sign(g_FP) = sign(g_Q) (what FGSM's step uses).
 *
 * Zero gradients (Athalye, Carlini & Wagner 2018, "Obfuscated Gradients Give a False Sense of Security", arXiv
 * 1802.00420): a model whose input gradient is exactly zero gives a gradient attack nothing to follow, which is
 * what the true gradient of a quantizer does almost everywhere. `GradientStats` counts the samples whose gradient
 * is zero in every coordinate and the share of zero coordinates.
 */

/** Cosine similarity of two vectors; null when either has norm 0 (the angle is undefined). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  if (a.length !== b.length) throw new Error(`vectors of different lengths: ${a.length}, ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (na === 0 || nb === 0) return null;
  return Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
}

/** Share of coordinates with the same sign (−1, 0 or +1) in both vectors. */
export function signAgreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`vectors of different lengths: ${a.length}, ${b.length}`);
  if (a.length === 0) return 1;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (Math.sign(a[i]!) === Math.sign(b[i]!)) same++;
  return same / a.length;
}

export interface AlignmentSummary {
  readonly n: number;
  /** Mean cosine over the samples where both gradients are non-zero; null when there are none. */
  readonly meanCosine: number | null;
  readonly medianCosine: number | null;
  /** Samples where either gradient is zero, so that the cosine is undefined. */
  readonly undefinedCosine: number;
  readonly meanSignAgreement: number | null;
}

/** Accumulates per-sample cosine and sign agreement of two models' input gradients. */
export class AlignmentAccumulator {
  private readonly cosines: number[] = [];
  private undefinedCount = 0;
  private signSum = 0;
  private n = 0;

  /** Adds a batch of `count` gradients, each `size` values, stored row after row. */
  add(a: Float32Array, b: Float32Array, count: number): void {
    const size = a.length / count;
    for (let i = 0; i < count; i++) {
      const ga = a.subarray(i * size, (i + 1) * size);
      const gb = b.subarray(i * size, (i + 1) * size);
      const c = cosineSimilarity(ga, gb);
      if (c === null) this.undefinedCount++;
      else this.cosines.push(c);
      this.signSum += signAgreement(ga, gb);
      this.n++;
    }
  }

  summary(): AlignmentSummary {
    const sorted = [...this.cosines].sort((x, y) => x - y);
    const m = sorted.length;
    return {
      n: this.n,
      meanCosine: m ? sorted.reduce((s, v) => s + v, 0) / m : null,
      medianCosine: m ? (m % 2 ? sorted[(m - 1) / 2]! : (sorted[m / 2 - 1]! + sorted[m / 2]!) / 2) : null,
      undefinedCosine: this.undefinedCount,
      meanSignAgreement: this.n ? this.signSum / this.n : null,
    };
  }
}

export interface GradientSummary {
  readonly n: number;
  /** Share of samples whose input gradient is zero in every coordinate. */
  readonly zeroSamples: number;
  /** Share of all input coordinates (over all samples) where the gradient is zero. */
  readonly zeroCoordinates: number;
  /** Mean ‖∇ₓL‖₁ and ‖∇ₓL‖₂ over the samples. */
  readonly meanL1: number;
  readonly meanL2: number;
}

/** Accumulates zero-gradient counts and gradient norms over batches. */
export class GradientStats {
  private n = 0;
  private zeroSamples = 0;
  private zeroCoords = 0;
  private coords = 0;
  private l1 = 0;
  private l2 = 0;

  add(g: Float32Array, count: number): void {
    const size = g.length / count;
    for (let i = 0; i < count; i++) {
      let zeros = 0;
      let s1 = 0;
      let s2 = 0;
      for (let j = i * size; j < (i + 1) * size; j++) {
        const v = g[j]!;
        if (v === 0) zeros++;
        s1 += Math.abs(v);
        s2 += v * v;
      }
      if (zeros === size) this.zeroSamples++;
      this.zeroCoords += zeros;
      this.coords += size;
      this.l1 += s1;
      this.l2 += Math.sqrt(s2);
      this.n++;
    }
  }

  summary(): GradientSummary {
    const n = this.n;
    return {
      n,
      zeroSamples: n ? this.zeroSamples / n : 0,
      zeroCoordinates: this.coords ? this.zeroCoords / this.coords : 0,
      meanL1: n ? this.l1 / n : 0,
      meanL2: n ? this.l2 / n : 0,
    };
  }
}
