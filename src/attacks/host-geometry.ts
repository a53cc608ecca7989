/** Per-sample geometry on host arrays (one image of d values), for the attacks that keep iterates on the host. */
import { L2_SHRINK } from './projection.js';
import type { Norm } from './types.js';

/** ‖a − b‖ in the given norm. */
export function distance(a: Float32Array, b: Float32Array, norm: Norm): number {
  let acc = 0;
  for (let k = 0; k < a.length; k++) {
    const v = Math.abs(a[k]! - b[k]!);
    acc = norm === 'linf' ? Math.max(acc, v) : acc + v * v;
  }
  return norm === 'linf' ? acc : Math.sqrt(acc);
}

/**
 * Projects `point` in place onto the ε-ball around `x`, then clips it to [lo, hi] (which keeps it in the ball,
 * as in projection.ts).
 */
export function projectInPlace(point: Float32Array, x: Float32Array, epsilon: number, norm: Norm, lo: number, hi: number): void {
  let scale = 1;
  if (norm === 'l2') {
    const dist = distance(point, x, 'l2');
    if (dist > epsilon * L2_SHRINK) scale = (epsilon * L2_SHRINK) / dist;
  }
  for (let k = 0; k < point.length; k++) {
    let delta = (point[k]! - x[k]!) * scale;
    if (norm === 'linf') delta = Math.min(Math.max(delta, -epsilon), epsilon);
    const v = x[k]! + delta;
    point[k] = v < lo ? lo : v > hi ? hi : v;
  }
}
