/**
 * Entry points: `attack` runs one attack at one ε after checking the inputs and options; `runAttack` runs it
 * over a list of ε (Foolbox-style), in batches, and summarises each ε as clean accuracy, robust accuracy,
 * success rate, mean perturbation and mean queries. A minimum-norm attack searches once per batch and is then
 * evaluated at every ε; with `pixelGrid` every adversarial input is rounded onto the 8-bit lattice and
 * classified again.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Classifier } from '../models/classifier.js';
import { isAdversarial, predictions } from './losses.js';
import { fixedEpsilon } from './minimum-norm.js';
import { resolveOptions } from './options.js';
import { snapToGrid } from './pixel-grid.js';
import { perturbationNorms } from './projection.js';
import { getAttack } from './registry.js';
import type { AttackOptions, AttackResult, AttackSpec, MinimumNormResult, Norm } from './types.js';

function specOf(a: string | AttackSpec): AttackSpec {
  return typeof a === 'string' ? getAttack(a) : a;
}

/** Throws unless `x` fits the classifier and lies in its bounds, and `labels` match it. */
function checkInputs(spec: AttackSpec, classifier: Classifier, x: tf.Tensor4D, labels: Int32Array): void {
  const name = spec.name;
  const [, h, w, c] = x.shape;
  const [eh, ew, ec] = classifier.inputShape;
  if (h !== eh || w !== ew || c !== ec) {
    throw new QrobustError('shape_mismatch', `${name}: expected inputs [N,${eh},${ew},${ec}], got [${x.shape.join(',')}]`);
  }
  if (labels.length !== x.shape[0]) throw new QrobustError('invalid_argument', `${name}: expected ${x.shape[0]} labels, got ${labels.length}`);
  for (const y of labels) {
    if (!Number.isInteger(y) || y < 0 || y >= classifier.numClasses) {
      throw new QrobustError('invalid_argument', `${name}: expected labels in 0..${classifier.numClasses - 1}, got ${y}`);
    }
  }
  if (spec.access === 'gradient' && classifier.gradientMode === 'none') {
    throw new QrobustError(
      'invalid_option',
      `${spec.name} needs input gradients, but the classifier (${classifier.description}) has none; use a score- or decision-based attack (square, spsa, hopskipjump)`,
    );
  }
  if (x.shape[0] === 0) return;
  const [lo, hi] = tf.tidy(() => [tf.min(x), tf.max(x)]).map((t) => {
    const v = t.dataSync()[0]!;
    t.dispose();
    return v;
  }) as [number, number];
  const [blo, bhi] = classifier.bounds;
  if (lo < blo || hi > bhi) throw new QrobustError('invalid_argument', `${name}: expected inputs in [${blo}, ${bhi}], got values in [${lo}, ${hi}]`);
}

/**
 * Runs one attack at one ε. `x` (NHWC, in `classifier.bounds`) is not disposed; the caller disposes
 * `result.adversarial`.
 * @throws QrobustError for an unknown attack name, bad options or inputs that do not fit the classifier.
 */
export function attack(a: string | AttackSpec, classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, options: AttackOptions): AttackResult {
  const spec = specOf(a);
  const resolved = resolveOptions(spec, classifier, labels.length, options);
  checkInputs(spec, classifier, x, labels);
  return spec.run(classifier, x, labels, resolved);
}

export interface RunAttackOptions extends Omit<AttackOptions, 'epsilon'> {
  readonly epsilons: readonly number[];
  /** Samples per attack call (default 256). */
  readonly batchSize?: number;
  /**
   * Round every adversarial input onto the lattice of this many steps over the bounds (255: 8-bit images),
   * inside its ε-ball, and classify it again (one more query). Needs inputs on the lattice.
   */
  readonly pixelGrid?: number;
  /** Called with each ε's result as soon as it is complete. */
  readonly onEpsilon?: (result: EpsilonResult) => void;
}

/** What rounding onto the pixel lattice did at one ε. */
export interface PixelGridOutcome {
  readonly levels: number;
  /** Samples that were adversarial before rounding and are not after. */
  readonly lostToRounding: number;
}

/** One ε of a `runAttack` call. */
export interface EpsilonResult extends AttackResult {
  readonly epsilon: number;
  /** Predicted class of each adversarial input. */
  readonly predictions: Int32Array;
  /** Fraction of samples classified correctly both clean and attacked. */
  readonly robustAccuracy: number;
  /** Fraction of the clean-correct samples the attack made adversarial. */
  readonly successRate: number;
  /** Mean perturbation in the attack's norm over the clean-correct samples it made adversarial (null if none). */
  readonly meanPerturbation: number | null;
  readonly meanQueries: number;
  /** Wall time of this ε; for minimum-norm attacks it includes the one search shared by all ε. */
  readonly seconds: number;
  readonly pixelGrid?: PixelGridOutcome;
}

export interface RunAttackResult {
  readonly attack: string;
  readonly norm: Norm;
  readonly targeted: boolean;
  readonly cleanPredictions: Int32Array;
  readonly cleanAccuracy: number;
  readonly results: readonly EpsilonResult[];
  /** Disposes every adversarial tensor. */
  dispose(): void;
}

function concatResults(parts: AttackResult[]): AttackResult {
  const cat = <T extends Uint8Array | Float32Array | Int32Array>(arrays: T[], make: (n: number) => T): T => {
    const out = make(arrays.reduce((s, a) => s + a.length, 0));
    let o = 0;
    for (const a of arrays) {
      out.set(a, o);
      o += a.length;
    }
    return out;
  };
  const adversarial = parts.length === 1 ? parts[0]!.adversarial : (tf.concat(parts.map((p) => p.adversarial), 0) as tf.Tensor4D);
  if (parts.length > 1) tf.dispose(parts.map((p) => p.adversarial));
  const brokenBy = parts.every((p) => p.brokenBy) ? parts.flatMap((p) => [...p.brokenBy!]) : undefined;
  return {
    adversarial,
    success: cat(parts.map((p) => p.success), (n) => new Uint8Array(n)),
    linf: cat(parts.map((p) => p.linf), (n) => new Float32Array(n)),
    l2: cat(parts.map((p) => p.l2), (n) => new Float32Array(n)),
    queries: cat(parts.map((p) => p.queries), (n) => new Int32Array(n)),
    ...(brokenBy ? { brokenBy } : {}),
  };
}

/**
 * Rounds a batch's adversarial inputs onto the pixel lattice and classifies them again. Returns the new result
 * (the old adversarial tensor is disposed) and how many successes rounding undid.
 */
function roundOntoGrid(
  classifier: Classifier,
  x: tf.Tensor4D,
  labels: Int32Array,
  targets: Int32Array | null,
  r: AttackResult,
  epsilon: number,
  norm: Norm,
  levels: number,
): { result: AttackResult; lost: number } {
  const adversarial = snapToGrid(r.adversarial, x, epsilon, norm, classifier.bounds, levels);
  r.adversarial.dispose();
  const logits = classifier.logits(adversarial);
  const success = isAdversarial(predictions(logits), labels, targets);
  logits.dispose();
  let lost = 0;
  success.forEach((s, i) => (lost += r.success[i]! && !s ? 1 : 0));
  const { linf, l2 } = perturbationNorms(adversarial, x);
  const brokenBy = r.brokenBy?.map((b, i) => (success[i] ? b : null));
  return {
    result: { adversarial, success, linf, l2, queries: Int32Array.from(r.queries, (q) => q + 1), ...(brokenBy ? { brokenBy } : {}) },
    lost,
  };
}

/** Predicted classes of `x`, in batches. */
export function predict(classifier: Classifier, x: tf.Tensor4D, batchSize = 256): Int32Array {
  const n = x.shape[0];
  const out = new Int32Array(n);
  for (let s = 0; s < n; s += batchSize) {
    const logits = tf.tidy(() => classifier.logits(tf.slice(x, s, Math.min(batchSize, n - s))));
    out.set(predictions(logits), s);
    logits.dispose();
  }
  return out;
}

/**
 * Runs an attack at every ε of `options.epsilons`, in batches of `batchSize`. Each ε gets its own random stream
 * forked from the seed, so a run is reproducible from (seed, ε list, batch size). The caller disposes the result.
 */
export function runAttack(
  a: string | AttackSpec,
  classifier: Classifier,
  x: tf.Tensor4D,
  labels: Int32Array,
  options: RunAttackOptions,
): RunAttackResult {
  const spec = specOf(a);
  const { epsilons, batchSize = 256, rng, seed, pixelGrid, onEpsilon, ...rest } = options;
  if (!Array.isArray(epsilons) || epsilons.length === 0) throw new QrobustError('invalid_option', `${spec.name}: expected a non-empty list of epsilons`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new QrobustError('invalid_option', `${spec.name}: expected batchSize >= 1, got ${batchSize}`);
  if (pixelGrid !== undefined && (!Number.isInteger(pixelGrid) || pixelGrid < 1)) {
    throw new QrobustError('invalid_option', `${spec.name}: expected pixelGrid >= 1 (an integer number of levels), got ${pixelGrid}`);
  }
  for (const epsilon of epsilons) resolveOptions(spec, classifier, labels.length, { ...rest, epsilon });
  checkInputs(spec, classifier, x, labels);
  const base = rng ?? new Rng(seed ?? 0);
  const norm = rest.norm ?? spec.norms[0]!;
  const n = labels.length;
  const clean = predict(classifier, x, batchSize);
  const cleanCorrect = Uint8Array.from(clean, (p, i) => (p === labels[i] ? 1 : 0));
  const correctCount = cleanCorrect.reduce((s, v) => s + v, 0);
  const results: EpsilonResult[] = [];
  const batches: { start: number; size: number; targets: Int32Array | null }[] = [];
  for (let s = 0; s < n; s += batchSize) {
    const size = Math.min(batchSize, n - s);
    batches.push({ start: s, size, targets: rest.targets ? rest.targets.subarray(s, s + size) : null });
  }
  // Minimum-norm attacks search once, with their own random stream, and are then evaluated at every ε.
  const found: MinimumNormResult[] = [];
  let searchSeconds = 0;
  try {
    if (spec.minimize) {
      const start = performance.now();
      const searchRng = new Rng(base.fork());
      const widest = Math.max(...epsilons);
      for (const b of batches) {
        const xb = tf.slice(x, b.start, b.size);
        try {
          const resolved = resolveOptions(spec, classifier, b.size, { ...rest, targets: b.targets, epsilon: widest, rng: searchRng });
          found.push(spec.minimize(classifier, xb, labels.subarray(b.start, b.start + b.size), resolved));
        } finally {
          xb.dispose();
        }
      }
      searchSeconds = (performance.now() - start) / 1000;
    }
    for (const epsilon of epsilons) {
      const start = performance.now();
      const epsRng = new Rng(base.fork());
      const parts: AttackResult[] = [];
      let lost = 0;
      batches.forEach((b, k) => {
        const xb = tf.slice(x, b.start, b.size);
        const lb = labels.subarray(b.start, b.start + b.size);
        try {
          let part: AttackResult;
          if (spec.minimize) {
            part = fixedEpsilon(classifier, xb, lb, b.targets, found[k]!, epsilon, norm);
          } else {
            const resolved = resolveOptions(spec, classifier, b.size, { ...rest, targets: b.targets, epsilon, rng: epsRng });
            part = spec.run(classifier, xb, lb, resolved);
          }
          if (pixelGrid !== undefined) {
            const snapped = roundOntoGrid(classifier, xb, lb, b.targets, part, epsilon, norm, pixelGrid);
            part = snapped.result;
            lost += snapped.lost;
          }
          parts.push(part);
        } finally {
          xb.dispose();
        }
      });
      const r = concatResults(parts);
      const seconds = (performance.now() - start) / 1000 + searchSeconds;
      const pred = predict(classifier, r.adversarial, batchSize);
      let robust = 0;
      let succeeded = 0;
      let normSum = 0;
      let querySum = 0;
      const norms = norm === 'l2' ? r.l2 : r.linf;
      for (let i = 0; i < n; i++) {
        querySum += r.queries[i]!;
        if (!cleanCorrect[i]) continue;
        if (pred[i] === labels[i]) robust++;
        if (r.success[i]) {
          succeeded++;
          normSum += norms[i]!;
        }
      }
      const result: EpsilonResult = {
        ...r,
        epsilon,
        predictions: pred,
        robustAccuracy: n ? robust / n : 0,
        successRate: correctCount ? succeeded / correctCount : 0,
        meanPerturbation: succeeded ? normSum / succeeded : null,
        meanQueries: n ? querySum / n : 0,
        seconds,
        ...(pixelGrid !== undefined ? { pixelGrid: { levels: pixelGrid, lostToRounding: lost } } : {}),
      };
      results.push(result);
      onEpsilon?.(result);
    }
  } catch (e) {
    tf.dispose(results.map((r) => r.adversarial));
    throw e;
  } finally {
    tf.dispose(found.map((f) => f.adversarial));
  }
  return {
    attack: spec.name,
    norm,
    targeted: rest.targets != null,
    cleanPredictions: clean,
    cleanAccuracy: n ? correctCount / n : 0,
    results,
    dispose: () => tf.dispose(results.map((r) => r.adversarial)),
  };
}
