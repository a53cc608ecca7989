/**
 * C&W L2: the Carlini-Wagner minimum-L2 attack.
 *
 * Carlini & Wagner 2017, "Towards Evaluating the Robustness of Neural Networks", arXiv 1608.04644. It
 * minimises ‖x' − x‖₂² + c·f(x') over x' = lo + (hi − lo)·(tanh(w) + 1)/2, a change of variables that keeps x'
 * inside the bounds without clipping, with Adam on w. f(x') = max(−m(x'), −κ) where m is the margin of the
 * adversarial class (max_{j≠y} z_j − z_y untargeted, z_t − max_{j≠t} z_j targeted), so f stops rewarding once
 * the margin reaches the confidence κ. A binary search over c, per sample, looks for the smallest c that
 * still succeeds (×10 while no success has been seen, bisection afterwards). Each round restarts from x and
 * stops early when the objective has not decreased over a tenth of its steps (the paper's "abort early").
 * The result per sample is the adversarial point (margin ≥ κ) of smallest L2 distance found over all rounds;
 * as a minimum-norm attack it is reported at each ε by projection (minimum-norm.ts).
 *
 * Threat model: L2, untargeted or targeted. Options (defaults): `binarySearchSteps` (9), `steps` (1000 Adam
 * steps per round), `learningRate` (0.01), `initialConst` c₀ (0.001), `confidence` κ (0), `eot` (1).
 * Queries: one forward-and-gradient call (× `eot`) per step and round.
 *
 * @example
 * const r = attack('cw-l2', classifier, x, labels, { epsilon: 2, binarySearchSteps: 5, steps: 200 });
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { attackLoss, isAdversarial, predictions } from './losses.js';
import { runMinimumNorm } from './minimum-norm.js';
import type { AttackSpec, MinimumNormResult, ResolvedOptions } from './types.js';

export const CW_DEFAULTS = { binarySearchSteps: 9, steps: 1000, learningRate: 0.01, initialConst: 1e-3, confidence: 0 } as const;

const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;
/** |tanh(w)| stays below this at the start, so that pixels on the bounds map to a finite w. */
const TANH_LIMIT = 1 - 1e-6;
/** The constant c counts as unbounded above until a success has been seen. */
const NO_UPPER = 1e10;

interface Evaluation {
  readonly margin: Float32Array;
  readonly objective: number;
  readonly grad: tf.Tensor4D;
  readonly point: tf.Tensor4D;
  readonly squaredDistance: Float32Array;
  readonly predictions: Int32Array;
}

/** Objective, its gradient in w, and what is needed to track the best point, averaged over `eot` passes. */
function evaluate(classifier: Classifier, w: tf.Tensor4D, x: tf.Tensor4D, labelsT: tf.Tensor1D, targetsT: tf.Tensor1D | null, c: tf.Tensor1D, o: ResolvedOptions): Evaluation {
  const [lo, hi] = classifier.bounds;
  let gradSum: tf.Tensor4D | null = null;
  let marginSum: tf.Tensor1D | null = null;
  let logitsSum: tf.Tensor2D | null = null;
  let objective = 0;
  for (let k = 0; k < o.eot; k++) {
    let logits: tf.Tensor2D | undefined;
    let margin: tf.Tensor1D | undefined;
    let total: tf.Scalar | undefined;
    const grad = tf.grad((wv: tf.Tensor) => {
      const xa = tf.add(tf.mul(tf.add(tf.tanh(wv), 1), (hi - lo) / 2), lo) as tf.Tensor4D;
      const z = classifier.logits(xa);
      const m = attackLoss(z, labelsT, targetsT, 'margin');
      const f = tf.maximum(tf.neg(m), -o.confidence);
      const dist = tf.sum(tf.square(tf.sub(xa, x)), [1, 2, 3]);
      const sum = tf.sum(tf.add(dist, tf.mul(c, f))) as tf.Scalar;
      logits = tf.keep(z);
      margin = tf.keep(m);
      total = tf.keep(sum);
      return sum;
    })(w) as tf.Tensor4D;
    objective += total!.dataSync()[0]! / o.eot;
    total!.dispose();
    if (gradSum) {
      const sums: [tf.Tensor4D, tf.Tensor1D, tf.Tensor2D] = [tf.add(gradSum, grad), tf.add(marginSum!, margin!), tf.add(logitsSum!, logits!)];
      tf.dispose([gradSum, marginSum!, logitsSum!, grad, margin!, logits!]);
      [gradSum, marginSum, logitsSum] = sums;
    } else {
      [gradSum, marginSum, logitsSum] = [grad, margin!, logits!];
    }
  }
  const point = tf.tidy(() => tf.add(tf.mul(tf.add(tf.tanh(w), 1), (hi - lo) / 2), lo) as tf.Tensor4D);
  const distT = tf.tidy(() => tf.sum(tf.square(tf.sub(point, x)), [1, 2, 3]));
  const meanMargin = tf.div(marginSum!, o.eot);
  const meanLogits = tf.div(logitsSum!, o.eot) as tf.Tensor2D;
  const grad = o.eot === 1 ? gradSum! : (tf.div(gradSum!, o.eot) as tf.Tensor4D);
  const result: Evaluation = {
    margin: meanMargin.dataSync() as Float32Array,
    objective,
    grad,
    point,
    squaredDistance: distT.dataSync() as Float32Array,
    predictions: predictions(meanLogits),
  };
  tf.dispose([distT, meanMargin, meanLogits, marginSum!, logitsSum!, ...(o.eot === 1 ? [] : [gradSum!])]);
  return result;
}

function carliniWagner(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions): MinimumNormResult {
  const n = labels.length;
  const d = x.shape[1] * x.shape[2] * x.shape[3];
  const [lo, hi] = classifier.bounds;
  const labelsT = tf.tensor1d(labels, 'int32');
  const targetsT = o.targets ? tf.tensor1d(o.targets, 'int32') : null;
  const w0 = tf.tidy(() => tf.atanh(tf.clipByValue(tf.sub(tf.mul(tf.div(tf.sub(x, lo), hi - lo), 2), 1), -TANH_LIMIT, TANH_LIMIT)) as tf.Tensor4D);
  const best = Float32Array.from(x.dataSync() as Float32Array);
  const bestDistance = new Float32Array(n).fill(Infinity);
  const queries = new Int32Array(n);
  const c = new Float64Array(n).fill(o.initialConst);
  const lower = new Float64Array(n);
  const upper = new Float64Array(n).fill(NO_UPPER);
  const patience = Math.max(1, Math.ceil(o.steps / 10));
  try {
    for (let round = 0; round < o.binarySearchSteps; round++) {
      const cT = tf.tensor1d(Float32Array.from(c));
      let w = w0.clone();
      let m1 = tf.zerosLike(w);
      let m2 = tf.zerosLike(w);
      const succeeded = new Uint8Array(n);
      let checkpoint = Infinity;
      try {
        for (let t = 1; t <= o.steps; t++) {
          const e = evaluate(classifier, w, x, labelsT, targetsT, cT, o);
          queries.forEach((_, i) => (queries[i]! += o.eot));
          const adv = isAdversarial(e.predictions, labels, o.targets);
          const improved = new Uint8Array(n);
          for (let i = 0; i < n; i++) {
            if (!adv[i] || e.margin[i]! < o.confidence) continue;
            succeeded[i] = 1;
            if (e.squaredDistance[i]! < bestDistance[i]!) {
              bestDistance[i] = e.squaredDistance[i]!;
              improved[i] = 1;
            }
          }
          if (improved.some((v) => v === 1)) {
            const p = e.point.dataSync() as Float32Array;
            for (let i = 0; i < n; i++) if (improved[i]) best.set(p.subarray(i * d, (i + 1) * d), i * d);
          }
          const [nw, n1, n2] = tf.tidy(() => {
            const a = tf.add(tf.mul(m1, BETA1), tf.mul(e.grad, 1 - BETA1));
            const b = tf.add(tf.mul(m2, BETA2), tf.mul(tf.square(e.grad), 1 - BETA2));
            const step = tf.div(tf.div(a, 1 - BETA1 ** t), tf.add(tf.sqrt(tf.div(b, 1 - BETA2 ** t)), ADAM_EPSILON));
            return [tf.sub(w, tf.mul(step, o.learningRate)) as tf.Tensor4D, a as tf.Tensor4D, b as tf.Tensor4D];
          });
          tf.dispose([w, m1, m2, e.grad, e.point]);
          [w, m1, m2] = [nw!, n1!, n2!];
          if (t % patience === 0) {
            if (e.objective > checkpoint * 0.9999) break;
            checkpoint = e.objective;
          }
        }
      } finally {
        tf.dispose([w, m1, m2, cT]);
      }
      for (let i = 0; i < n; i++) {
        if (succeeded[i]) {
          upper[i] = Math.min(upper[i]!, c[i]!);
          c[i] = (lower[i]! + upper[i]!) / 2;
        } else {
          lower[i] = Math.max(lower[i]!, c[i]!);
          c[i] = upper[i]! < NO_UPPER ? (lower[i]! + upper[i]!) / 2 : c[i]! * 10;
        }
      }
    }
  } finally {
    tf.dispose([w0, labelsT, ...(targetsT ? [targetsT] : [])]);
  }
  return { adversarial: tf.tensor4d(best, x.shape), queries };
}

export const carliniWagnerL2: AttackSpec = {
  name: 'cw-l2',
  summary: 'Carlini-Wagner L2, tanh variables, Adam, binary search over c (Carlini & Wagner 2017, arXiv 1608.04644)',
  norms: ['l2'],
  targeted: true,
  access: 'gradient',
  uses: ['binarySearchSteps', 'steps', 'learningRate', 'initialConst', 'confidence', 'eot'],
  defaults: CW_DEFAULTS,
  minimize: carliniWagner,
  run: runMinimumNorm(carliniWagner),
};
