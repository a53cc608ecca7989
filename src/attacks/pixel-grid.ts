/**
 * The 8-bit image lattice: a real attacker submits images with integer pixel values, so an adversarial input
 * only counts if it survives rounding to the lattice lo + k·(hi − lo)/levels (levels = 255 for 8-bit images).
 * `snapToGrid` rounds each adversarial input to a lattice point inside the same ε-ball and the bounds:
 * - L∞: per pixel, the lattice point nearest to x_adv among those within ε of x (exactly the nearest lattice
 *   point of the ball);
 * - L2: every pixel first rounds towards x (which keeps the norm ≤ ε, since x itself is on the lattice); then
 *   pixels whose nearest lattice point lies away from x take it, largest rounding error first, while the
 *   norm stays ≤ ε.
 * The caller re-classifies the rounded inputs: rounding can undo an attack's success.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import type { Norm } from './types.js';

/** Slack, in lattice steps, for float32 pixels like k/255 that are not exactly on the lattice. */
const SLACK = 1e-3;

/**
 * `xAdv` rounded onto the lattice within the ε-ball around `x` and the bounds. Returns a new tensor.
 * @throws QrobustError when `x` itself is not on the lattice (then the ball may contain no lattice point).
 */
export function snapToGrid(xAdv: tf.Tensor4D, x: tf.Tensor4D, epsilon: number, norm: Norm, bounds: readonly [number, number], levels: number): tf.Tensor4D {
  const [lo, hi] = bounds;
  const unit = (hi - lo) / levels;
  const a = xAdv.dataSync() as Float32Array;
  const c = x.dataSync() as Float32Array;
  const n = x.shape[0];
  const d = n === 0 ? 0 : c.length / n;
  const out = new Float32Array(a.length);
  const code = (v: number): number => (v - lo) / unit;
  for (let k = 0; k < c.length; k++) {
    if (Math.abs(code(c[k]!) - Math.round(code(c[k]!))) > SLACK) {
      throw new QrobustError('invalid_argument', `pixel grid ${levels}: the clean inputs are not on the lattice k/${levels} (pixel value ${c[k]})`);
    }
  }
  const epsCodes = epsilon / unit;
  for (let s = 0; s < n; s++) {
    if (norm === 'linf') {
      for (let k = s * d; k < (s + 1) * d; k++) {
        const center = Math.round(code(c[k]!));
        const low = Math.max(0, center - Math.floor(epsCodes + SLACK));
        const high = Math.min(levels, center + Math.floor(epsCodes + SLACK));
        out[k] = lo + Math.min(Math.max(Math.round(code(a[k]!)), low), high) * unit;
      }
      continue;
    }
    // L2, in lattice units: towards x first, then the most useful roundings away from x within the budget.
    const budget = epsCodes * epsCodes + SLACK;
    const steps = new Int32Array(d);
    const gain: { k: number; frac: number }[] = [];
    let used = 0;
    for (let j = 0; j < d; j++) {
      const k = s * d + j;
      const offset = Math.min(Math.max(code(a[k]!), 0), levels) - Math.round(code(c[k]!));
      const toward = Math.trunc(offset);
      steps[j] = toward;
      used += toward * toward;
      const frac = Math.abs(offset - toward);
      if (frac > 0.5) gain.push({ k: j, frac });
    }
    gain.sort((p, q) => q.frac - p.frac || p.k - q.k);
    for (const { k: j } of gain) {
      const away = steps[j]! + Math.sign(code(a[s * d + j]!) - Math.round(code(c[s * d + j]!)));
      const extra = away * away - steps[j]! * steps[j]!;
      if (used + extra > budget) continue;
      used += extra;
      steps[j] = away;
    }
    for (let j = 0; j < d; j++) {
      const k = s * d + j;
      out[k] = lo + Math.min(Math.max(Math.round(code(c[k]!)) + steps[j]!, 0), levels) * unit;
    }
  }
  return tf.tensor4d(out, x.shape);
}
