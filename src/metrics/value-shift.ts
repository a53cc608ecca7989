/**
 * Quantization value shift, per layer (Bernhard, Moellic & Dutertre 2019, "Impact of Low-bitwidth Quantization
 * on the Adversarial Robustness for Embedded Neural Networks", arXiv 1909.12741). The same input perturbation δ
 * reaches the inner layers of a quantized network changed: a quantizer absorbs a change that stays inside one bin
 * and turns a change that crosses a bin boundary into a whole step, so a perturbation is attenuated or amplified.
 * For the output a_l of layer l (after its activation and, in the quantized model, its output quantizer), over
 * clean inputs x and perturbed inputs x' = x + δ:
 *
 * - clean shift: Σ|a_l^Q(x) − a_l^FP(x)| / Σ|a_l^FP(x)|, how far quantization moves the clean activations;
 * - perturbation ratio: E|a_l^Q(x') − a_l^Q(x)| / E|a_l^FP(x') − a_l^FP(x)|, below 1 when the quantized layer
 *   sees less of the perturbation than the full-precision one, above 1 when it sees more;
 * - bin change rate: the share of quantized outputs whose quantization bin differs between x and x' (only for
 *   layers with an output quantizer).
 */

export interface LayerShift {
  readonly layer: string;
  /** Values per layer output accumulated (samples × units). */
  readonly elements: number;
  readonly cleanShift: number | null;
  readonly fpPerturbation: number;
  readonly qPerturbation: number;
  readonly perturbationRatio: number | null;
  /** Null when the layer's output is not quantized. */
  readonly binChangeRate: number | null;
}

/** Accumulates the value-shift sums of one layer over batches. */
export class LayerShiftAccumulator {
  private elements = 0;
  private shift = 0;
  private fpMass = 0;
  private fpPert = 0;
  private qPert = 0;
  private changed = 0;

  constructor(
    readonly layer: string,
    readonly quantizedOutput: boolean,
  ) {}

  /** One batch of the layer's outputs: full precision and quantized, on clean and perturbed inputs (same layout). */
  add(fpClean: ArrayLike<number>, fpPerturbed: ArrayLike<number>, qClean: ArrayLike<number>, qPerturbed: ArrayLike<number>): void {
    const n = fpClean.length;
    if (fpPerturbed.length !== n || qClean.length !== n || qPerturbed.length !== n) throw new Error(`layer ${this.layer}: outputs of different sizes`);
    for (let i = 0; i < n; i++) {
      const f = fpClean[i]!;
      const q = qClean[i]!;
      const dq = qPerturbed[i]! - q;
      this.shift += Math.abs(q - f);
      this.fpMass += Math.abs(f);
      this.fpPert += Math.abs(fpPerturbed[i]! - f);
      this.qPert += Math.abs(dq);
      if (dq !== 0) this.changed++;
    }
    this.elements += n;
  }

  summary(): LayerShift {
    const e = this.elements;
    const fp = e ? this.fpPert / e : 0;
    const q = e ? this.qPert / e : 0;
    return {
      layer: this.layer,
      elements: e,
      cleanShift: this.fpMass > 0 ? this.shift / this.fpMass : null,
      fpPerturbation: fp,
      qPerturbation: q,
      perturbationRatio: fp > 0 ? q / fp : null,
      binChangeRate: this.quantizedOutput && e ? this.changed / e : null,
    };
  }
}
