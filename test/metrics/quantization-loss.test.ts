import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adversarialLoss, firstOrderAdversarialLoss, firstOrderWeightLoss, quantizationLoss } from '../../src/metrics/quantization-loss.js';

test('adversarial and quantization losses are accuracy differences', () => {
  assert.ok(Math.abs(adversarialLoss(0.98, 0.4) - 0.58) < 1e-12);
  assert.ok(Math.abs(quantizationLoss(0.98, 0.95) - 0.03) < 1e-12);
  assert.ok(quantizationLoss(0.9, 0.95) < 0);
  assert.equal(firstOrderAdversarialLoss(0.1, 25), 2.5);
});

test('the first-order weight criterion equals the exact loss change of a loss linear in the weights', () => {
  // L(W) = Σ c·W is linear, so L(W + Δ) − L(W) = ⟨∇L, Δ⟩ = ⟨c, Δ⟩ exactly.
  const c = [Float32Array.from([0.5, -1, 2]), Float32Array.from([3])];
  const w = [Float32Array.from([1, 2, 3]), Float32Array.from([-1])];
  const d = [Float32Array.from([0.1, 0.2, -0.3]), Float32Array.from([0.5])];
  const loss = (ws: Float32Array[]): number => ws.reduce((s, t, k) => s + t.reduce((a, v, i) => a + v * c[k]![i]!, 0), 0);
  const moved = w.map((t, k) => t.map((v, i) => v + d[k]![i]!));
  const exact = loss(moved) - loss(w);
  assert.ok(Math.abs(firstOrderWeightLoss(c, d) - exact) < 1e-6);
  assert.throws(() => firstOrderWeightLoss(c, [d[0]!]), /2 gradient tensors but 1/);
});
