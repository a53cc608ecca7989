/**
 * The DLV-style search on hand-built linear classifiers whose answer is known. On the 1×4×1 image
 * x = (0.9, 0.6, 0.2, 0.1), mean 0.45, the one-dimension regions by |x_i − mean| are dimensions 0, 3, 2, 1;
 * dimensions 0 and 1 (above ½) move down, 2 and 3 move up. The model z₁ − z₀ = 1.2 − x₀ − x₁ gives class 0 at x
 * and flips exactly when regions 0 and 3 (dimensions 0 and 1) are both applied with step 0.2.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { dlvFeatures, dlvImage, dlvSearch, type DlvSearchOptions, type DlvSearchResult, type DlvState } from '../../src/attacks/dlv-search.js';
import { dlvSearchOutcome } from '../../src/attacks/dlv-transfer.js';
import { predictImages } from '../../src/attacks/host-queries.js';
import { isQrobustError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { LinearClassifier } from './fixtures.js';

await initBackend('wasm');

const X = Float32Array.from([0.9, 0.6, 0.2, 0.1]);
const SHAPE = [1, 4, 1] as const;
/** z₁ − z₀ = 1.2 − x₀ − x₁. */
const model = (): LinearClassifier => new LinearClassifier(SHAPE, [[0, -1], [0, -1], [0, 0], [0, 0]], [0, 1.2]);
const small = (o: Partial<DlvSearchOptions>): DlvSearchOptions => ({ manip: 51, radius: 0.5, featureDims: 1, iterations: 50, ...o });
const has = (s: DlvState, ...r: number[]): boolean => r.every((k) => s.regions.includes(k));
const pixels = (r: DlvSearchResult, s: DlvState): Float32Array => dlvImage(X, r, s, [0, 1]);
const l1 = (img: Float32Array): number => img.reduce((a, v, i) => a + Math.abs(v - X[i]!), 0);

test('regions rank dimensions by distance from the mean, ties by channel-first index', () => {
  assert.deepEqual(dlvFeatures(X, SHAPE, 1).map((f) => Array.from(f)), [[0], [3], [2], [1]]);
  assert.deepEqual(dlvFeatures(X, SHAPE, 2).map((f) => Array.from(f)), [[0, 3], [2, 1]]);
  assert.deepEqual(dlvFeatures(X, SHAPE, 3).length, 1, 'only whole regions');
  assert.deepEqual(dlvFeatures(new Float32Array(4).fill(0.5), [1, 2, 2], 1).map((f) => f[0]), [0, 2, 1, 3]);
  assert.equal(dlvFeatures(X, SHAPE, 1, 2).length, 2);
});

test('strict radius: S(x) and the adversarial images lie inside the L1 radius; the adversarial one is real', () => {
  const m = model();
  const before = tf.memory().numTensors;
  const r = dlvSearch(m, X, 0, small({}), new Rng(1));
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.equal(r.cleanLabel, 0);
  assert.ok(r.explored.length > 0);
  for (const s of r.explored) {
    assert.ok(s.regions.length >= 1 && s.regions.length <= 2 && !has(s, 0, 3), `explored ${s.regions}`);
    const img = pixels(r, s);
    // Each applied region moves its dimension 0.2 away from the nearer bound; nothing else changes.
    const want = [has(s, 0) ? 0.7 : 0.9, has(s, 3) ? 0.4 : 0.6, has(s, 2) ? 0.4 : 0.2, has(s, 1) ? 0.3 : 0.1];
    want.forEach((v, i) => assert.ok(Math.abs(img[i]! - v) < 1e-6, `dimension ${i} of {${s.regions}}: ${img[i]} ≠ ${v}`));
    assert.ok(s.l1 <= 0.5 && Math.abs(s.l1 - l1(img)) < 1e-6);
  }
  assert.deepEqual(r.adversarial.map((a) => Array.from(a.regions)), [[0, 3]]);
  assert.deepEqual(Array.from(r.best!.regions), [0, 3]);
  const labels = predictImages(m, pixels(r, r.best!), 1);
  assert.equal(labels[0], 1);
  assert.equal(r.best!.label, 1);
  m.dispose();
});

test("the authors' radius: the image that crosses it is evaluated, so states overshoot by at most one region", () => {
  const m = model();
  const r = dlvSearch(m, X, 0, small({ beyondRadius: true }), new Rng(1));
  for (const s of [...r.explored, ...r.adversarial]) assert.ok(s.l1 - 0.2 <= 0.5 + 1e-9, `{${s.regions}} at ${s.l1}`);
  for (const a of r.adversarial) assert.ok(has(a, 0, 3));
  assert.ok(r.best && r.adversarial.every((a) => a.l1 <= r.best!.l1), 'best is the farthest adversarial image');
  // A radius below one region: the first child crosses it and ends the search.
  const tight = dlvSearch(m, X, 0, small({ radius: 0.1 }), new Rng(1));
  assert.equal(tight.ended, 'radius-child');
  assert.equal(tight.explored.length + tight.adversarial.length, 0);
  const tightDlv = dlvSearch(m, X, 0, small({ radius: 0.1, beyondRadius: true }), new Rng(1));
  assert.deepEqual(tightDlv.explored.map((s) => Array.from(s.regions)), [[0]]);
  m.dispose();
});

test('steps that pass a bound are clipped to [0,1]', () => {
  // z₁ − z₀ = x₂ + x₃ − 1.95: only both upward regions (3 and 2 → 1) flip it.
  const m = new LinearClassifier(SHAPE, [[0, 0], [0, 0], [0, 1], [0, 1]], [0, -1.95]);
  const r = dlvSearch(m, X, 0, small({ manip: 255, radius: 10 }), new Rng(3));
  assert.ok(r.explored.length > 0);
  for (const s of [...r.explored, ...r.adversarial]) {
    const img = pixels(r, s);
    assert.ok(img.every((v) => v >= 0 && v <= 1));
    for (const k of s.regions) assert.equal(img[r.features[k]![0]!], X[r.features[k]![0]!]! > 0.5 ? 0 : 1);
  }
  for (const a of r.adversarial) assert.ok(has(a, 1, 2));
  m.dispose();
});

test('same seed, same result; a misclassified input is not searched; bad options are one-line errors', () => {
  const m = model();
  const o = small({ manip: 25.5, radius: 2, iterations: 5 });
  const show = (r: DlvSearchResult): string => JSON.stringify([r.explored.map((e) => Array.from(e.regions)), r.adversarial.map((e) => Array.from(e.regions)), r.counts, r.ended]);
  assert.equal(show(dlvSearch(m, X, 0, o, new Rng(7))), show(dlvSearch(m, X, 0, o, new Rng(7))));
  const capped = dlvSearch(m, X, 0, { ...o, maxQueries: 3 }, new Rng(7));
  assert.equal(capped.ended, 'queries');
  const wrong = dlvSearch(m, X, 1, o, new Rng(7));
  assert.equal(wrong.ended, 'misclassified');
  assert.equal(wrong.explored.length + wrong.adversarial.length + wrong.counts.iterations, 0);
  for (const bad of [{ manip: 0 }, { radius: -1 }, { iterations: 1.5 }, { beyondRadius: 'yes' as never }]) {
    assert.throws(() => dlvSearch(m, X, 0, small(bad)), (e: unknown) => isQrobustError(e) && /^dlv-search: \w+ must be/.test(e.message) && !e.message.includes('\n'));
  }
  assert.throws(() => dlvSearch(m, X.subarray(0, 3), 0, small({})), /dlv-search: the image has 3 values/);
  m.dispose();
});

test('a search shown to another classifier: S(x) labels counted (or up to the first wrong one), adversarial images split', () => {
  const m = model();
  const always0 = new LinearClassifier(SHAPE, [[0, 0], [0, 0], [0, 0], [0, 0]], [1, 0]);
  const always1 = new LinearClassifier(SHAPE, [[0, 0], [0, 0], [0, 0], [0, 0]], [0, 1]);
  const r = dlvSearch(m, X, 0, small({}), new Rng(2));
  const same = dlvSearchOutcome(m, X, 0, r);
  assert.equal(same.quantizedCorrect, r.explored.length);
  assert.ok(same.adversarial.length > 0 && same.adversarial.every((a) => a.fp === 1 && a.quantized === 1));
  assert.deepEqual(same.best, { fp: 1, quantized: 1, l1: r.best!.l1 });
  assert.ok(dlvSearchOutcome(always0, X, 0, r).adversarial.every((a) => a.quantized === 0));
  const wrong = dlvSearchOutcome(always1, X, 0, r, 'until-wrong');
  assert.deepEqual([wrong.checked, wrong.quantizedCorrect], [1, 0]);
  assert.equal(dlvSearchOutcome(m, X, 0, r, 'none').checked, 0);
  for (const c of [m, always0, always1]) c.dispose();
});
