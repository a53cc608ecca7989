/**
 * HopSkipJump: decision-based minimum-norm attack (the predicted label is all it sees).
 *
 * Chen, Jordan & Wainwright 2020, "HopSkipJumpAttack: A Query-Efficient Decision-Based Attack",
 * arXiv 1904.02144. From an adversarial starting point (another input of the batch already classified as the
 * target, or uniform noise that is adversarial), it alternates:
 * 1. a binary search between the input and the current point, to a point just on the adversarial side of the
 *    boundary (L2: along the segment; L∞: shrinking the box radius), to precision θ = d^(−3/2) (L2) or d^(−2) (L∞);
 * 2. a Monte-Carlo estimate of the boundary's normal from `samples`·√t random unit directions at radius δ_t,
 *    each scored ±1 by whether it is adversarial, with the mean score as a baseline;
 * 3. a step of size ‖x_t − x‖/√t along that direction (sign of it for L∞), halved (geometric progression)
 *    until the new point is adversarial again.
 * The result per sample is the adversarial point of smallest distance found; as a minimum-norm attack it is
 * reported at each ε by projection (minimum-norm.ts). The starting search uses at most 100 random draws.
 *
 * Threat model: L2 (default) or L∞, untargeted or targeted. Options (defaults): `steps` (64 iterations),
 * `maxQueries` (10,000 per sample, every label query counted, one of them kept for the final check at ε; a
 * sample stops before an iteration it cannot afford), `samples` (100, the first estimate's size; at most
 * 10,000).
 *
 * @example
 * const r = attack('hopskipjump', classifier, x, labels, { epsilon: 2, norm: 'l2', maxQueries: 5000, seed: 0 });
 */
import { tf } from '../backend/tf.js';
import type { Classifier } from '../models/classifier.js';
import { distance } from './host-geometry.js';
import { hostPixels, predictImages } from './host-queries.js';
import { runMinimumNorm } from './minimum-norm.js';
import { fillGaussian, fillUniformSymmetric } from './noise.js';
import type { AttackSpec, MinimumNormResult, ResolvedOptions } from './types.js';

export const HOP_SKIP_JUMP_DEFAULTS = { steps: 64, maxQueries: 10000, samples: 100 } as const;

const INIT_TRIES = 100;
const MAX_EVALS = 10000;
/** Halvings of the step before giving up on an iteration's step. */
const MAX_HALVINGS = 30;
/** Perturbed images per forward chunk in the gradient estimate. */
const IMAGES_PER_CHUNK = 4096;

/** The per-batch state: the input, the current boundary point and the best point per sample, and the budget. */
class Search {
  readonly n: number;
  readonly d: number;
  readonly lo: number;
  readonly hi: number;
  readonly clean: Float32Array;
  readonly current: Float32Array;
  readonly best: Float32Array;
  readonly bestDistance: Float32Array;
  readonly queries: Int32Array;
  /** 1 once the sample has an adversarial point to work from. */
  readonly started: Uint8Array;
  /** 1 when the sample is finished (adversarial from the start, out of budget, or no start found). */
  readonly stopped: Uint8Array;
  readonly theta: number;

  constructor(
    readonly classifier: Classifier,
    x: tf.Tensor4D,
    readonly labels: Int32Array,
    readonly o: ResolvedOptions,
  ) {
    this.n = labels.length;
    this.d = x.shape[1] * x.shape[2] * x.shape[3];
    [this.lo, this.hi] = classifier.bounds;
    this.clean = hostPixels(x);
    this.current = Float32Array.from(this.clean);
    this.best = Float32Array.from(this.clean);
    this.bestDistance = new Float32Array(this.n).fill(Infinity);
    this.queries = new Int32Array(this.n);
    this.started = new Uint8Array(this.n);
    this.stopped = new Uint8Array(this.n);
    this.theta = o.norm === 'l2' ? 1 / (this.d * Math.sqrt(this.d)) : 1 / (this.d * this.d);
  }

  image(buffer: Float32Array, i: number): Float32Array {
    return buffer.subarray(i * this.d, (i + 1) * this.d);
  }

  /** Queries sample i may still spend on the search; one of `maxQueries` is left for the check at ε. */
  budgetLeft(i: number): number {
    return this.o.maxQueries - 1 - this.queries[i]!;
  }

  /** Samples still working that can afford `cost` more queries; the others with too little budget stop. */
  active(cost: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) {
      if (this.stopped[i] || !this.started[i]) continue;
      if (this.budgetLeft(i) < cost) this.stopped[i] = 1;
      else out.push(i);
    }
    return out;
  }

  /** Whether each image is adversarial for its owner sample; one query per image, charged to the owner. */
  decide(images: Float32Array, owners: ArrayLike<number>): Uint8Array {
    const pred = predictImages(this.classifier, images, owners.length);
    const out = new Uint8Array(owners.length);
    for (let j = 0; j < owners.length; j++) {
      const i = owners[j]!;
      this.queries[i]!++;
      out[j] = (this.o.targets ? pred[j] === this.o.targets[i] : pred[j] !== this.labels[i]) ? 1 : 0;
    }
    return out;
  }

  /** Writes the point between x (α = 0) and `from` (α = 1) into `out`: a blend for L2, a box clip for L∞. */
  interpolate(i: number, from: Float32Array, alpha: number, out: Float32Array): void {
    const x = this.image(this.clean, i);
    for (let k = 0; k < this.d; k++) {
      out[k] = this.o.norm === 'l2' ? (1 - alpha) * x[k]! + alpha * from[k]! : Math.min(Math.max(from[k]!, x[k]! - alpha), x[k]! + alpha);
    }
  }

  /** Records the current point of sample i as its best when it is closer. */
  remember(i: number): void {
    const dist = distance(this.image(this.current, i), this.image(this.clean, i), this.o.norm);
    if (dist < this.bestDistance[i]!) {
      this.bestDistance[i] = dist;
      this.best.set(this.image(this.current, i), i * this.d);
    }
  }
}

/** Marks samples adversarial from the start (distance 0) and finds a starting point for the others. */
function initialize(s: Search): void {
  if (s.budgetLeft(0) < 1) {
    s.stopped.fill(1);
    return;
  }
  const cleanPred = predictImages(s.classifier, s.clean, s.n);
  const targets = s.o.targets;
  for (let i = 0; i < s.n; i++) {
    s.queries[i]!++;
    if (targets ? cleanPred[i] === targets[i] : cleanPred[i] !== s.labels[i]) {
      s.stopped[i] = 1;
      s.bestDistance[i] = 0;
    }
  }
  if (targets) {
    // Another input of the batch that the model already assigns to the target class is a free starting point.
    for (let i = 0; i < s.n; i++) {
      if (s.stopped[i]) continue;
      const j = cleanPred.findIndex((p, k) => k !== i && p === targets[i]);
      if (j < 0) continue;
      s.current.set(s.image(s.clean, j), i * s.d);
      s.started[i] = 1;
    }
  }
  for (let attempt = 0; attempt < INIT_TRIES; attempt++) {
    const need: number[] = [];
    for (let i = 0; i < s.n; i++) if (!s.stopped[i] && !s.started[i] && s.budgetLeft(i) >= 1) need.push(i);
    if (need.length === 0) break;
    const noise = new Float32Array(need.length * s.d);
    fillUniformSymmetric(s.o.rng, noise);
    for (let k = 0; k < noise.length; k++) noise[k] = s.lo + ((noise[k]! + 1) / 2) * (s.hi - s.lo);
    const adv = s.decide(noise, need);
    need.forEach((i, j) => {
      if (!adv[j]) return;
      s.current.set(noise.subarray(j * s.d, (j + 1) * s.d), i * s.d);
      s.started[i] = 1;
    });
  }
  for (let i = 0; i < s.n; i++) if (!s.started[i]) s.stopped[i] = 1;
}

/** Moves each listed sample's current (adversarial) point to the boundary along its path to x. */
function binarySearch(s: Search, samples: number[]): void {
  const from = samples.map((i) => Float32Array.from(s.image(s.current, i)));
  const low = samples.map(() => 0);
  const high = samples.map((i) => (s.o.norm === 'l2' ? 1 : distance(s.image(s.current, i), s.image(s.clean, i), 'linf')));
  const threshold = samples.map((_, j) => (s.o.norm === 'l2' ? s.theta : Math.min(high[j]! * s.theta, s.theta)));
  for (;;) {
    const open = samples.map((_, j) => j).filter((j) => high[j]! - low[j]! > threshold[j]! && s.budgetLeft(samples[j]!) >= 1);
    if (open.length === 0) break;
    const probes = new Float32Array(open.length * s.d);
    open.forEach((j, p) => s.interpolate(samples[j]!, from[j]!, (low[j]! + high[j]!) / 2, probes.subarray(p * s.d, (p + 1) * s.d)));
    const adv = s.decide(probes, open.map((j) => samples[j]!));
    open.forEach((j, p) => {
      const mid = (low[j]! + high[j]!) / 2;
      if (adv[p]) high[j] = mid;
      else low[j] = mid;
    });
  }
  samples.forEach((i, j) => {
    s.interpolate(i, from[j]!, high[j]!, s.image(s.current, i));
    s.remember(i);
  });
}

/** Unit update directions at each sample's boundary point, from `evals` labelled random probes at radius δ. */
function estimateDirections(s: Search, samples: number[], evals: number, deltas: number[]): Float32Array[] {
  const out: Float32Array[] = [];
  const perChunk = Math.max(1, Math.floor(IMAGES_PER_CHUNK / evals));
  for (let start = 0; start < samples.length; start += perChunk) {
    const group = samples.slice(start, start + perChunk);
    const noise = new Float32Array(group.length * evals * s.d);
    if (s.o.norm === 'l2') fillGaussian(s.o.rng, noise);
    else fillUniformSymmetric(s.o.rng, noise);
    const probes = new Float32Array(noise.length);
    const owners: number[] = [];
    group.forEach((i, g) => {
      const point = s.image(s.current, i);
      for (let b = 0; b < evals; b++) {
        const offset = (g * evals + b) * s.d;
        let sq = 0;
        for (let k = 0; k < s.d; k++) sq += noise[offset + k]! ** 2;
        const scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
        for (let k = 0; k < s.d; k++) {
          const probe = Math.min(Math.max(point[k]! + deltas[start + g]! * noise[offset + k]! * scale, s.lo), s.hi);
          probes[offset + k] = probe;
          // The direction actually taken after clipping, in units of δ.
          noise[offset + k] = (probe - point[k]!) / deltas[start + g]!;
        }
        owners.push(i);
      }
    });
    const adv = s.decide(probes, owners);
    group.forEach((_, g) => {
      let mean = 0;
      for (let b = 0; b < evals; b++) mean += adv[g * evals + b] ? 1 : -1;
      mean /= evals;
      const direction = new Float32Array(s.d);
      for (let b = 0; b < evals; b++) {
        const phi = adv[g * evals + b] ? 1 : -1;
        // All probes on one side: no baseline (it would cancel the signal); otherwise subtract the mean score.
        const weight = mean === 1 || mean === -1 ? phi : phi - mean;
        const offset = (g * evals + b) * s.d;
        for (let k = 0; k < s.d; k++) direction[k]! += weight * noise[offset + k]!;
      }
      if (s.o.norm === 'linf') {
        for (let k = 0; k < s.d; k++) direction[k] = Math.sign(direction[k]!);
      } else {
        let sq = 0;
        for (const v of direction) sq += v * v;
        const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
        for (let k = 0; k < s.d; k++) direction[k]! *= inv;
      }
      out.push(direction);
    });
  }
  return out;
}

/** Geometric step search: from the boundary point, step ξ = dist/√t along the direction, halving until adversarial. */
function stepAlong(s: Search, samples: number[], directions: Float32Array[], t: number): void {
  const size = samples.map((i) => distance(s.image(s.current, i), s.image(s.clean, i), s.o.norm) / Math.sqrt(t));
  let open = samples.map((_, j) => j);
  for (let halving = 0; halving < MAX_HALVINGS && open.length > 0; halving++) {
    open = open.filter((j) => s.budgetLeft(samples[j]!) >= 1);
    const probes = new Float32Array(open.length * s.d);
    open.forEach((j, p) => {
      const point = s.image(s.current, samples[j]!);
      for (let k = 0; k < s.d; k++) probes[p * s.d + k] = Math.min(Math.max(point[k]! + size[j]! * directions[j]![k]!, s.lo), s.hi);
    });
    const adv = s.decide(probes, open.map((j) => samples[j]!));
    const next: number[] = [];
    open.forEach((j, p) => {
      if (adv[p]) s.current.set(probes.subarray(p * s.d, (p + 1) * s.d), samples[j]! * s.d);
      else {
        size[j]! /= 2;
        next.push(j);
      }
    });
    open = next;
  }
}

function hopSkipJump(classifier: Classifier, x: tf.Tensor4D, labels: Int32Array, o: ResolvedOptions): MinimumNormResult {
  const s = new Search(classifier, x, labels, o);
  initialize(s);
  binarySearch(s, s.active(1));
  for (let t = 1; t <= o.steps; t++) {
    const evals = Math.min(Math.floor(o.samples * Math.sqrt(t)), MAX_EVALS);
    // An iteration needs its estimate plus at least one step probe.
    const samples = s.active(evals + 1);
    if (samples.length === 0) break;
    const deltas = samples.map((i) => {
      if (t === 1) return 0.1 * (s.hi - s.lo);
      const dist = distance(s.image(s.current, i), s.image(s.clean, i), o.norm);
      return Math.max((o.norm === 'l2' ? Math.sqrt(s.d) : s.d) * s.theta * dist, 1e-12);
    });
    const directions = estimateDirections(s, samples, evals, deltas);
    stepAlong(s, samples, directions, t);
    binarySearch(s, samples);
  }
  return { adversarial: tf.tensor4d(s.best, x.shape), queries: s.queries };
}

export const hopSkipJumpAttack: AttackSpec = {
  name: 'hopskipjump',
  summary: 'HopSkipJump, decision-based minimum-norm search (Chen et al. 2020, arXiv 1904.02144)',
  norms: ['l2', 'linf'],
  targeted: true,
  access: 'decision',
  uses: ['steps', 'maxQueries', 'samples'],
  defaults: HOP_SKIP_JUMP_DEFAULTS,
  minimize: hopSkipJump,
  run: runMinimumNorm(hopSkipJump),
};
