import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.js';
import { QrobustError } from '../../src/core/errors.js';
import { irFromOnnx } from '../../src/verify/onnx-network.js';
import { intervalBounds } from '../../src/verify/ibp.js';
import { applyStep, evaluateIR, type NetworkIR } from '../../src/verify/ir.js';
import { readVnnlib } from '../../src/verify/vnnlib.js';
import { MNISTFC, NEEDS_MNISTFC, quantizeStep, randomBox, randomMixedNet, randomMlp, samplePoints, violation } from './fixtures.js';

/** Checks every step's output at every sample against the bounds; returns the number of checks. */
function assertContains(ir: NetworkIR, bounds: ReturnType<typeof intervalBounds>, points: Float64Array[]): number {
  let checks = 0;
  for (const p of points) {
    let x = Float64Array.from(p);
    ir.steps.forEach((step, i) => {
      x = applyStep(step, x);
      assert.equal(violation(bounds.steps[i]!, x), 0, `${ir.source}: step ${i} (${step.kind}) leaves its bounds`);
      checks++;
    });
  }
  return checks;
}

test('a hand-computed example: interval arithmetic through affine, relu and a second affine', () => {
  const ir: NetworkIR = {
    inputSize: 2,
    inputShape: [2],
    outputSize: 1,
    source: 'hand-built',
    steps: [
      { kind: 'affine', name: 'a', inSize: 2, outSize: 2, weights: { format: 'dense', rows: 2, cols: 2, data: Float64Array.of(1, -1, 2, 1) }, bias: Float64Array.of(0, -1) },
      { kind: 'relu', name: 'r', size: 2 },
      { kind: 'affine', name: 'b', inSize: 2, outSize: 1, weights: { format: 'dense', rows: 1, cols: 2, data: Float64Array.of(1, -2) }, bias: Float64Array.of(0.5) },
    ],
  };
  // x ∈ [0,1]²: h1 = x0 − x1 ∈ [−1, 1], h2 = 2x0 + x1 − 1 ∈ [−1, 2]; relu → [0,1], [0,2]; y = r1 − 2 r2 + 0.5 ∈ [−3.5, 1.5]
  const b = intervalBounds(ir, { lower: Float64Array.of(0, 0), upper: Float64Array.of(1, 1) });
  // Within the float32 evaluation margin (γ₃₂ of a few roundings times the magnitudes, < 1e-5 here) and outward.
  const close = (a: number, e: number): void => assert.ok(Math.abs(a - e) < 1e-5, `${a} vs ${e}`);
  close(b.steps[0]!.lower[0]!, -1);
  close(b.steps[0]!.upper[1]!, 2);
  close(b.steps[2]!.lower[0]!, -3.5);
  close(b.steps[2]!.upper[0]!, 1.5);
  // Outward rounding: every bound lies on the safe side of the exact value.
  assert.ok(b.steps[2]!.lower[0]! <= -3.5 && b.steps[2]!.upper[0]! >= 1.5);
});

test('IBP bounds contain every sampled intermediate value of random MLPs (points and box corners)', () => {
  const rng = new Rng(7);
  let checks = 0;
  for (let seed = 0; seed < 6; seed++) {
    const ir = randomMlp(seed, [8, 16, 16, 5]);
    for (const radius of [0.01, 0.1, 0.5]) {
      const box = randomBox(rng, 8, radius);
      checks += assertContains(ir, intervalBounds(ir, box), samplePoints(rng, box, 40));
    }
  }
  assert.ok(checks > 3000);
});

test('IBP bounds contain sampled values through conv (CSR), max-pooling and quantize steps', () => {
  const rng = new Rng(8);
  for (let seed = 0; seed < 5; seed++) {
    const ir = randomMixedNet(seed);
    for (const radius of [0.005, 0.05, 0.3]) {
      const box = randomBox(rng, ir.inputSize, radius);
      assertContains(ir, intervalBounds(ir, box), samplePoints(rng, box, 60));
    }
  }
});

test('a quantize step: bounds are the plateaus of the ends, and values exactly on a rounding threshold stay inside', () => {
  const step = quantizeStep(3, 0.25, 0, 4, 'q');
  const ir: NetworkIR = { inputSize: 3, inputShape: [3], outputSize: 3, steps: [step], source: 'q' };
  // 0.125 / 0.25 = 0.5 rounds (half away) to 1; −0.125 rounds to −1; 10 clamps to qmax = 7.
  const box = { lower: Float64Array.of(0.125, -0.125, 1.9), upper: Float64Array.of(0.125, 0.3, 10) };
  const b = intervalBounds(ir, box);
  const y = evaluateIR(ir, Float64Array.of(0.125, -0.125, 10));
  assert.deepEqual([...y], [0.25, -0.25, 1.75]);
  assert.equal(violation(b.steps[0]!, y), 0);
  assert.ok(b.steps[0]!.lower[1]! <= -0.25 && b.steps[0]!.upper[1]! >= 0.25);
  assert.ok(b.steps[0]!.upper[2]! >= 1.75 && b.steps[0]!.upper[2]! < 1.75 + 1e-12);
  // The threshold point may go either way under rounding, so the bounds take in both neighbouring codes.
  assert.ok(b.steps[0]!.lower[0]! <= 0 && b.steps[0]!.upper[0]! >= 0.25);
});

test('IBP contains the outputs of the mnistfc 256x4 net on its property boxes', { skip: NEEDS_MNISTFC }, async () => {
  const ir = await irFromOnnx(join(MNISTFC!, 'mnist-net_256x4.onnx'));
  const rng = new Rng(9);
  for (const prop of ['prop_0_0.03.vnnlib', 'prop_7_0.05.vnnlib']) {
    const box = (await readVnnlib(join(MNISTFC!, prop))).cases[0]!.input;
    assertContains(ir, intervalBounds(ir, box), samplePoints(rng, box, 20));
  }
});

test('a box that does not fit the network is rejected with the network named', () => {
  const ir = randomMlp(1, [3, 4, 2]);
  const bad = (lower: number[], upper: number[]): void => {
    assert.throws(
      () => intervalBounds(ir, { lower: Float64Array.from(lower), upper: Float64Array.from(upper) }),
      (e: unknown) => e instanceof QrobustError && e.message.includes('random mlp'),
    );
  };
  bad([0, 0], [1, 1]);
  bad([0, 0, 1], [1, 1, 0]);
  bad([0, 0, NaN], [1, 1, 1]);
  bad([0, 0, -Infinity], [1, 1, 1]);
});
