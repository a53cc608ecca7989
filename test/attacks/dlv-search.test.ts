/**
 * The DLV-style search on a hand-built linear classifier whose answer is known: on a 1×4×1 image the features
 * (by |value|, two of two dimensions) are {0, 2} (above ½, so they move down) and {1, 3} (below, they move up);
 * only moving the first feature down raises z₁ − z₀ = 1.2 − x₀ − x₂, so the label flips once x₀ + x₂ drops below
 * 1.2.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { dlvFeatures, dlvSearch, type DlvSearchOptions } from '../../src/attacks/dlv-search.js';
import { dlvSearchOutcome } from '../../src/attacks/dlv-transfer.js';
import { predictImages } from '../../src/attacks/host-queries.js';
import { isQrobustError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { LinearClassifier } from './fixtures.js';

await initBackend('wasm');

const X = Float32Array.from([0.9, 0.2, 0.6, 0.1]);
const model = (): LinearClassifier => new LinearClassifier([1, 4, 1], [[0, 0], [0, 0], [0, -1], [0, 0]].map((r, i) => (i === 0 ? [0, -1] : r)), [0, 1.2]);
const small = (o: Partial<DlvSearchOptions>): DlvSearchOptions => ({ manip: 25.5, radius: 1, numFeatures: 2, featureDims: 2, iterations: 300, ...o });
const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-6;

test('features rank dimensions by |value|, ties by index', () => {
  assert.deepEqual(dlvFeatures(X, 2, 2).map((f) => Array.from(f)), [[0, 2], [1, 3]]);
  assert.deepEqual(dlvFeatures(Float32Array.from([0.5, 0.5, 0.7]), 2, 1).map((f) => Array.from(f)), [[2], [0]]);
});

test('the search finds exactly the reachable images: S(x) inside the radius and the box, every adversarial one real', () => {
  const m = model();
  const before = tf.memory().numTensors;
  const r = dlvSearch(m, X, 0, small({}), new Rng(1));
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.equal(r.cleanLabel, 0);
  // Step 0.1, radius 1: a applications of {0,2} and b of {1,3} cost 0.2(a + b); the label flips at a ≥ 2.
  const key = (c: Int32Array): string => `${c[0]},${c[1]}`;
  const want = new Set<string>();
  for (let a = 0; a <= 1; a++) for (let b = 0; a + b <= 5; b++) if (a + b > 0) want.add(`${a},${b}`);
  assert.deepEqual(new Set(r.explored.map((e) => key(e.counts))), want);
  for (const e of r.explored) {
    const [a, b] = [e.counts[0]!, e.counts[1]!];
    const expect = [0.9 - 0.1 * a, 0.2 + 0.1 * b, 0.6 - 0.1 * a, 0.1 + 0.1 * b];
    expect.forEach((v, i) => assert.ok(close(e.image[i]!, v), `dimension ${i} of ${key(e.counts)}: ${e.image[i]} ≠ ${v}`));
    assert.ok(e.l1 <= 1 + 1e-9 && close(e.l1, e.image.reduce((s, v, i) => s + Math.abs(v - X[i]!), 0)));
  }
  assert.ok(r.adversarial.length > 0);
  const labels = predictImages(m, Float32Array.from(r.adversarial.flatMap((a) => Array.from(a.image))), r.adversarial.length);
  r.adversarial.forEach((a, i) => {
    assert.ok(a.counts[0]! >= 2 && a.l1 <= 1 + 1e-9, `adversarial ${key(a.counts)} at L1 ${a.l1}`);
    assert.equal(a.label, 1);
    assert.equal(labels[i], 1);
  });
  m.dispose();
});

test('a step past the radius is never taken; big steps are clipped to [0,1] away from the nearer bound', () => {
  const m = model();
  const none = dlvSearch(m, X, 0, small({ manip: 51, radius: 0.3 }), new Rng(0));
  assert.equal(none.explored.length + none.adversarial.length, 0);
  const big = dlvSearch(m, X, 0, small({ manip: 255, radius: 10 }), new Rng(0));
  // One application of each feature saturates it: {0,2} → 0 (adversarial), {1,3} → 1 (correct), both: adversarial.
  assert.deepEqual(big.explored.map((e) => Array.from(e.image)), [[0.9, 1, 0.6, 1].map(Math.fround)]);
  assert.deepEqual(new Set(big.adversarial.map((a) => Array.from(a.image).join())), new Set([[0, 0.2, 0, 0.1].map(Math.fround).join(), '0,1,0,1']));
  for (const a of big.adversarial) assert.ok(a.image.every((v) => v >= 0 && v <= 1));
  m.dispose();
});

test('same seed, same result; a misclassified input is not searched; bad options are one-line errors', () => {
  const m = model();
  const o = small({ iterations: 20, manip: 12.75, radius: 2, explored: 'steps' });
  const a = dlvSearch(m, X, 0, o, new Rng(7));
  const b = dlvSearch(m, X, 0, o, new Rng(7));
  const show = (r: typeof a): string => JSON.stringify([r.explored.map((e) => Array.from(e.counts)), r.adversarial.map((e) => Array.from(e.counts)), r.counts]);
  assert.equal(show(a), show(b));
  const wrong = dlvSearch(m, X, 1, o, new Rng(7));
  assert.equal(wrong.cleanLabel, 0);
  assert.equal(wrong.explored.length + wrong.adversarial.length + wrong.counts.iterations, 0);
  for (const bad of [{ manip: 0 }, { radius: -1 }, { iterations: 1.5 }, { explored: 'all' as never }]) {
    assert.throws(() => dlvSearch(m, X, 0, small(bad)), (e: unknown) => isQrobustError(e) && /^dlv-search: \w+ must be/.test(e.message) && !e.message.includes('\n'));
  }
  assert.throws(() => dlvSearch(m, X.subarray(0, 3), 0, small({})), /dlv-search: the image has 3 values/);
  m.dispose();
});

test('a search shown to another classifier: S(x) labels counted, adversarial images split by its label', () => {
  const m = model();
  const always0 = new LinearClassifier([1, 4, 1], [[0, 0], [0, 0], [0, 0], [0, 0]], [1, 0]);
  const r = dlvSearch(m, X, 0, small({ iterations: 60 }), new Rng(2));
  const same = dlvSearchOutcome(m, 0, r);
  assert.equal(same.quantizedCorrect, r.explored.length);
  assert.ok(same.adversarial.length > 0 && same.adversarial.every((a) => a.fp === 1 && a.quantized === 1));
  const kept = dlvSearchOutcome(always0, 0, r);
  assert.ok(kept.adversarial.every((a) => a.quantized === 0));
  m.dispose();
  always0.dispose();
});
