/**
 * DLV-style search at the input layer: the single-player Monte-Carlo tree search of Huang, Kwiatkowska, Wang &
 * Wu 2017 ("Safety Verification of Deep Neural Networks", CAV 2017) as Duncan, Komendantskaya, Stewart & Lones
 * 2020 ("Relative Robustness of Quantized Neural Networks Against Adversarial Attacks", IJCNN 2020) ran it:
 * explore images reached by feature manipulations within an L1 radius of one input, and keep every explored
 * image the network still classifies correctly, S(x), and the adversarial ones.
 *
 * - Features (regions): the input dimensions ranked by their distance |x_i − mean(x)| from the image's mean
 *   value (the activation at the input layer), cut in rank order into regions of `featureDims` (10). Ties go to
 *   the lower channel-first index (the authors' images are C×H×W). By default every dimension is in a region
 *   (⌊d / featureDims⌋ regions, 307 for CIFAR-10), as the authors' tree search builds them; `numFeatures` keeps
 *   only the first ones.
 * - An action applies one region, at most once along a path: each of its dimensions moves by one step
 *   `manip/255` away from its nearer bound (down when above the midpoint of the bounds, else up), clipped to
 *   the bounds. A state is a set of applied regions, so the image depends on the set only.
 * - Tree search: descend by UCT, `Q/N + cp·√(ln N_parent / N)` with cp = 0.5, to a node not yet expanded;
 *   expand it with one child per region not in its set, in region order. Every child's own image is checked:
 *   the first child (in region order) that is adversarial or beyond the radius ends the whole search, and the
 *   children after it are not looked at (as in the authors' code). The children before it each run `samples`
 *   (3) rollouts: random regions not yet in the set are added until the label changes (the rollout's value is
 *   the L1 distance of that adversarial image) or the L1 distance exceeds the radius (value 0); a child's value
 *   is the largest of its rollouts', added to it and every ancestor (one visit per child).
 * - Levels: after `iterations` tree iterations the root moves to its child of largest total value, `levels`
 *   times in all (1 by default: the authors' total-time check ends the search after its first level).
 * - Budget: `iterations` per level and `maxQueries`, the distinct images the network is asked about; a query
 *   budget spent mid-iteration stops the unfinished rollouts (value 0). The authors used wall-clock budgets
 *   (30 s per level, 120 s in all) and finish an iteration once started; counts are deterministic for a seed.
 * - The radius (`beyondRadius`): by default an image beyond the radius is neither explored nor adversarial
 *   (and is not evaluated). The authors' code evaluates the image that crosses the radius before checking the
 *   distance, saves it when it is classified correctly, and counts it when it is adversarial; `beyondRadius:
 *   true` does the same, so images overshoot the radius by at most one region.
 * - Outputs: S(x) (distinct states whose image the network labels correctly, the root excluded), every
 *   distinct adversarial state, and `best`, the one the authors report: the adversarial image of largest L1
 *   distance (the first found on a tie).
 *
 * Only predicted labels are used, so any classifier works. The function is pure: the same classifier, image,
 * options and seed give the same result. States are returned as region sets; `dlvImage` gives their pixels.
 *
 * @example
 * const r = dlvSearch(classifier, pixels, label, { manip: 64, radius: 10, maxQueries: 5000 }, new Rng(0));
 */
import { QrobustError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Classifier } from '../models/classifier.js';
import { predictImages } from './host-queries.js';

export interface DlvSearchOptions {
  /** MANIP: one manipulation step is `manip/255` in pixel units. > 0. */
  readonly manip: number;
  /** R: the L1 radius around the original, in pixel units. > 0. */
  readonly radius: number;
  /** Input dimensions per region (default 10). */
  readonly featureDims?: number;
  /** Keep only the first regions (default: all ⌊d / featureDims⌋). */
  readonly numFeatures?: number | null;
  /** Rollouts per new node (default 3). */
  readonly samples?: number;
  /** UCT exploration constant (default 0.5). */
  readonly cp?: number;
  /** Tree iterations per level (default 1000). */
  readonly iterations?: number;
  /** Levels: moves of the root to its best child, plus one (default 1). */
  readonly levels?: number;
  /** Distinct images the network may be asked about (default 20000). */
  readonly maxQueries?: number;
  /** Evaluate and keep the image that crosses the radius, as the authors' code does (default false). */
  readonly beyondRadius?: boolean;
}

export const DLV_DEFAULTS = { featureDims: 10, numFeatures: null, samples: 3, cp: 0.5, iterations: 1000, levels: 1, maxQueries: 20000, beyondRadius: false } as const;

/** An image the search reached: the regions applied (ascending) and its L1 distance from the original. */
export interface DlvState {
  readonly regions: Int32Array;
  readonly l1: number;
}

export interface DlvAdversarial extends DlvState {
  /** The label the network gives it. */
  readonly label: number;
}

/** Why the search stopped. */
export type DlvEnd = 'misclassified' | 'adversarial-child' | 'radius-child' | 'iterations' | 'queries' | 'exhausted';

export interface DlvSearchResult {
  /** The label the network gives the original; when it is not the true label nothing is searched. */
  readonly cleanLabel: number;
  /** The flat (NHWC) input indices of each region, in rank order. */
  readonly features: readonly Int32Array[];
  /** The step in pixel units (`manip/255`). */
  readonly step: number;
  /** S(x): distinct manipulated states whose image the network labels correctly. */
  readonly explored: readonly DlvState[];
  /** Distinct adversarial states found. */
  readonly adversarial: readonly DlvAdversarial[];
  /** The adversarial state the authors' code reports: the largest L1 distance; null when none was found. */
  readonly best: DlvAdversarial | null;
  readonly ended: DlvEnd;
  readonly counts: { readonly iterations: number; readonly levels: number; readonly nodes: number; readonly rollouts: number; readonly queries: number };
}

interface Node {
  readonly regions: Int32Array;
  readonly l1: number;
  visits: number;
  total: number;
  children: Node[] | null;
  parent: Node | null;
}

interface Resolved {
  readonly manip: number;
  readonly radius: number;
  readonly featureDims: number;
  readonly numFeatures: number | null;
  readonly samples: number;
  readonly cp: number;
  readonly iterations: number;
  readonly levels: number;
  readonly maxQueries: number;
  readonly beyondRadius: boolean;
}

function resolve(o: DlvSearchOptions): Resolved {
  const r = { ...DLV_DEFAULTS, ...o } as Resolved;
  const positive = (name: string, v: number, integer: boolean): void => {
    if (!(Number.isFinite(v) && v > 0) || (integer && !Number.isInteger(v))) {
      throw new QrobustError('invalid_option', `dlv-search: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
    }
  };
  positive('manip', r.manip, false);
  positive('radius', r.radius, false);
  positive('featureDims', r.featureDims, true);
  if (r.numFeatures !== null) positive('numFeatures', r.numFeatures, true);
  positive('samples', r.samples, true);
  positive('iterations', r.iterations, true);
  positive('levels', r.levels, true);
  positive('maxQueries', r.maxQueries, true);
  if (!(Number.isFinite(r.cp) && r.cp >= 0)) throw new QrobustError('invalid_option', `dlv-search: cp must be a number ≥ 0, got ${r.cp}`);
  if (typeof r.beyondRadius !== 'boolean') throw new QrobustError('invalid_option', `dlv-search: beyondRadius must be true or false, got ${String(r.beyondRadius)}`);
  return r;
}

/**
 * Regions of `featureDims` input dimensions, ranked by |x_i − mean(x)| (descending; ties by the channel-first
 * index of an `[H, W, C]` image), at most `numFeatures` of them (null: all whole regions).
 */
export function dlvFeatures(image: Float32Array, shape: readonly [number, number, number], featureDims: number, numFeatures: number | null = null): Int32Array[] {
  const [h, w, c] = shape;
  const mean = image.reduce((s, v) => s + v, 0) / image.length;
  const chw = (i: number): number => (i % c) * h * w + Math.floor(i / c);
  const order = Array.from(image.keys()).sort((a, b) => Math.abs(image[b]! - mean) - Math.abs(image[a]! - mean) || chw(a) - chw(b));
  const count = Math.min(numFeatures ?? Infinity, Math.floor(order.length / featureDims));
  return Array.from({ length: count }, (_, f) => Int32Array.from(order.slice(f * featureDims, (f + 1) * featureDims)));
}

/** The pixels of a state: `image` with every region of the state moved one step away from its nearer bound. */
export function dlvImage(image: Float32Array, search: Pick<DlvSearchResult, 'features' | 'step'>, state: Pick<DlvState, 'regions'>, bounds: readonly [number, number]): Float32Array {
  const [lo, hi] = bounds;
  const mid = (lo + hi) / 2;
  const out = Float32Array.from(image);
  for (const k of state.regions) {
    for (const i of search.features[k]!) {
      const v = image[i]! > mid ? image[i]! - search.step : image[i]! + search.step;
      out[i] = v < lo ? lo : v > hi ? hi : v;
    }
  }
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
  const shape = classifier.inputShape;
  const d = shape[0] * shape[1] * shape[2];
  if (image.length !== d) throw new QrobustError('shape_mismatch', `dlv-search: the image has ${image.length} values, the classifier takes ${shape.join('×')} = ${d}`);
  if (!(Number.isInteger(label) && label >= 0 && label < classifier.numClasses)) {
    throw new QrobustError('shape_mismatch', `dlv-search: label ${label} is not a class of a ${classifier.numClasses}-class classifier`);
  }
  const bounds = classifier.bounds;
  const step = o.manip / 255;
  const features = dlvFeatures(image, shape, o.featureDims, o.numFeatures);
  const nf = features.length;
  const search = { features, step };
  // Each region's L1 contribution is fixed (a region is applied once): Σ min(step, distance to the far bound).
  const mid = (bounds[0] + bounds[1]) / 2;
  const regionL1 = features.map((f) => f.reduce((s, i) => s + Math.min(step, image[i]! > mid ? image[i]! - bounds[0] : bounds[1] - image[i]!), 0));

  const labels = new Map<string, number>();
  const explored = new Map<string, DlvState>();
  const adversarial = new Map<string, DlvAdversarial>();
  let best: DlvAdversarial | null = null;
  const keyOf = (regions: Int32Array): string => regions.join(',');
  const counts = { iterations: 0, levels: 0, nodes: 1, rollouts: 0, queries: 0 };

  /** Records a state the search looked at: into S(x) when labelled correctly, else among the adversarial ones. */
  const record = (s: DlvState, predicted: number): void => {
    const k = keyOf(s.regions);
    if (s.regions.length === 0) return;
    // A snapshot: rollouts keep changing their own state objects.
    if (predicted === label) explored.set(k, { regions: s.regions, l1: s.l1 });
    else if (!adversarial.has(k)) adversarial.set(k, { regions: s.regions, l1: s.l1, label: predicted });
  };
  /** Labels of the states' images (distinct new ones sent in one batch); `look` records them too. */
  const evaluate = (states: readonly DlvState[], look = true): Int32Array => {
    const todo = new Map<string, DlvState>();
    for (const s of states) {
      const k = keyOf(s.regions);
      if (!labels.has(k) && !todo.has(k)) todo.set(k, s);
    }
    if (todo.size > 0) {
      const batch = [...todo.values()];
      const pixels = new Float32Array(batch.length * d);
      batch.forEach((s, i) => pixels.set(dlvImage(image, search, s, bounds), i * d));
      const predicted = predictImages(classifier, pixels, batch.length);
      counts.queries += batch.length;
      batch.forEach((s, i) => labels.set(keyOf(s.regions), predicted[i]!));
    }
    const out = Int32Array.from(states, (s) => labels.get(keyOf(s.regions))!);
    if (look) states.forEach((s, i) => record(s, out[i]!));
    return out;
  };
  const noteAdversarial = (s: DlvState): void => {
    if (!best || s.l1 > best.l1) best = adversarial.get(keyOf(s.regions))!;
  };
  const withRegion = (regions: Int32Array, k: number): Int32Array => {
    const out = new Int32Array(regions.length + 1);
    let j = 0;
    for (const r of regions) {
      if (j === out.length - 1 || r > k) break;
      out[j++] = r;
    }
    out[j] = k;
    out.set(regions.subarray(j), j + 1);
    return out;
  };
  const free = (regions: Int32Array): number[] => {
    const used = new Uint8Array(nf);
    for (const r of regions) used[r] = 1;
    const out: number[] = [];
    for (let k = 0; k < nf; k++) if (!used[k]) out.push(k);
    return out;
  };
  const result = (ended: DlvEnd): DlvSearchResult => ({ cleanLabel, features, step, explored: [...explored.values()], adversarial: [...adversarial.values()], best, ended, counts: { ...counts } });

  const root0: Node = { regions: new Int32Array(0), l1: 0, visits: 0, total: 0, children: null, parent: null };
  const cleanLabel = evaluate([root0])[0]!;
  if (cleanLabel !== label) return result('misclassified');

  /** `samples` rollouts from each child, all in lockstep; per child the largest rollout value. */
  const rollouts = (children: readonly Node[]): Float64Array => {
    const value = new Float64Array(children.length);
    const live = children.flatMap((ch, c) => Array.from({ length: o.samples }, () => ({ c, regions: ch.regions, l1: ch.l1, free: free(ch.regions) })));
    counts.rollouts += live.length;
    let active = live;
    while (active.length > 0) {
      if (counts.queries >= o.maxQueries) break;
      const next: typeof live = [];
      const ask: typeof live = [];
      for (const s of active) {
        if (s.free.length === 0) continue;
        const j = rng.int(s.free.length);
        const k = s.free[j]!;
        s.free[j] = s.free[s.free.length - 1]!;
        s.free.pop();
        s.regions = withRegion(s.regions, k);
        s.l1 += regionL1[k]!;
        // Strictly inside the radius, or (the authors' way) evaluate the image that crosses it.
        if (s.l1 <= o.radius || o.beyondRadius) ask.push(s);
      }
      const got = evaluate(ask);
      ask.forEach((s, i) => {
        if (got[i] !== label) {
          noteAdversarial(s);
          value[s.c] = Math.max(value[s.c]!, s.l1);
        } else if (s.l1 <= o.radius) next.push(s);
      });
      active = next;
    }
    return value;
  };

  let root = root0;
  for (let level = 0; level < o.levels; level++) {
    counts.levels++;
    for (let it = 0; it < o.iterations; it++) {
      if (counts.queries >= o.maxQueries) return result('queries');
      counts.iterations++;
      let node = root;
      while (node.children !== null) {
        let pick = node.children[0]!;
        let bestScore = -Infinity;
        for (const ch of node.children) {
          const score = ch.total / ch.visits + o.cp * Math.sqrt(Math.log(node.visits) / ch.visits);
          if (score > bestScore) {
            bestScore = score;
            pick = ch;
          }
        }
        node = pick;
      }
      const options = free(node.regions);
      if (options.length === 0) return result('exhausted');
      const children: Node[] = options.map((k) => ({ regions: withRegion(node.regions, k), l1: node.l1 + regionL1[k]!, visits: 0, total: 0, children: null, parent: node }));
      node.children = children;
      counts.nodes += children.length;
      // The children's own images, looked at in region order up to the first that ends the search (in the
      // strict mode one beyond the radius is not evaluated).
      const inside = children.filter((ch) => ch.l1 <= o.radius || o.beyondRadius);
      const got = evaluate(inside, false);
      const own = new Map(inside.map((ch, i) => [ch, got[i]!]));
      const ends = (ch: Node): boolean => ch.l1 > o.radius || own.get(ch) !== label;
      const stop = children.findIndex(ends);
      const sampled = stop < 0 ? children : children.slice(0, stop);
      for (const ch of stop < 0 ? children : children.slice(0, stop + 1)) if (own.has(ch)) record(ch, own.get(ch)!);
      const stopper = stop >= 0 ? children[stop]! : null;
      const stopperAdversarial = stopper !== null && own.has(stopper) && own.get(stopper) !== label;
      if (stopperAdversarial) noteAdversarial(stopper);
      const values = rollouts(sampled);
      sampled.forEach((ch, c) => {
        for (let p: Node | null = ch; p !== null; p = p === root ? null : p.parent) {
          p.visits++;
          p.total += values[c]!;
        }
      });
      if (stopper !== null) return result(stopperAdversarial ? 'adversarial-child' : 'radius-child');
    }
    if (level + 1 < o.levels && root.children && root.children.length > 0) {
      root = root.children.reduce((a, b) => (b.total > a.total ? b : a));
    }
  }
  return result('iterations');
}
