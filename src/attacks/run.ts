/**
 * Entry points: `attack` runs one attack at one ε after checking the inputs and options; `runAttack` runs it
 * over a list of ε (Foolbox-style), in batches, and summarises each ε as clean accuracy, robust accuracy,
 * success rate, mean perturbation and mean queries.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Classifier } from '../models/classifier.js';
import { predictions } from './losses.js';
import { resolveOptions } from './options.js';
import { getAttack } from './registry.js';
import type { AttackOptions, AttackResult, AttackSpec, Norm } from './types.js';

function specOf(a: string | AttackSpec): AttackSpec {
  return typeof a === 'string' ? getAttack(a) : a;
}

/** Throws unless `x` fits the classifier and lies in its bounds, and `labels` match it. */
function checkInputs(name: string, classifier: Classifier, x: tf.Tensor4D, labels: Int32Array): void {
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
  checkInputs(spec.name, classifier, x, labels);
  return spec.run(classifier, x, labels, resolved);
}

export interface RunAttackOptions extends Omit<AttackOptions, 'epsilon'> {
  readonly epsilons: readonly number[];
  /** Samples per attack call (default 256). */
  readonly batchSize?: number;
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
  readonly seconds: number;
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
  return {
    adversarial,
    success: cat(parts.map((p) => p.success), (n) => new Uint8Array(n)),
    linf: cat(parts.map((p) => p.linf), (n) => new Float32Array(n)),
    l2: cat(parts.map((p) => p.l2), (n) => new Float32Array(n)),
    queries: cat(parts.map((p) => p.queries), (n) => new Int32Array(n)),
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
  const { epsilons, batchSize = 256, rng, seed, ...rest } = options;
  if (!Array.isArray(epsilons) || epsilons.length === 0) throw new QrobustError('invalid_option', `${spec.name}: expected a non-empty list of epsilons`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new QrobustError('invalid_option', `${spec.name}: expected batchSize >= 1, got ${batchSize}`);
  for (const epsilon of epsilons) resolveOptions(spec, classifier, labels.length, { ...rest, epsilon });
  checkInputs(spec.name, classifier, x, labels);
  const base = rng ?? new Rng(seed ?? 0);
  const n = labels.length;
  const clean = predict(classifier, x, batchSize);
  const cleanCorrect = Uint8Array.from(clean, (p, i) => (p === labels[i] ? 1 : 0));
  const correctCount = cleanCorrect.reduce((s, v) => s + v, 0);
  const results: EpsilonResult[] = [];
  try {
    for (const epsilon of epsilons) {
      const start = performance.now();
      const epsRng = new Rng(base.fork());
      const parts: AttackResult[] = [];
      for (let s = 0; s < n; s += batchSize) {
        const m = Math.min(batchSize, n - s);
        const xb = tf.slice(x, s, m);
        const targets = rest.targets ? rest.targets.subarray(s, s + m) : null;
        try {
          const resolved = resolveOptions(spec, classifier, m, { ...rest, targets, epsilon, rng: epsRng });
          parts.push(spec.run(classifier, xb, labels.subarray(s, s + m), resolved));
        } finally {
          xb.dispose();
        }
      }
      const r = concatResults(parts);
      const seconds = (performance.now() - start) / 1000;
      const pred = predict(classifier, r.adversarial, batchSize);
      let robust = 0;
      let succeeded = 0;
      let normSum = 0;
      let querySum = 0;
      const norms = (rest.norm ?? spec.norms[0]) === 'l2' ? r.l2 : r.linf;
      for (let i = 0; i < n; i++) {
        querySum += r.queries[i]!;
        if (!cleanCorrect[i]) continue;
        if (pred[i] === labels[i]) robust++;
        if (r.success[i]) {
          succeeded++;
          normSum += norms[i]!;
        }
      }
      results.push({
        ...r,
        epsilon,
        predictions: pred,
        robustAccuracy: n ? robust / n : 0,
        successRate: correctCount ? succeeded / correctCount : 0,
        meanPerturbation: succeeded ? normSum / succeeded : null,
        meanQueries: n ? querySum / n : 0,
        seconds,
      });
    }
  } catch (e) {
    tf.dispose(results.map((r) => r.adversarial));
    throw e;
  }
  const norm = rest.norm ?? spec.norms[0]!;
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
