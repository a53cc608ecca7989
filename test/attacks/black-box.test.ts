import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { attack, squareFraction, squarePattern, squareSide } from '../../src/attacks/index.js';
import { Rng } from '../../src/core/rng.js';
import { constantBatch, twoClassLinear } from './fixtures.js';

await initBackend('wasm');

const SHAPE = [8, 8, 1] as const;
const MARGIN = 0.1;
const { model, minL2, minLinf } = twoClassLinear(SHAPE, 3, MARGIN);
const N = 4;
const x = constantBatch(N, SHAPE, 0.5);
const labels = new Int32Array(N);

function assertInBall(r: { linf: Float32Array; l2: Float32Array; adversarial: tf.Tensor4D }, eps: number, norm: 'linf' | 'l2', what: string): void {
  const dist = norm === 'linf' ? r.linf : r.l2;
  for (const v of dist) assert.ok(v <= eps + 1e-6, `${what}: ${norm} distance ${v} > ε = ${eps}`);
  const values = r.adversarial.dataSync();
  for (const v of values) assert.ok(v >= 0 && v <= 1, `${what}: value ${v} outside [0,1]`);
}

test('Square, SPSA and HopSkipJump break the linear model just above its minimal distance, inside the ε-ball', () => {
  // Square's L2 proposals are spatially smooth patterns, which fit image gradients but not these i.i.d. random
  // weights, so its L2 run gets twice the minimal radius; every other case gets 1.3 times.
  const cases = [
    { name: 'square', norm: 'linf', factor: 1.3, options: { maxQueries: 1000 } },
    { name: 'square', norm: 'l2', factor: 2, options: { maxQueries: 1000 } },
    { name: 'spsa', norm: 'linf', factor: 1.3, options: { steps: 40, samples: 32 } },
    { name: 'spsa', norm: 'l2', factor: 1.3, options: { steps: 40, samples: 32 } },
    { name: 'hopskipjump', norm: 'l2', factor: 1.3, options: { maxQueries: 2000 } },
    { name: 'hopskipjump', norm: 'linf', factor: 1.3, options: { maxQueries: 2000 } },
  ] as const;
  for (const c of cases) {
    const eps = c.factor * (c.norm === 'linf' ? minLinf : minL2);
    const r = attack(c.name, model, x, labels, { epsilon: eps, norm: c.norm, seed: 1, ...c.options });
    assert.deepEqual([...r.success], [1, 1, 1, 1], `${c.name} (${c.norm})`);
    assertInBall(r, eps, c.norm, `${c.name} (${c.norm})`);
    const pred = tf.tidy(() => tf.argMax(model.logits(r.adversarial), 1).dataSync());
    assert.deepEqual([...pred], [1, 1, 1, 1], `${c.name} (${c.norm}): success must mean misclassified`);
    r.adversarial.dispose();
  }
});

test('below the minimal distance nothing can succeed: the attacks fail, stay in the ball, and Square spends exactly its budget', () => {
  for (const [name, norm, options] of [
    ['square', 'linf', { maxQueries: 300 }],
    ['square', 'l2', { maxQueries: 300 }],
    ['spsa', 'linf', { steps: 10, samples: 16 }],
    ['hopskipjump', 'l2', { maxQueries: 500 }],
  ] as const) {
    const eps = 0.9 * (norm === 'linf' ? minLinf : minL2);
    const r = attack(name, model, x, labels, { epsilon: eps, norm, seed: 2, ...options });
    assert.deepEqual([...r.success], [0, 0, 0, 0], `${name} (${norm})`);
    assertInBall(r, eps, norm, `${name} (${norm})`);
    if (name === 'square') assert.deepEqual([...r.queries], [300, 300, 300, 300], `${name} (${norm}) queries`);
    if (name === 'spsa') assert.deepEqual([...r.queries], [1 + 10 * 17, 1 + 10 * 17, 1 + 10 * 17, 1 + 10 * 17]);
    r.adversarial.dispose();
  }
});

test('query counts never exceed the budget, and Square stops each sample at its first success', () => {
  for (const budget of [1, 2, 37, 400]) {
    for (const [name, norm] of [
      ['square', 'linf'],
      ['square', 'l2'],
      ['hopskipjump', 'l2'],
      ['hopskipjump', 'linf'],
    ] as const) {
      const r = attack(name, model, x, labels, { epsilon: 2 * (norm === 'linf' ? minLinf : minL2), norm, maxQueries: budget, seed: 4 });
      for (const q of r.queries) assert.ok(q >= 1 && q <= budget, `${name} (${norm}), budget ${budget}: ${q} queries`);
      r.adversarial.dispose();
    }
  }
  // A generous budget: Square stops early, well before spending it.
  const r = attack('square', model, x, labels, { epsilon: 2 * minLinf, maxQueries: 5000, seed: 4 });
  assert.deepEqual([...r.success], [1, 1, 1, 1]);
  for (const q of r.queries) assert.ok(q < 5000, `Square kept querying after success: ${q}`);
  r.adversarial.dispose();
});

test("HopSkipJump's L2 distance approaches the closed-form minimum of a linear model", () => {
  const found = attack('hopskipjump', model, x, labels, { epsilon: 10, norm: 'l2', maxQueries: 3000, seed: 6 });
  for (const d of found.l2) {
    assert.ok(d >= minL2 * (1 - 1e-4), `below the minimum: ${d} < ${minL2}`);
    assert.ok(d <= minL2 * 1.06, `HopSkipJump ${d} vs minimal ${minL2}`);
  }
  found.adversarial.dispose();
  // With a smaller budget it is further away: the distance shrinks as queries are spent.
  const early = attack('hopskipjump', model, x, labels, { epsilon: 10, norm: 'l2', maxQueries: 300, seed: 6 });
  const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(mean(early.l2) > mean(found.l2), `300 queries: ${mean(early.l2)}, 3000 queries: ${mean(found.l2)}`);
  early.adversarial.dispose();
});

test('HopSkipJump targeted starts from another input of the batch already in the target class', () => {
  const three = twoClassLinear(SHAPE, 8, MARGIN);
  // Sample 1 is pushed across the boundary, so it is classified as 1 and serves as sample 0's start.
  const inputs = tf.tidy(() => tf.concat([constantBatch(1, SHAPE, 0.5), tf.add(constantBatch(1, SHAPE, 0.5), tf.mul(tf.tensor4d(three.direction, [1, ...SHAPE]), 3))]) as tf.Tensor4D);
  const clipped = tf.tidy(() => tf.clipByValue(inputs, 0, 1) as tf.Tensor4D);
  const r = attack('hopskipjump', three.model, clipped, Int32Array.of(0, 0), { epsilon: 10, targets: Int32Array.of(1, 1), maxQueries: 1500, seed: 7 });
  assert.deepEqual([...r.success], [1, 1]);
  assert.equal(r.l2[1], 0, 'sample 1 is already in its target class');
  assert.ok(r.l2[0]! <= three.minL2 * 1.1, `targeted HopSkipJump ${r.l2[0]} vs ${three.minL2}`);
  tf.dispose([inputs, clipped, r.adversarial]);
  three.model.dispose();
});

test('the same seed reproduces Square, SPSA and HopSkipJump exactly; another seed differs', () => {
  for (const [name, options] of [
    ['square', { maxQueries: 60 }],
    ['spsa', { steps: 3, samples: 8 }],
    ['hopskipjump', { maxQueries: 200 }],
  ] as const) {
    const eps = name === 'hopskipjump' ? 10 : 0.9 * minLinf;
    const run = (seed: number) => attack(name, model, x, labels, { epsilon: eps, seed, ...options });
    const [a, b, c] = [run(11), run(11), run(12)];
    assert.deepEqual(a.adversarial.dataSync(), b.adversarial.dataSync(), name);
    assert.deepEqual(a.queries, b.queries, name);
    assert.notDeepEqual(a.adversarial.dataSync(), c.adversarial.dataSync(), name);
    tf.dispose([a.adversarial, b.adversarial, c.adversarial]);
  }
});

test("Square's schedule and patterns follow the paper", () => {
  // p halves after 10, 50, 200, ... of 10,000 iterations, rescaled to the budget.
  assert.equal(squareFraction(0, 10000, 0.8), 0.8);
  assert.equal(squareFraction(10, 10000, 0.8), 0.8);
  assert.equal(squareFraction(11, 10000, 0.8), 0.4);
  assert.equal(squareFraction(51, 10000, 0.8), 0.2);
  assert.equal(squareFraction(9000, 10000, 0.8), 0.8 / 512);
  assert.equal(squareFraction(6, 5000, 0.8), 0.4, 'iteration 6 of 5,000 is iteration 12 of 10,000');
  // Side √(p·h·w): 0.8 of a 28 × 28 image is 25 pixels wide; L2 squares are odd and at least 3.
  assert.equal(squareSide(0.8, 28, 28, 1, false), 25);
  assert.equal(squareSide(0.8 / 512, 28, 28, 1, false), 1);
  assert.equal(squareSide(0.8 / 512, 28, 28, 3, true), 3);
  assert.equal(squareSide(0.05, 28, 28, 3, true), 7);
  const pattern = squarePattern(5, new Rng(1));
  const norm = Math.hypot(...pattern);
  assert.ok(Math.abs(norm - 1) < 1e-6, `pattern norm ${norm}`);
  // The first two rows (or columns, when transposed) positive, the other three negative.
  const at = (r: number, c: number, t: boolean): number => pattern[t ? c * 5 + r : r * 5 + c]!;
  const halves = (t: boolean): boolean => [0, 1, 2, 3, 4].every((r) => [0, 1, 2, 3, 4].every((c) => (r < 2 ? at(r, c, t) > 0 : at(r, c, t) < 0)));
  const t = halves(true);
  assert.ok(halves(false) || t, `pattern ${[...pattern].map((v) => v.toFixed(2)).join(' ')}`);
  // Nested rectangles: within the positive half the centre (row 1, column 2) weighs most.
  const top = [0, 1].flatMap((r) => [0, 1, 2, 3, 4].map((c) => at(r, c, t)));
  assert.equal(Math.max(...top), at(1, 2, t));
});

test.after(() => {
  x.dispose();
  model.dispose();
});
