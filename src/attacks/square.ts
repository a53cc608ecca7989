/**
 * Square attack: score-based black-box random search over squares.
 *
 * Andriushchenko, Croce, Flammarion & Hein 2020, "Square Attack: a query-efficient black-box adversarial attack
 * via random search", arXiv 1912.00049. Each iteration proposes one change of the current point confined to a
 * random square window and keeps it when the loss improves (or the sample becomes adversarial). The square
 * covers a fraction p of the image that shrinks on the paper's schedule (square-patterns.ts).
 * - L∞: start from vertical stripes of ±ε; a proposal sets the window, per channel, to x ± ε.
 * - L2: start from a grid of pseudo-Gaussian blocks scaled to ‖δ‖₂ = ε; a proposal moves the perturbation mass
 *   of a second random window into the first, adds a new pseudo-Gaussian pattern there, and rescales so that
 *   the whole perturbation again has norm ε (the mass is conserved exactly per channel group).
 * Every point lies in the ε-ball and the bounds. Only logits are used: no gradients, so it also runs on
 * classifiers without them (the integer-exact path).
 *
 * Threat model: L∞ (default) or L2, untargeted or targeted. Options (defaults): `maxQueries` (5000 per sample,
 * the clean check and the initial point included), `pInit` (0.8, as in AutoAttack), `loss` ('margin'; 'ce'
 * is the paper's choice when targeted). Queries: each sample stops on success or when its budget is spent.
 *
 * @example
 * const r = attack('square', classifier, x, labels, { epsilon: 0.3, maxQueries: 5000, seed: 0 });
 */
import { tf } from '../backend/tf.js';
import type { Rng } from '../core/rng.js';
import type { Classifier } from '../models/classifier.js';
import { hostPixels, scoreImages } from './host-queries.js';
import { isAdversarial } from './losses.js';
import { randomSign } from './noise.js';
import { L2_SHRINK, perturbationNorms } from './projection.js';
import { squareFraction, squarePattern, squareSide } from './square-patterns.js';
import { pick, remaining } from './subset.js';
import type { AttackResult, AttackSpec, ResolvedOptions } from './types.js';

export const SQUARE_DEFAULTS = { maxQueries: 5000, pInit: 0.8, loss: 'margin' } as const;

/** Where a proposal is built: image geometry, the clean input and the current point of one sample. */
interface Site {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly lo: number;
  readonly hi: number;
  readonly eps: number;
  readonly rng: Rng;
}

const clip = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** L∞ start: per channel and column one sign, x ± ε down the whole column. */
function stripesStart(site: Site, x: Float32Array, out: Float32Array): void {
  const { h, w, c, lo, hi, eps, rng } = site;
  for (let ch = 0; ch < c; ch++) {
    for (let col = 0; col < w; col++) {
      const sign = randomSign(rng);
      for (let r = 0; r < h; r++) {
        const k = (r * w + col) * c + ch;
        out[k] = clip(x[k]! + sign * eps, lo, hi);
      }
    }
  }
}

/** L∞ proposal: one random s × s window set to x ± ε per channel; signs redrawn if nothing would change. */
function linfProposal(site: Site, s: number, x: Float32Array, current: Float32Array, out: Float32Array): void {
  const { h, w, c, lo, hi, eps, rng } = site;
  out.set(current);
  const top = rng.int(h - s + 1);
  const left = rng.int(w - s + 1);
  for (let attempt = 0; attempt < 10; attempt++) {
    let changed = false;
    for (let ch = 0; ch < c; ch++) {
      const sign = randomSign(rng);
      for (let r = top; r < top + s; r++) {
        for (let col = left; col < left + s; col++) {
          const k = (r * w + col) * c + ch;
          out[k] = clip(x[k]! + sign * eps, lo, hi);
          if (out[k] !== current[k]) changed = true;
        }
      }
    }
    if (changed) return;
  }
}

/** Scales δ = point − x to L2 norm ε and writes clip(x + δ) into `out`. */
function setL2(site: Site, x: Float32Array, delta: Float32Array, out: Float32Array): void {
  let sq = 0;
  for (const v of delta) sq += v * v;
  const scale = sq > 0 ? (site.eps * L2_SHRINK) / Math.sqrt(sq) : 0;
  for (let k = 0; k < delta.length; k++) out[k] = clip(x[k]! + delta[k]! * scale, site.lo, site.hi);
}

/** L2 start: a centred grid of s × s pseudo-Gaussian blocks (s = ⌊min(h, w)/5⌋), random sign per block and channel. */
function blocksStart(site: Site, x: Float32Array, out: Float32Array): void {
  const { h, w, c, rng } = site;
  const s = Math.max(Math.floor(Math.min(h, w) / 5), 1);
  const rows = Math.floor(h / s);
  const cols = Math.floor(w / s);
  const top0 = Math.floor((h - rows * s) / 2);
  const left0 = Math.floor((w - cols * s) / 2);
  const delta = new Float32Array(x.length);
  for (let br = 0; br < rows; br++) {
    for (let bc = 0; bc < cols; bc++) {
      const pattern = squarePattern(s, rng);
      for (let ch = 0; ch < c; ch++) {
        const sign = randomSign(rng);
        for (let r = 0; r < s; r++) {
          for (let col = 0; col < s; col++) delta[((top0 + br * s + r) * w + left0 + bc * s + col) * c + ch]! += sign * pattern[r * s + col]!;
        }
      }
    }
  }
  setL2(site, x, delta, out);
}

/**
 * L2 proposal: windows W1 and W2 at random; the perturbation in W2 is removed and W1 receives, per channel, its
 * old direction plus a new signed pattern, scaled so that the total squared norm becomes ε² (the mass freed
 * in W1 ∪ W2 plus whatever clipping left unused).
 */
function l2Proposal(site: Site, s: number, x: Float32Array, current: Float32Array, out: Float32Array): void {
  const { h, w, c, eps, rng } = site;
  const delta = Float32Array.from(current, (v, k) => v - x[k]!);
  const t1 = rng.int(h - s + 1);
  const l1 = rng.int(w - s + 1);
  const t2 = rng.int(h - s + 1);
  const l2 = rng.int(w - s + 1);
  const inW1 = (r: number, col: number): boolean => r >= t1 && r < t1 + s && col >= l1 && col < l1 + s;
  const inW2 = (r: number, col: number): boolean => r >= t2 && r < t2 + s && col >= l2 && col < l2 + s;
  let total = 0;
  let windows = 0;
  for (let r = 0; r < h; r++) {
    for (let col = 0; col < w; col++) {
      for (let ch = 0; ch < c; ch++) {
        const v = delta[(r * w + col) * c + ch]!;
        total += v * v;
        if (inW1(r, col) || inW2(r, col)) windows += v * v;
      }
    }
  }
  const perChannel = Math.sqrt((Math.max(eps * eps - total, 0) + windows) / c);
  const pattern = squarePattern(s, rng);
  const fresh = new Float32Array(s * s);
  for (let ch = 0; ch < c; ch++) {
    let oldSq = 0;
    for (let r = 0; r < s; r++) for (let col = 0; col < s; col++) oldSq += delta[((t1 + r) * w + l1 + col) * c + ch]! ** 2;
    const oldInv = 1 / (Math.sqrt(oldSq) + 1e-12);
    const sign = randomSign(rng);
    let freshSq = 0;
    for (let k = 0; k < s * s; k++) {
      const r = Math.floor(k / s);
      const col = k % s;
      fresh[k] = sign * pattern[k]! + delta[((t1 + r) * w + l1 + col) * c + ch]! * oldInv;
      freshSq += fresh[k]! ** 2;
    }
    const scale = freshSq > 0 ? perChannel / Math.sqrt(freshSq) : 0;
    for (let r = t2; r < t2 + s; r++) for (let col = l2; col < l2 + s; col++) delta[(r * w + col) * c + ch] = 0;
    for (let k = 0; k < s * s; k++) delta[((t1 + Math.floor(k / s)) * w + l1 + (k % s)) * c + ch] = fresh[k]! * scale;
  }
  setL2(site, x, delta, out);
}

function square(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions): AttackResult {
  const n = labels.length;
  const [h, w, c] = classifier.inputShape;
  const d = h * w * c;
  const site: Site = { h, w, c, lo: classifier.bounds[0], hi: classifier.bounds[1], eps: o.epsilon, rng: o.rng };
  const budget = o.maxQueries;
  const clean = hostPixels(x);
  const best = Float32Array.from(clean);
  const queries = new Int32Array(n).fill(1);
  const first = scoreImages(classifier, clean, n, labels, o.targets, o.loss);
  const success = isAdversarial(first.predictions, labels, o.targets);
  const bestLoss = Float32Array.from(first.loss);
  const step = (propose: (i: number, xi: Float32Array, current: Float32Array, out: Float32Array) => void, always: boolean): boolean => {
    const active = remaining(Uint8Array.from(success, (s, i) => (s || queries[i]! >= budget ? 1 : 0)));
    if (active.length === 0) return false;
    const proposals = new Float32Array(active.length * d);
    active.forEach((i, j) => propose(i, clean.subarray(i * d, (i + 1) * d), best.subarray(i * d, (i + 1) * d), proposals.subarray(j * d, (j + 1) * d)));
    const targets = o.targets ? pick(o.targets, active) : null;
    const scores = scoreImages(classifier, proposals, active.length, pick(labels, active), targets, o.loss);
    const adv = isAdversarial(scores.predictions, pick(labels, active), targets);
    active.forEach((i, j) => {
      queries[i]!++;
      if (always || adv[j] || scores.loss[j]! > bestLoss[i]!) {
        best.set(proposals.subarray(j * d, (j + 1) * d), i * d);
        bestLoss[i] = scores.loss[j]!;
        if (adv[j]) success[i] = 1;
      }
    });
    return true;
  };
  if (o.epsilon > 0) {
    const linf = o.norm === 'linf';
    step((_, xi, __, out) => (linf ? stripesStart(site, xi, out) : blocksStart(site, xi, out)), true);
    for (let it = 0; ; it++) {
      const p = squareFraction(it, budget, o.pInit);
      const s = squareSide(p, h, w, linf ? 1 : 3, !linf);
      const more = step((_, xi, current, out) => (linf ? linfProposal(site, s, xi, current, out) : l2Proposal(site, s, xi, current, out)), false);
      if (!more) break;
    }
  }
  const adversarial = tf.tensor4d(best, x.shape);
  const { linf, l2 } = perturbationNorms(adversarial, x);
  return { adversarial, success, linf, l2, queries };
}

export const squareAttack: AttackSpec = {
  name: 'square',
  summary: 'Square attack, score-based random search (Andriushchenko et al. 2020, arXiv 1912.00049)',
  norms: ['linf', 'l2'],
  targeted: true,
  access: 'scores',
  uses: ['maxQueries', 'pInit', 'loss'],
  defaults: SQUARE_DEFAULTS,
  run: square,
};
