/**
 * Points near a classifier's decision boundary, for Song, Fallon & Li's boundary-based retraining
 * (arXiv 2012.14965). A minimum-norm attack of the engine (DeepFool or FAB, untargeted, through the classifier's
 * own gradients: the STE on a fake-quant network) gives each input x a perturbation δ that changes its label.
 * The crossing along the segment x + t·δ, t ∈ [0, 1], is then located by bisection (`bisectionSteps` forward
 * passes), which leaves t_lo, the last t still classified as the true label, and t_hi, the first t that is not:
 * `boundary` = x + t_lo·δ (on the boundary to within (t_hi − t_lo)·‖δ‖, still correct) and `pushed` =
 * x + (1 + overshoot)·t_hi·δ, clipped to the bounds (a small relative step past it, DeepFool's convention for
 * `overshoot`; where that lands back on the true label, x + t_hi·δ itself). Inputs that are misclassified already, or that the attack did not move across the boundary, are
 * not `found`; both points are x itself there.
 */
import { tf } from '../backend/tf.js';
import type { Rng } from '../core/rng.js';
import { predictions } from '../attacks/losses.js';
import { resolveOptions } from '../attacks/options.js';
import { getAttack } from '../attacks/registry.js';
import type { Norm } from '../attacks/types.js';
import type { Classifier } from '../models/classifier.js';
import { BOUNDARY_SEARCH_NAMES } from './defense-names.js';

export const BOUNDARY_SEARCHES = BOUNDARY_SEARCH_NAMES;
export type BoundarySearchAttack = (typeof BOUNDARY_SEARCHES)[number];

/** How boundary points are searched for. */
export interface BoundarySearch {
  readonly attack: BoundarySearchAttack;
  readonly norm: Norm;
  /** The attack's iterations. */
  readonly steps: number;
  /** Relative push past the located crossing. */
  readonly overshoot: number;
  /** Bisection steps along the attack's perturbation. */
  readonly bisectionSteps: number;
}

export interface BoundaryPoints {
  /** x + t_lo·δ: just on the true label's side of the boundary. */
  readonly boundary: tf.Tensor4D;
  /** x + (1 + overshoot)·t_hi·δ: just past it. */
  readonly pushed: tf.Tensor4D;
  /** 1 where a crossing was found. */
  readonly found: Uint8Array;
}

function predict(c: Classifier, x: tf.Tensor4D): Int32Array {
  const z = c.logits(x);
  const p = predictions(z);
  z.dispose();
  return p;
}

/** `x + t·δ` with one t per sample. */
function along(x: tf.Tensor4D, delta: tf.Tensor4D, t: Float32Array): tf.Tensor4D {
  return tf.tidy(() => tf.add(x, tf.mul(delta, tf.tensor4d(t, [t.length, 1, 1, 1]))) as tf.Tensor4D);
}

/** Boundary points of a batch (see the module comment). `x` is not disposed; the caller owns the result. */
export function findBoundaryPoints(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, search: BoundarySearch, rng: Rng): BoundaryPoints {
  const n = labels.length;
  const spec = getAttack(search.attack);
  const options = resolveOptions(spec, classifier, n, { epsilon: 0, norm: search.norm, steps: search.steps, rng });
  const found = new Uint8Array(n);
  const lo = new Float32Array(n);
  const hi = new Float32Array(n);
  const min = spec.minimize!(classifier, x, labels, options);
  const delta = tf.sub(min.adversarial, x) as tf.Tensor4D;
  const end = predict(classifier, min.adversarial);
  min.adversarial.dispose();
  try {
    const clean = predict(classifier, x);
    for (let i = 0; i < n; i++) {
      found[i] = clean[i] === labels[i] && end[i] !== labels[i] ? 1 : 0;
      hi[i] = found[i] ? 1 : 0;
    }
    for (let b = 0; b < search.bisectionSteps; b++) {
      const mid = Float32Array.from(lo, (l, i) => (l + hi[i]!) / 2);
      const point = along(x, delta, mid);
      const p = predict(classifier, point);
      point.dispose();
      for (let i = 0; i < n; i++) {
        if (!found[i]) continue;
        if (p[i] === labels[i]) lo[i] = mid[i]!;
        else hi[i] = mid[i]!;
      }
    }
    const [blo, bhi] = classifier.bounds;
    const boundary = along(x, delta, lo);
    const push = Float32Array.from(hi, (h) => h * (1 + search.overshoot));
    let pushed = tf.tidy(() => tf.clipByValue(along(x, delta, push), blo, bhi) as tf.Tensor4D);
    // Where the push (or the clip) lands back on the true label, keep x + t_hi·δ, which is past the boundary.
    const back = predict(classifier, pushed);
    const fallback = Float32Array.from(push, (t, i) => (found[i] && back[i] === labels[i] ? hi[i]! : t));
    if (fallback.some((t, i) => t !== push[i])) {
      pushed.dispose();
      pushed = tf.tidy(() => tf.clipByValue(along(x, delta, fallback), blo, bhi) as tf.Tensor4D);
    }
    return { boundary, pushed, found };
  } finally {
    delta.dispose();
  }
}
