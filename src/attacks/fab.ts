/**
 * FAB: the fast adaptive boundary attack, untargeted (`fab`) and over the top wrong classes (`fab-t`).
 *
 * Croce & Hein 2020, "Minimally distorted adversarial examples with a fast adaptive boundary attack",
 * arXiv 1907.02044; FAB-T is the member of AutoAttack's standard ensemble (arXiv 2003.01690). Each iteration
 * linearizes the decision boundary between the true class y and a class s at the current point x (s: the
 * given or ranked target, or for `fab` the class whose linearized boundary is nearest in the dual norm),
 * projects both x and the original input u onto that hyperplane inside the box (`fab-projection.ts`), and
 * steps to a convex combination of the two projections, biased towards u:
 *
 *     α = min(‖δ_x‖ / (‖δ_x‖ + ‖δ_u‖), α_max),  x ← clip((1 − α)(x + η·δ_x) + α(u + η·δ_u)),
 *
 * with δ_x, δ_u the two projection steps and η = 1 + overshoot. When the new point is adversarial it is kept if
 * it is the closest to u so far, and the search steps back towards u: x ← (1 − β)u + βx. α_max = 0.1 and
 * β = 0.9 are the paper's values. Restarts after the first start from u plus a random perturbation of half the
 * smaller of ε and the best distance found so far.
 *
 * FAB is a minimum-norm attack: the closest adversarial point found is projected onto the ε-ball and checked
 * (minimum-norm.ts), so a sample is broken at ε when FAB found a point within ε.
 * - `fab-t`: untargeted robustness from targeted runs, one per wrong class in order of clean logit (the
 *   runner-up first, `targetClasses` of them); any misclassification counts and each sample keeps its closest
 *   point over all runs. One gradient call per step.
 * - `fab`: untargeted; the Jacobian of all logit differences per step (one gradient call per class).
 * - With `targets` given, both run towards those classes, linearizing z_t against the strongest other class at
 *   each step, and success means being classified as the target.
 *
 * Threat model: L∞ (default) or L2. Options (defaults): `steps` (100 per run), `restarts` (1), `overshoot`
 * (0.05, so η = 1.05), `targetClasses` (9, `fab-t`). Queries: per step, the gradient calls and one forward pass.
 *
 * @example
 * const r = attack('fab-t', classifier, x, labels, { epsilon: 0.1, steps: 100, seed: 0 });
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { classAtRank } from './apgd-targeted.js';
import { jacobianOfDifferences } from './deepfool.js';
import { projectOntoHyperplaneInBox, vectorNorm } from './fab-projection.js';
import { hostPixels, predictImages } from './host-queries.js';
import { predictions } from './losses.js';
import { runMinimumNorm } from './minimum-norm.js';
import { fillUniformSymmetric } from './noise.js';
import type { AttackSpec, MinimumNormResult, ResolvedOptions } from './types.js';

/** Largest weight of the projection of the original input in a step. */
const ALPHA_MAX = 0.1;
/** Backward step towards the original input after an adversarial point: x ← (1 − β)u + βx. */
const BETA = 0.9;

/** The closest adversarial point per sample so far, over runs and restarts. */
interface Best {
  readonly points: Float32Array;
  readonly norms: Float64Array;
  readonly queries: Int32Array;
}

/** Per sample: the logits at x and the gradient of z_s − z_from for the class s each sample moves towards. */
interface Linearization {
  readonly logits: Float32Array;
  readonly grads: Float32Array;
  readonly towards: Int32Array;
  readonly from: Int32Array;
}

/**
 * The linearization of z_s − z_from per sample, s = `towards[i]`. `from` is the true label (ranked FAB-T runs,
 * where any misclassification counts) or, for given targets, the strongest other class at x, so that the
 * hyperplane is the boundary the target must actually cross.
 */
function linearizeTowards(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, towards: Int32Array, fromStrongestOther: boolean): Linearization {
  const k = classifier.numClasses;
  const n = labels.length;
  let logitsT: tf.Tensor2D | undefined;
  const from = Int32Array.from(labels);
  const g = tf.tidy(() =>
    tf.grad((input: tf.Tensor) => {
      const z = classifier.logits(input as tf.Tensor4D);
      logitsT = tf.keep(z);
      if (fromStrongestOther) {
        const zs = z.dataSync() as Float32Array;
        for (let i = 0; i < n; i++) {
          let c = towards[i] === 0 ? 1 : 0;
          for (let j = 0; j < k; j++) if (j !== towards[i] && zs[i * k + j]! > zs[i * k + c]!) c = j;
          from[i] = c;
        }
      }
      const dir = tf.cast(tf.sub(tf.oneHot(tf.tensor1d(towards, 'int32'), k), tf.oneHot(tf.tensor1d(from, 'int32'), k)), 'float32');
      return tf.sum(tf.mul(z, dir));
    })(x),
  );
  const logits = logitsT!.dataSync() as Float32Array;
  const grads = g.dataSync() as Float32Array;
  tf.dispose([logitsT!, g]);
  return { logits, grads, towards, from };
}

/** Untargeted FAB's choice: per sample the class s ≠ y minimizing |z_s − z_y| / ‖∇(z_s − z_y)‖_dual. */
function linearizeNearest(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions): Linearization {
  const n = labels.length;
  const k = classifier.numClasses;
  const d = x.size / n;
  const oneHotY = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), k), 'float32') as tf.Tensor2D);
  const { logits: lt, grads } = jacobianOfDifferences(classifier, x, oneHotY);
  oneHotY.dispose();
  const logits = lt.dataSync() as Float32Array;
  const all = grads.map((t) => t.dataSync() as Float32Array);
  tf.dispose([lt, ...grads]);
  const towards = new Int32Array(n);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    let best = y === 0 ? 1 : 0;
    let bestDist = Infinity;
    for (let c = 0; c < k; c++) {
      if (c === y) continue;
      const g = all[c]!.subarray(i * d, (i + 1) * d);
      // The dual norm: L2 for the L2 attack, L1 for L∞.
      const dual = o.norm === 'l2' ? vectorNorm(g, 'l2') : g.reduce((a, v) => a + Math.abs(v), 0);
      const dist = Math.abs(logits[i * k + c]! - logits[i * k + y]!) / (dual + 1e-12);
      if (dist < bestDist) {
        bestDist = dist;
        best = c;
      }
    }
    towards[i] = best;
    out.set(all[best]!.subarray(i * d, (i + 1) * d), i * d);
  }
  return { logits, grads: out, towards, from: labels };
}

/**
 * One FAB run from `start` (host pixels of all samples) towards `towards` (null: the nearest class each step).
 * `success(pred, i)` says whether prediction `pred` of sample i is adversarial.
 */
function fabRun(
  classifier: Classifier,
  u: Float32Array,
  start: Float32Array,
  shape: [number, number, number, number],
  labels: Int32Array,
  towards: Int32Array | null,
  success: (pred: number, i: number) => boolean,
  o: ResolvedOptions,
  best: Best,
): void {
  const n = labels.length;
  const d = u.length / n;
  const [lo, hi] = classifier.bounds;
  const eta = 1 + o.overshoot;
  const k = classifier.numClasses;
  const x = Float32Array.from(start);
  for (let t = 0; t < o.steps; t++) {
    const xt = tf.tensor4d(x, shape);
    const lin = towards ? linearizeTowards(classifier, xt, labels, towards, o.targets !== null) : linearizeNearest(classifier, xt, labels, o);
    xt.dispose();
    for (let i = 0; i < n; i++) best.queries[i]! += towards ? 1 : k;
    const next = new Float32Array(x.length);
    for (let i = 0; i < n; i++) {
      const xi = x.subarray(i * d, (i + 1) * d);
      const ui = u.subarray(i * d, (i + 1) * d);
      const w = lin.grads.subarray(i * d, (i + 1) * d);
      // Hyperplane of the linearization at x: (z_s − z_from)(x) + w·(z − x) = 0, i.e. w·z + b = 0.
      let b = lin.logits[i * k + lin.towards[i]!]! - lin.logits[i * k + lin.from[i]!]!;
      for (let j = 0; j < d; j++) b -= w[j]! * xi[j]!;
      const px = projectOntoHyperplaneInBox(xi, w, b, lo, hi, o.norm).point;
      const pu = projectOntoHyperplaneInBox(ui, w, b, lo, hi, o.norm).point;
      const dx = new Float64Array(d);
      const du = new Float64Array(d);
      for (let j = 0; j < d; j++) {
        dx[j] = px[j]! - xi[j]!;
        du[j] = pu[j]! - ui[j]!;
      }
      const nx = vectorNorm(dx, o.norm);
      const nu = vectorNorm(du, o.norm);
      const alpha = nx + nu > 0 ? Math.min(nx / (nx + nu), ALPHA_MAX) : 0;
      for (let j = 0; j < d; j++) {
        const v = (1 - alpha) * (xi[j]! + eta * dx[j]!) + alpha * (ui[j]! + eta * du[j]!);
        next[i * d + j] = v < lo ? lo : v > hi ? hi : v;
      }
    }
    const pred = predictImages(classifier, next, n);
    for (let i = 0; i < n; i++) {
      best.queries[i]!++;
      const ni = next.subarray(i * d, (i + 1) * d);
      const ui = u.subarray(i * d, (i + 1) * d);
      if (success(pred[i]!, i)) {
        const diff = new Float64Array(d);
        for (let j = 0; j < d; j++) diff[j] = ni[j]! - ui[j]!;
        const dist = vectorNorm(diff, o.norm);
        if (dist < best.norms[i]!) {
          best.norms[i] = dist;
          best.points.set(ni, i * d);
        }
        for (let j = 0; j < d; j++) ni[j] = (1 - BETA) * ui[j]! + BETA * ni[j]!;
      }
    }
    x.set(next);
  }
}

/** Starting points of restart r ≥ 1: u plus uniform noise scaled to half of min(ε, best distance) in the norm. */
function restartPoints(u: Float32Array, n: number, best: Best, o: ResolvedOptions, bounds: readonly [number, number]): Float32Array {
  const d = u.length / n;
  const out = new Float32Array(u.length);
  const noise = new Float32Array(d);
  for (let i = 0; i < n; i++) {
    fillUniformSymmetric(o.rng, noise);
    const radius = 0.5 * Math.min(o.epsilon > 0 ? o.epsilon : Infinity, best.norms[i]!);
    const scale = Number.isFinite(radius) ? radius / Math.max(vectorNorm(noise, o.norm), 1e-12) : 0;
    for (let j = 0; j < d; j++) {
      const v = u[i * d + j]! + scale * noise[j]!;
      out[i * d + j] = v < bounds[0] ? bounds[0] : v > bounds[1] ? bounds[1] : v;
    }
  }
  return out;
}

function fab(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions, ranked: boolean): MinimumNormResult {
  const n = labels.length;
  const shape = x.shape as [number, number, number, number];
  const u = hostPixels(x);
  const best: Best = { points: Float32Array.from(u), norms: new Float64Array(n).fill(Infinity), queries: new Int32Array(n).fill(1) };
  const clean = classifier.logits(x);
  const cleanLogits = clean.dataSync() as Float32Array;
  const cleanPred = predictions(clean);
  clean.dispose();
  const targets = o.targets;
  const hit = targets ? (pred: number, i: number): boolean => pred === targets[i] : (pred: number, i: number): boolean => pred !== labels[i];
  for (let i = 0; i < n; i++) if (hit(cleanPred[i]!, i)) best.norms[i] = 0;
  const runs: (Int32Array | null)[] = targets
    ? [targets]
    : ranked
      ? Array.from({ length: o.targetClasses }, (_, r) => classAtRank(cleanLogits, classifier.numClasses, r + 1))
      : [null];
  for (const towards of runs) {
    for (let r = 0; r < o.restarts; r++) {
      const start = r === 0 ? u : restartPoints(u, n, best, o, classifier.bounds);
      fabRun(classifier, u, start, shape, labels, towards, hit, o, best);
    }
  }
  return { adversarial: tf.tensor4d(best.points, shape), queries: best.queries };
}

const FAB_DEFAULTS = { steps: 100, restarts: 1, overshoot: 0.05 } as const;

export const fabAttack: AttackSpec = {
  name: 'fab',
  summary: 'FAB, fast adaptive boundary attack, minimum norm (Croce & Hein 2020, arXiv 1907.02044)',
  norms: ['linf', 'l2'],
  targeted: true,
  access: 'gradient',
  uses: ['steps', 'restarts', 'overshoot'],
  defaults: FAB_DEFAULTS,
  minimize: (c, x, y, o) => fab(c, x, y, o, false),
  run: runMinimumNorm((c, x, y, o) => fab(c, x, y, o, false)),
};

export const fabT: AttackSpec = {
  name: 'fab-t',
  summary: 'FAB-T, FAB towards each of the top wrong classes (Croce & Hein 2020, arXiv 1907.02044, 2003.01690)',
  norms: ['linf', 'l2'],
  targeted: true,
  access: 'gradient',
  uses: ['steps', 'restarts', 'overshoot', 'targetClasses'],
  defaults: { ...FAB_DEFAULTS, targetClasses: 9 },
  minimize: (c, x, y, o) => fab(c, x, y, o, true),
  run: runMinimumNorm((c, x, y, o) => fab(c, x, y, o, true)),
};
