/**
 * Geometry shared by the attacks: per-sample norms, projection onto the ε-ball intersected with the
 * classifier's bounds, gradient normalisation and random starting points. Every function tidies what it
 * allocates and returns one new tensor (or plain arrays).
 */
import { tf } from '../backend/tf.js';
import type { Rng } from '../core/rng.js';
import type { Norm } from './types.js';

const AXES = [1, 2, 3];
/** Guards divisions by a zero norm (a zero gradient leaves the sample where it is). */
const TINY = 1e-12;
/**
 * L2 projections land this fraction inside the sphere, so that float32 rounding of the projected point never
 * leaves it outside the ball.
 */
export const L2_SHRINK = 1 - 1e-6;

/** Per-sample L∞ and L2 norms of `a − b`. */
export function perturbationNorms(a: tf.Tensor4D, b: tf.Tensor4D): { linf: Float32Array; l2: Float32Array } {
  const [linf, l2] = tf.tidy(() => {
    const d = tf.sub(a, b);
    return [tf.max(tf.abs(d), AXES), tf.sqrt(tf.sum(tf.square(d), AXES))];
  });
  const out = { linf: linf!.dataSync() as Float32Array, l2: l2!.dataSync() as Float32Array };
  tf.dispose([linf!, l2!]);
  return out;
}

/** Per-sample L2 norm, shaped `[N, 1, 1, 1]` for broadcasting. */
function l2Norm(t: tf.Tensor4D): tf.Tensor4D {
  return tf.sqrt(tf.sum(tf.square(t), AXES, true)) as tf.Tensor4D;
}

/**
 * Projects `xAdv` onto {x' : ‖x' − x‖ ≤ ε} and then clips it to `bounds`. Clipping after the projection keeps
 * the point in the ball (it only shrinks |x' − x| coordinate-wise), so the result lies in both sets.
 */
export function project(xAdv: tf.Tensor4D, x: tf.Tensor4D, epsilon: number, norm: Norm, bounds: readonly [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    let delta = tf.sub(xAdv, x) as tf.Tensor4D;
    if (norm === 'linf') {
      delta = tf.clipByValue(delta, -epsilon, epsilon);
    } else {
      const factor = tf.minimum(1, tf.div(epsilon * L2_SHRINK, tf.maximum(l2Norm(delta), TINY)));
      delta = tf.mul(delta, factor);
    }
    return tf.clipByValue(tf.add(x, delta), bounds[0], bounds[1]) as tf.Tensor4D;
  });
}

/** The steepest-ascent direction of unit norm for a gradient: sign(g) for L∞, g/‖g‖₂ for L2. */
export function normalizeGradient(g: tf.Tensor4D, norm: Norm): tf.Tensor4D {
  return tf.tidy(() => (norm === 'linf' ? tf.sign(g) : tf.div(g, tf.maximum(l2Norm(g), TINY))) as tf.Tensor4D);
}

/** g divided by its per-sample mean absolute value (the L1 normalisation of MIM, up to a constant). */
export function l1Normalize(g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(g, tf.maximum(tf.mean(tf.abs(g), AXES, true), TINY)) as tf.Tensor4D);
}

/**
 * A uniformly random point of the ε-ball around each sample (uniform in the cube for L∞; for L2 a Gaussian
 * direction with radius ε·u^(1/d), which is uniform in the ball), clipped to `bounds`.
 */
export function randomStart(x: tf.Tensor4D, epsilon: number, norm: Norm, bounds: readonly [number, number], rng: Rng): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const d = h * w * c;
  const noise = new Float32Array(n * d);
  if (norm === 'linf') {
    for (let i = 0; i < noise.length; i++) noise[i] = (2 * rng.next() - 1) * epsilon;
  } else {
    for (let s = 0; s < n; s++) {
      let sq = 0;
      for (let j = 0; j < d; j++) {
        const v = rng.normal();
        noise[s * d + j] = v;
        sq += v * v;
      }
      const radius = (epsilon * Math.pow(rng.next(), 1 / d)) / Math.max(Math.sqrt(sq), TINY);
      for (let j = 0; j < d; j++) noise[s * d + j]! *= radius;
    }
  }
  return tf.tidy(() => tf.clipByValue(tf.add(x, tf.tensor4d(noise, x.shape)), bounds[0], bounds[1]) as tf.Tensor4D);
}

/** `a` where `mask[i]` is 1, else `b` (per sample). */
export function selectSamples(mask: Uint8Array, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const m = tf.tensor4d(Float32Array.from(mask), [mask.length, 1, 1, 1]);
    return tf.add(tf.mul(a, m), tf.mul(b, tf.sub(1, m))) as tf.Tensor4D;
  });
}
