/**
 * Song, Fallon & Li's non-linear mapping defense (arXiv 2012.14965): a fixed elementwise transform in front of
 * the network whose derivative is close to zero almost everywhere, so that white-box gradient attacks find no
 * useful direction. The paper's abstract names the defense but not its function; the form here is our choice
 * (see docs/defenses.md): a **smooth staircase**. With `levels` L over the input range [lo, hi], let
 * q = (x − lo)/(hi − lo) · (L − 1), k = ⌊q⌋ and f = q − k; then
 *
 *     m(x) = lo + (hi − lo)/(L − 1) · (k + ½ · (1 + tanh(τ(f − ½)) / tanh(τ/2))),
 *
 * continuous and increasing, equal to x at every level, with a step of height one level at each half-way
 * point. As the steepness τ grows it tends to rounding onto L levels (bit-depth reduction), and its derivative
 *
 *     m′(x) = τ / (2 tanh(τ/2)) · sech²(τ(f − ½)),
 *
 * is about 2τ·e^{−τ} in the middle of a plateau and τ / (2 tanh(τ/2)) in the middle of a step.
 *
 * The default τ = 100 is chosen for float32: m′ > 0 everywhere, so a moderate τ only rescales each pixel's
 * gradient and leaves its sign, the direction of every signed-gradient (L∞) step, unchanged; at τ = 100 the
 * derivative underflows to exactly 0 over most of each plateau, which is what masks the gradient.
 *
 * Gradients: `exact` differentiates m itself (the masked gradient the defense relies on); `bpda` replaces m′ by
 * 1 (Athalye, Carlini & Wagner 2018, arXiv 1802.00420: the backward pass of the identity, which m approximates),
 * which is what an adaptive attacker uses.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';

/** The `inputMap` field of `qrobust.json`. */
export interface NonlinearMapRecord {
  readonly kind: 'smooth-staircase';
  readonly levels: number;
  readonly steepness: number;
  /** The input range the levels cover (the model's pixel range). */
  readonly range: readonly [number, number];
}

/** How the map is differentiated. */
export type MapGradient = 'exact' | 'bpda';

export const NONLINEAR_MAP_DEFAULTS = { levels: 8, steepness: 100 } as const;

/** Checks the map's options and fills in the defaults. */
export function resolveNonlinearMap(init: { levels?: number; steepness?: number }, range: readonly [number, number]): NonlinearMapRecord {
  const levels = init.levels ?? NONLINEAR_MAP_DEFAULTS.levels;
  const steepness = init.steepness ?? NONLINEAR_MAP_DEFAULTS.steepness;
  if (!Number.isInteger(levels) || levels < 2) throw new QrobustError('invalid_option', `--levels must be an integer >= 2, got ${levels}`);
  if (!Number.isFinite(steepness) || steepness <= 0) throw new QrobustError('invalid_option', `--steepness must be a positive number, got ${steepness}`);
  if (!(range[1] > range[0])) throw new QrobustError('invalid_option', `the input range [${range.join(', ')}] is empty`);
  return { kind: 'smooth-staircase', levels, steepness, range: [range[0], range[1]] };
}

/** Reads and checks a directory's `inputMap` field; undefined when it has none. */
export function inputMapOf(meta: Readonly<Record<string, unknown>>, dir: string): NonlinearMapRecord | undefined {
  const m = meta['inputMap'] as Partial<NonlinearMapRecord> | undefined;
  if (m === undefined) return undefined;
  if (m.kind !== 'smooth-staircase' || !Array.isArray(m.range) || m.range.length !== 2) {
    throw new QrobustError('not_a_model', `${dir}: invalid inputMap in qrobust.json (expected kind 'smooth-staircase' with a range)`);
  }
  return resolveNonlinearMap({ levels: m.levels!, steepness: m.steepness! }, m.range as [number, number]);
}

/** The smooth staircase of `x`, differentiated exactly by autodiff. */
function staircase(x: tf.Tensor, m: NonlinearMapRecord): tf.Tensor {
  return tf.tidy(() => {
    const [lo, hi] = m.range;
    const unit = (hi - lo) / (m.levels - 1);
    const q = tf.clipByValue(tf.div(tf.sub(x, lo), unit), 0, m.levels - 1);
    const k = tf.floor(q);
    const f = tf.sub(q, k);
    const rise = tf.mul(tf.add(tf.div(tf.tanh(tf.mul(tf.sub(f, 0.5), m.steepness)), Math.tanh(m.steepness / 2)), 1), 0.5);
    return tf.add(tf.mul(tf.add(k, rise), unit), lo);
  });
}

/** m(x) with the chosen gradient; allocates only the result. */
export function applyNonlinearMap(x: tf.Tensor4D, m: NonlinearMapRecord, gradient: MapGradient = 'exact'): tf.Tensor4D {
  if (gradient === 'exact') return staircase(x, m) as tf.Tensor4D;
  const bpda = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: staircase(args[0] as tf.Tensor, m),
    gradFunc: (dy: tf.Tensor) => dy.clone(),
  }));
  return bpda(x) as tf.Tensor4D;
}

/** m′(v) for one value (the closed form; tests compare it with finite differences). */
export function nonlinearMapDerivative(v: number, m: NonlinearMapRecord): number {
  const [lo, hi] = m.range;
  const q = ((v - lo) / (hi - lo)) * (m.levels - 1);
  if (q < 0 || q > m.levels - 1) return 0;
  const f = q - Math.floor(q);
  const c = Math.cosh(m.steepness * (f - 0.5));
  return m.steepness / (2 * Math.tanh(m.steepness / 2)) / (c * c);
}

/** One line for descriptions, e.g. "smooth staircase, 8 levels, steepness 100". */
export function describeNonlinearMap(m: NonlinearMapRecord): string {
  return `smooth staircase, ${m.levels} levels, steepness ${m.steepness}`;
}
