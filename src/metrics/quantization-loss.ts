/**
 * Adversarial loss and quantization loss (Song, Fallon & Li 2020, "Improving Adversarial Robustness in
 * Weight-quantized Neural Networks", arXiv 2012.14965). The paper names the two losses and proposes criteria to
 * measure them; its full text was not available to us, so the definitions below are the accuracy-based ones its
 * abstract implies, and the criteria are the first-order (Taylor) estimates of the same changes:
 *
 * - adversarial loss of a model: L_adv = Acc(f, X) − Acc(f, X_adv), the accuracy an attack takes away;
 *   its first-order criterion for an L∞ budget ε is the loss increase ε·E‖∇ₓL‖₁ (for L2: ε·E‖∇ₓL‖₂),
 *   the most a linearised loss can rise inside the ball;
 * - quantization loss: L_q = Acc(f, ·) − Acc(Q(f), ·), the accuracy quantization takes away, on clean inputs and
 *   on adversarial ones (each model under the same attack); its first-order criterion is the loss change
 *   ⟨∇_W L, Q(W) − W⟩ the weight change would cause if the loss were linear in the weights.
 */

/** Accuracy lost to an attack. */
export function adversarialLoss(cleanAccuracy: number, robustAccuracy: number): number {
  return cleanAccuracy - robustAccuracy;
}

/** Accuracy lost to quantization (negative when the quantized model is more accurate). */
export function quantizationLoss(fpAccuracy: number, qAccuracy: number): number {
  return fpAccuracy - qAccuracy;
}

/** First-order bound on the loss increase inside an ε-ball: ε times the dual norm of the input gradient. */
export function firstOrderAdversarialLoss(eps: number, meanGradientDualNorm: number): number {
  return eps * meanGradientDualNorm;
}

/** ⟨g, Δ⟩ summed over parameter tensors: the first-order loss change of moving the weights by Δ. */
export function firstOrderWeightLoss(gradients: readonly ArrayLike<number>[], deltas: readonly ArrayLike<number>[]): number {
  if (gradients.length !== deltas.length) throw new Error(`${gradients.length} gradient tensors but ${deltas.length} weight changes`);
  let s = 0;
  gradients.forEach((g, t) => {
    const d = deltas[t]!;
    if (g.length !== d.length) throw new Error(`parameter tensor ${t}: gradient of ${g.length} values, change of ${d.length}`);
    for (let i = 0; i < g.length; i++) s += g[i]! * d[i]!;
  });
  return s;
}
