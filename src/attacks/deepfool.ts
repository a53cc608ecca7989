/**
 * DeepFool: iterative linearisation of the decision boundary.
 *
 * Moosavi-Dezfooli, Fawzi & Frossard 2016, "DeepFool: a simple and accurate method to fool deep neural
 * networks", arXiv 1511.04599. At each step the classifier is replaced by its first-order expansion around the
 * current point; the step goes to the nearest boundary of that affine model between the true class y and any
 * other class k: distance |f_k| / ‖w_k‖_q with f_k = z_k − z_y, w_k = ∇(z_k − z_y) and q the dual norm (q = 2
 * for L2, q = 1 for L∞). Steps accumulate, and the total is scaled by (1 + overshoot) to cross the boundary.
 *
 * DeepFool is a minimal-perturbation attack; here, as for every attack, the result is then projected onto the
 * ε-ball and the bounds (minimum-norm.ts), so a sample counts as broken at ε only when DeepFool found a
 * perturbation within ε. `runAttack` runs the search once for its whole ε list.
 *
 * Threat model: L2 (default) or L∞, untargeted only. Options (defaults): `steps` (50), `overshoot` (0.02).
 * Queries: per step, one gradient call per class (the Jacobian of the logit differences), plus one forward pass.
 *
 * @example
 * const r = attack('deepfool', classifier, x, labels, { epsilon: 1.0, norm: 'l2' });
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { isAdversarial, predictions } from './losses.js';
import { runMinimumNorm } from './minimum-norm.js';
import type { AttackSpec, MinimumNormResult, ResolvedOptions } from './types.js';

export const DEEPFOOL_DEFAULTS = { steps: 50, overshoot: 0.02 } as const;

const AXES = [1, 2, 3];
/** Keeps a step non-zero when a sample sits exactly on a linearised boundary. */
const MIN_STEP = 1e-4;

/** Gradients ∇(z_c − z_y) for every class c (one gradient call each), and the logits at `x` from the first. */
export function jacobianOfDifferences(classifier: Classifier, x: tf.Tensor4D, oneHotY: tf.Tensor2D): { logits: tf.Tensor2D; grads: tf.Tensor4D[] } {
  const k = classifier.numClasses;
  let logits: tf.Tensor2D | undefined;
  const grads: tf.Tensor4D[] = [];
  for (let c = 0; c < k; c++) {
    const oneHotC = tf.tidy(() => tf.cast(tf.oneHot(tf.fill([x.shape[0]], c, 'int32') as tf.Tensor1D, k), 'float32'));
    grads.push(
      tf.grad((input: tf.Tensor) => {
        const z = classifier.logits(input as tf.Tensor4D);
        if (c === 0) logits = tf.keep(z);
        return tf.sum(tf.mul(z, tf.sub(oneHotC, oneHotY)));
      })(x) as tf.Tensor4D,
    );
    oneHotC.dispose();
  }
  return { logits: logits!, grads };
}

function deepfool(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions): MinimumNormResult {
  const n = labels.length;
  const k = classifier.numClasses;
  const queries = new Int32Array(n);
  const oneHotY = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), k), 'float32') as tf.Tensor2D);
  const done = new Uint8Array(n);
  let total = tf.zerosLike(x);
  let xAdv = x.clone();
  for (let t = 0; t < o.steps; t++) {
    const { logits, grads } = jacobianOfDifferences(classifier, xAdv, oneHotY);
    for (let i = 0; i < n; i++) if (!done[i]) queries[i]! += k;
    const z = logits.dataSync() as Float32Array;
    const adv = isAdversarial(predictions(logits), labels, null);
    logits.dispose();
    for (let i = 0; i < n; i++) if (adv[i]) done[i] = 1;
    if (done.every((d) => d === 1)) {
      tf.dispose(grads);
      break;
    }
    // Dual norm of each w_c per sample: ‖·‖₂ for the L2 attack, ‖·‖₁ for L∞.
    const dual = grads.map((g) => {
      const t2 = tf.tidy(() => (o.norm === 'l2' ? tf.sqrt(tf.sum(tf.square(g), AXES)) : tf.sum(tf.abs(g), AXES)));
      const v = t2.dataSync() as Float32Array;
      t2.dispose();
      return v;
    });
    // Per sample: the class whose linearised boundary is nearest, and the step length along its direction.
    const coef = Array.from({ length: k }, () => new Float32Array(n));
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      const y = labels[i]!;
      let best = -1;
      let bestDist = Infinity;
      for (let c = 0; c < k; c++) {
        if (c === y) continue;
        const dist = (Math.abs(z[i * k + c]! - z[i * k + y]!) + MIN_STEP) / Math.max(dual[c]![i]!, 1e-12);
        if (dist < bestDist) {
          bestDist = dist;
          best = c;
        }
      }
      if (best < 0) continue;
      // L2: r = dist · w/‖w‖₂; L∞: r = dist · sign(w).
      coef[best]![i] = o.norm === 'l2' ? bestDist / Math.max(dual[best]![i]!, 1e-12) : bestDist;
    }
    const next = tf.tidy(() => {
      let step = tf.zerosLike(x) as tf.Tensor4D;
      for (let c = 0; c < k; c++) {
        if (coef[c]!.every((v) => v === 0)) continue;
        const dir = o.norm === 'l2' ? grads[c]! : tf.sign(grads[c]!);
        step = tf.add(step, tf.mul(dir, tf.tensor4d(coef[c]!, [n, 1, 1, 1]))) as tf.Tensor4D;
      }
      const newTotal = tf.add(total, step) as tf.Tensor4D;
      const candidate = tf.clipByValue(tf.add(x, tf.mul(newTotal, 1 + o.overshoot)), classifier.bounds[0], classifier.bounds[1]) as tf.Tensor4D;
      return [newTotal, candidate] as const;
    });
    tf.dispose([...grads, total, xAdv]);
    [total, xAdv] = next;
  }
  // A sample misclassified from the start never moves: its accumulated step stays zero.
  tf.dispose([total, oneHotY]);
  return { adversarial: xAdv, queries };
}

export const deepfoolAttack: AttackSpec = {
  name: 'deepfool',
  summary: 'DeepFool, nearest linearised boundary (Moosavi-Dezfooli et al. 2016, arXiv 1511.04599)',
  norms: ['l2', 'linf'],
  targeted: false,
  access: 'gradient',
  uses: ['steps', 'overshoot'],
  defaults: DEEPFOOL_DEFAULTS,
  minimize: deepfool,
  run: runMinimumNorm(deepfool),
};
