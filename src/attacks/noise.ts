/** Random directions for the black-box attacks, drawn from the seeded `Rng` (never from Math.random). */
import type { Rng } from '../core/rng.js';

/** Fills `out` with independent standard normal values (Box-Muller, both outputs of each pair used). */
export function fillGaussian(rng: Rng, out: Float32Array): void {
  for (let i = 0; i < out.length; i += 2) {
    let u = 0;
    while (u === 0) u = rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(theta);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta);
  }
}

/** Fills `out` with independent uniform values in [−1, 1). */
export function fillUniformSymmetric(rng: Rng, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = 2 * rng.next() - 1;
}

/** Fills `out` with independent Rademacher signs ±1, 32 per random word. */
export function fillSigns(rng: Rng, out: Float32Array): void {
  for (let i = 0; i < out.length; i += 32) {
    const bits = rng.nextUint32();
    const end = Math.min(32, out.length - i);
    for (let b = 0; b < end; b++) out[i + b] = (bits >>> b) & 1 ? 1 : -1;
  }
}

/** A random ±1. */
export function randomSign(rng: Rng): number {
  return rng.next() < 0.5 ? -1 : 1;
}
