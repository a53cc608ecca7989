/**
 * DLV-style search at the input layer: the search of Huang, Kwiatkowska, Wang & Wu 2017 ("Safety Verification
 * of Deep Neural Networks", CAV 2017) as Duncan, Komendantskaya, Stewart & Lones 2020 ("Relative Robustness of
 * Quantized Neural Networks Against Adversarial Attacks", IJCNN 2020) configured it: explore the images reached
 * by discrete feature manipulations within an L1 radius of one input, with single-player Monte-Carlo tree
 * search, and keep every explored image the network still classifies correctly plus every adversarial one.
 *
 * - Features: the input dimensions ranked by |value| (the activation at the input layer), the top
 *   `numFeatures · featureDims` of them cut in order into `numFeatures` groups of `featureDims` (20 × 10 by
 *   default). Ties are broken by the lower flat index (our choice; the ranking is stable).
 * - An action applies one feature: each of its dimensions moves by one step `manip/255` away from its nearer
 *   bound (down when the original value is above the midpoint of the bounds, otherwise up), clipped to the
 *   bounds. Applying a feature k times moves it k steps from the original; an application that changes no pixel
 *   (every dimension already at its bound) is not an action.
 * - A state is the count of applications per feature, so the image depends only on the counts, not on their
 *   order; explored images are deduplicated by their counts.
 * - Tree search: UCT, `Q/N + cp·√(2 ln N_parent / N)`, cp = 0.5; a node's children are the actions that keep
 *   the L1 distance from the original within `radius`; unvisited children are tried first, in random order.
 *   From each new node, `samples` (3) rollouts of uniformly random actions run until the label changes, or
 *   until the action drawn would take the image beyond the radius (the rollout ends on the last image inside
 *   it), or until no action is left.
 * - Budget: `iterations` tree iterations (DLV's 30 s per level and 120 s in total are wall-clock budgets; an
 *   iteration count is deterministic for a seed).
 * - Reward (our choice; DLV's own reward is not reproduced): 1 for a rollout that ends adversarial, else
 *   σ(margin) of its last image, the margin being `max_{j≠y} z_j − z_y`, so below ½ for a correct label and
 *   higher the closer the image is to the boundary (`reward: 'binary'` gives 0 instead).
 * - Explored images S(x): every tree node's image and every rollout's last image that the network classifies
 *   correctly (`explored: 'steps'` adds every intermediate rollout image). Adversarial images are those it
 *   labels otherwise, with their labels; none lies beyond the radius.
 *
 * Only predictions and logits are used, so any classifier works. The function is pure: the same classifier,
 * image, options and seed give the same result.
 *
 * @example
 * const r = dlvSearch(classifier, pixels, label, { manip: 64, radius: 10, iterations: 100 }, new Rng(0));
 */
import { QrobustError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Classifier } from '../models/classifier.js';
import { scoreImages } from './host-queries.js';

export type DlvExplored = 'samples' | 'steps';
export type DlvReward = 'margin' | 'binary';

export interface DlvSearchOptions {
  /** MANIP: one manipulation step is `manip/255` in pixel units. > 0. */
  readonly manip: number;
  /** R: the L1 radius around the original, in pixel units. > 0. */
  readonly radius: number;
  /** Number of feature regions (default 20). */
  readonly numFeatures?: number;
  /** Input dimensions per feature (default 10). */
  readonly featureDims?: number;
  /** Tree iterations (default 100). */
  readonly iterations?: number;
  /** Rollouts per new node (default 3). */
  readonly samples?: number;
  /** UCT exploration constant (default 0.5). */
  readonly cp?: number;
  /** Which correctly classified images enter S(x) (default 'samples': tree nodes and rollout ends). */
  readonly explored?: DlvExplored;
  readonly reward?: DlvReward;
}

export const DLV_DEFAULTS = { numFeatures: 20, featureDims: 10, iterations: 100, samples: 3, cp: 0.5, explored: 'samples', reward: 'margin' } as const;

/** An image the search reached: its pixels (NHWC, flat), L1 distance from the original and the counts that make it. */
export interface DlvImage {
  readonly image: Float32Array;
  readonly l1: number;
  readonly counts: Int32Array;
}

export interface DlvAdversarial extends DlvImage {
  /** The label the network gives it. */
  readonly label: number;
}

export interface DlvSearchResult {
  /** The label the network gives the original; when it is not the true label nothing is searched. */
  readonly cleanLabel: number;
  /** The flat input indices of each feature, in rank order. */
  readonly features: readonly Int32Array[];
  /** S(x): distinct manipulated images the network labels correctly. */
  readonly explored: readonly DlvImage[];
  /** Distinct adversarial images found. */
  readonly adversarial: readonly DlvAdversarial[];
  /** Tree iterations run, tree nodes created, rollouts, distinct images the network was asked about. */
  readonly counts: { readonly iterations: number; readonly nodes: number; readonly rollouts: number; readonly evaluations: number };
}

interface Node {
  readonly counts: Int32Array;
  readonly l1: number;
  visits: number;
  total: number;
  children: Node[] | null;
  /** Adversarial, or a node with no action left: it is not searched below. */
  terminal: boolean;
  /** The reward a terminal node gives each time it is selected. */
  terminalReward: number;
}

interface Verdict {
  readonly label: number;
  readonly margin: number;
}

function resolve(o: DlvSearchOptions): Required<DlvSearchOptions> {
  const r = { ...DLV_DEFAULTS, ...o } as Required<DlvSearchOptions>;
  const positive = (name: string, v: number, integer: boolean): void => {
    if (!(Number.isFinite(v) && v > 0) || (integer && !Number.isInteger(v))) {
      throw new QrobustError('invalid_option', `dlv-search: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
    }
  };
  positive('manip', r.manip, false);
  positive('radius', r.radius, false);
  positive('numFeatures', r.numFeatures, true);
  positive('featureDims', r.featureDims, true);
  positive('iterations', r.iterations, true);
  positive('samples', r.samples, true);
  if (!(Number.isFinite(r.cp) && r.cp >= 0)) throw new QrobustError('invalid_option', `dlv-search: cp must be a number ≥ 0, got ${r.cp}`);
  if (r.explored !== 'samples' && r.explored !== 'steps') throw new QrobustError('invalid_option', `dlv-search: explored must be 'samples' or 'steps', got '${String(r.explored)}'`);
  if (r.reward !== 'margin' && r.reward !== 'binary') throw new QrobustError('invalid_option', `dlv-search: reward must be 'margin' or 'binary', got '${String(r.reward)}'`);
  return r;
}

/** Input dimensions ranked by |value| (stable: ties keep index order), cut into features. */
export function dlvFeatures(image: Float32Array, numFeatures: number, featureDims: number): Int32Array[] {
  const order = Array.from(image.keys()).sort((a, b) => Math.abs(image[b]!) - Math.abs(image[a]!) || a - b);
  const out: Int32Array[] = [];
  for (let f = 0; f < numFeatures && (f + 1) * featureDims <= order.length; f++) out.push(Int32Array.from(order.slice(f * featureDims, (f + 1) * featureDims)));
  return out;
}

/**
 * The DLV-style search around one image (flat NHWC pixels inside the classifier's bounds) with true label
 * `label`.
 * @throws QrobustError('invalid_option') for a bad option, QrobustError('shape_mismatch') for an image of the
 *   wrong size or a label outside the classes.
 */
export function dlvSearch(classifier: Classifier, image: Float32Array, label: number, options: DlvSearchOptions, rng: Rng = new Rng(0)): DlvSearchResult {
  const o = resolve(options);
  const [h, w, c] = classifier.inputShape;
  const d = h * w * c;
  if (image.length !== d) throw new QrobustError('shape_mismatch', `dlv-search: the image has ${image.length} values, the classifier takes ${h}×${w}×${c} = ${d}`);
  if (!(Number.isInteger(label) && label >= 0 && label < classifier.numClasses)) {
    throw new QrobustError('shape_mismatch', `dlv-search: label ${label} is not a class of a ${classifier.numClasses}-class classifier`);
  }
  const [lo, hi] = classifier.bounds;
  const mid = (lo + hi) / 2;
  const step = o.manip / 255;
  const features = dlvFeatures(image, o.numFeatures, o.featureDims);
  const nf = features.length;
  // Per dimension of each feature: the direction it moves in and how far it can go before the bound.
  const dir = features.map((f) => Float32Array.from(f, (i) => (image[i]! > mid ? -1 : 1)));
  const room = features.map((f, k) => Float32Array.from(f, (i, j) => (dir[k]![j]! < 0 ? image[i]! - lo : hi - image[i]!)));

  /** L1 contribution of feature k applied n times. */
  const featureL1 = (k: number, n: number): number => {
    let s = 0;
    for (const r of room[k]!) s += Math.min(n * step, r);
    return s;
  };
  /** Whether one more application of feature k after n changes a pixel. */
  const changes = (k: number, n: number): boolean => room[k]!.some((r) => n * step < r);

  const imageOf = (counts: Int32Array): Float32Array => {
    const out = Float32Array.from(image);
    for (let k = 0; k < nf; k++) {
      const n = counts[k]!;
      if (n === 0) continue;
      features[k]!.forEach((i, j) => {
        const v = image[i]! + dir[k]![j]! * n * step;
        out[i] = v < lo ? lo : v > hi ? hi : v;
      });
    }
    return out;
  };

  // Evaluation cache by counts; distinct images only are sent to the classifier, in batches.
  const cache = new Map<string, Verdict>();
  const explored = new Map<string, DlvImage>();
  const adversarial = new Map<string, DlvAdversarial>();
  const keyOf = (counts: Int32Array): string => counts.join(',');
  const evaluate = (states: readonly { counts: Int32Array; l1: number }[]): Verdict[] => {
    const todo = states.filter((s, i) => !cache.has(keyOf(s.counts)) && states.findIndex((t) => keyOf(t.counts) === keyOf(s.counts)) === i);
    if (todo.length > 0) {
      const pixels = new Float32Array(todo.length * d);
      todo.forEach((s, i) => pixels.set(imageOf(s.counts), i * d));
      const scores = scoreImages(classifier, pixels, todo.length, new Int32Array(todo.length).fill(label), null, 'margin');
      todo.forEach((s, i) => {
        const v = { label: scores.predictions[i]!, margin: scores.loss[i]! };
        cache.set(keyOf(s.counts), v);
        const key = keyOf(s.counts);
        const img = { image: pixels.slice(i * d, (i + 1) * d), l1: s.l1, counts: Int32Array.from(s.counts) };
        if (v.label !== label) adversarial.set(key, { ...img, label: v.label });
      });
    }
    return states.map((s) => cache.get(keyOf(s.counts))!);
  };
  const keep = (s: { counts: Int32Array; l1: number }): void => {
    const key = keyOf(s.counts);
    if (explored.has(key) || key === keyOf(new Int32Array(nf))) return;
    if (cache.get(key)!.label === label) explored.set(key, { image: imageOf(s.counts), l1: s.l1, counts: Int32Array.from(s.counts) });
  };
  const rewardOf = (v: Verdict): number => (v.label !== label ? 1 : o.reward === 'binary' ? 0 : 1 / (1 + Math.exp(-v.margin)));

  const root: Node = { counts: new Int32Array(nf), l1: 0, visits: 0, total: 0, children: null, terminal: false, terminalReward: 0 };
  const clean = evaluate([root])[0]!;
  const counters = { iterations: 0, nodes: 1, rollouts: 0 };
  const result = (): DlvSearchResult => ({
    cleanLabel: clean.label,
    features,
    explored: [...explored.values()],
    adversarial: [...adversarial.values()].filter((a) => a.l1 > 0),
    counts: { ...counters, evaluations: cache.size },
  });
  if (clean.label !== label) return result();

  const expand = (node: Node): Node[] => {
    const out: Node[] = [];
    for (let k = 0; k < nf; k++) {
      const n = node.counts[k]!;
      if (!changes(k, n)) continue;
      const l1 = node.l1 - featureL1(k, n) + featureL1(k, n + 1);
      if (l1 > o.radius) continue;
      const counts = Int32Array.from(node.counts);
      counts[k] = n + 1;
      out.push({ counts, l1, visits: 0, total: 0, children: null, terminal: false, terminalReward: 0 });
    }
    counters.nodes += out.length;
    return out;
  };
  const uct = (parent: Node): Node => {
    let best = parent.children![0]!;
    let bestScore = -Infinity;
    for (const ch of parent.children!) {
      const score = ch.total / ch.visits + o.cp * Math.sqrt((2 * Math.log(parent.visits)) / ch.visits);
      if (score > bestScore) {
        bestScore = score;
        best = ch;
      }
    }
    return best;
  };
  /** `samples` random rollouts from a correctly classified node, in lockstep; their mean reward. */
  const rollouts = (node: Node): number => {
    const states = Array.from({ length: o.samples }, () => ({ counts: Int32Array.from(node.counts), l1: node.l1, done: false, reward: 0 }));
    counters.rollouts += o.samples;
    while (states.some((s) => !s.done)) {
      const moved: (typeof states)[number][] = [];
      for (const s of states) {
        if (s.done) continue;
        const options = [];
        for (let k = 0; k < nf; k++) if (changes(k, s.counts[k]!)) options.push(k);
        if (options.length === 0) {
          s.done = true;
          continue;
        }
        const k = options[rng.int(options.length)]!;
        const l1 = s.l1 - featureL1(k, s.counts[k]!) + featureL1(k, s.counts[k]! + 1);
        if (l1 > o.radius) {
          s.done = true;
          continue;
        }
        s.counts[k]! += 1;
        s.l1 = l1;
        moved.push(s);
      }
      const verdicts = evaluate(moved);
      moved.forEach((s, i) => {
        if (verdicts[i]!.label !== label) s.done = true;
        else if (o.explored === 'steps') keep(s);
      });
    }
    let sum = 0;
    for (const s of states) {
      keep(s);
      sum += rewardOf(cache.get(keyOf(s.counts))!);
    }
    return sum / states.length;
  };

  for (let it = 0; it < o.iterations; it++) {
    counters.iterations++;
    const path: Node[] = [root];
    let node = root;
    for (;;) {
      if (node.terminal) break;
      if (node.children === null) {
        node.children = expand(node);
        if (node.children.length === 0) {
          node.terminal = true;
          node.terminalReward = node === root ? 0 : rewardOf(cache.get(keyOf(node.counts))!);
          break;
        }
      }
      const unvisited = node.children.filter((ch) => ch.visits === 0);
      if (unvisited.length > 0) {
        node = unvisited[rng.int(unvisited.length)]!;
        path.push(node);
        break;
      }
      node = uct(node);
      path.push(node);
    }
    let reward: number;
    if (node.terminal) reward = node.terminalReward;
    else {
      const v = evaluate([node])[0]!;
      keep(node);
      if (v.label !== label) {
        node.terminal = true;
        node.terminalReward = 1;
        reward = 1;
      } else reward = node.visits === 0 ? rollouts(node) : rewardOf(v);
    }
    for (const p of path) {
      p.visits++;
      p.total += reward;
    }
    if (root.terminal) break;
  }
  return result();
}
