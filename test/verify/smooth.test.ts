/**
 * Sigmoid and tanh steps of the IR: the linear bands and intervals are sound on sampled points (wide, narrow,
 * saturated and zero-crossing intervals), tight on narrow ones; a graph with both verifies through bounds and
 * the attack without ever contradicting sampling, and complete methods refuse it in one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { MODEL_INPUT, type ModelGraph } from '../../src/graph/model-graph.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { verifyProblemAuto } from '../../src/verify/auto.js';
import { smoothInterval, smoothRelaxation } from '../../src/verify/bounds/smooth.js';
import { crownBounds } from '../../src/verify/crown.js';
import { irFromModelGraph } from '../../src/verify/from-graph.js';
import { intervalBounds } from '../../src/verify/ibp.js';
import { evaluateIR, smoothValue, type SmoothFunction, type SmoothStep } from '../../src/verify/ir.js';
import { verifyCaseMilp } from '../../src/verify/milp/verify-milp.js';
import { localRobustnessCase } from '../../src/verify/property.js';

await initBackend('wasm');

test('sigmoid and tanh bands and intervals hold on every sampled point', () => {
  const rng = new Rng(1);
  for (const fn of ['sigmoid', 'tanh'] as SmoothFunction[]) {
    const lower: number[] = [];
    const upper: number[] = [];
    for (let k = 0; k < 400; k++) {
      const centre = (rng.next() - 0.5) * (k % 4 === 0 ? 80 : 8);
      const half = [1e-9, 1e-4, 0.3, 3, 40][k % 5]! * rng.next();
      lower.push(centre - half);
      upper.push(centre + half);
    }
    const step: SmoothStep = { kind: 'smooth', name: fn, size: lower.length, fn, from: 0, to: lower.length };
    const x = { lower: Float64Array.from(lower), upper: Float64Array.from(upper) };
    const band = smoothRelaxation(step, x);
    const box = smoothInterval(step, x);
    for (let i = 0; i < lower.length; i++) {
      for (let s = 0; s <= 50; s++) {
        const p = s === 50 ? upper[i]! : lower[i]! + (s / 50) * (upper[i]! - lower[i]!);
        const y = smoothValue(fn, p);
        const lo = band.slope[i]! * p + band.lowerIntercept[i]!;
        const hi = band.slope[i]! * p + band.upperIntercept[i]!;
        assert.ok(lo <= y && y <= hi, `${fn} on [${lower[i]}, ${upper[i]}] at ${p}: ${y} outside the band [${lo}, ${hi}]`);
        assert.ok(box.lower[i]! <= y && y <= box.upper[i]!, `${fn} interval`);
      }
      if (upper[i]! - lower[i]! < 2e-4) {
        const width = band.upperIntercept[i]! - band.lowerIntercept[i]!;
        assert.ok(width < 1e-7, `${fn} on a narrow interval [${lower[i]}, ${upper[i]}]: band width ${width}`);
      }
    }
  }
});

function smoothGraph(seed: number): ModelGraph {
  const rng = new Rng(seed);
  const v = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * s);
  return {
    inputShape: [4, 4, 1],
    nodes: [
      { name: 'flat', inputs: [MODEL_INPUT], op: { kind: 'flatten', order: 'hwc' } },
      { name: 'h1', inputs: ['flat'], op: { kind: 'dense', kernel: v(16 * 12, 0.6), kernelShape: [16, 12], bias: v(12, 0.2), activation: { kind: 'tanh' } } },
      { name: 'h2', inputs: ['h1'], op: { kind: 'dense', kernel: v(12 * 8, 0.8), kernelShape: [12, 8], bias: v(8, 0.2), activation: { kind: 'sigmoid' } } },
      { name: 'side', inputs: ['flat'], op: { kind: 'dense', kernel: v(16 * 12, 0.3), kernelShape: [16, 12], bias: v(12, 0.1), activation: { kind: 'linear' } } },
      { name: 'skip', inputs: ['h1', 'side'], op: { kind: 'add' } },
      { name: 'h3', inputs: ['skip'], op: { kind: 'dense', kernel: v(12 * 8, 0.5), kernelShape: [12, 8], bias: v(8, 0.1), activation: { kind: 'relu' } } },
      { name: 'cat', inputs: ['h2', 'h3'], op: { kind: 'concat', axis: -1 } },
      { name: 'out', inputs: ['cat'], op: { kind: 'dense', kernel: v(16 * 3, 1), kernelShape: [16, 3], bias: v(3, 0.1), activation: { kind: 'linear' } } },
    ],
    output: 'out',
  };
}

test('a graph with tanh, sigmoid and a skip: the IR equals TF.js, bounds contain samples, auto never contradicts sampling', async () => {
  let decided = 0;
  for (const seed of [2, 3, 4]) {
    const graph = smoothGraph(seed);
    const ir = irFromModelGraph(graph, undefined, `smooth ${seed}`);
    const model = buildLayersModel(graph);
    const rng = new Rng(20 + seed);
    const xs = Float32Array.from({ length: 8 * 16 }, () => rng.next());
    const out = tf.tidy(() => (model.predict(tf.tensor4d(xs, [8, 4, 4, 1])) as tf.Tensor).dataSync() as Float32Array);
    model.dispose();
    for (let i = 0; i < 8; i++) evaluateIR(ir, xs.subarray(i * 16, (i + 1) * 16)).forEach((v, k) => assert.ok(Math.abs(v - out[i * 3 + k]!) < 1e-5, `IR ${v} vs TF.js ${out[i * 3 + k]}`));
    const center = Float64Array.from(xs.subarray(0, 16));
    const label = evaluateIR(ir, center).reduce((b, v, k, a) => (v > a[b]! ? k : b), 0);
    for (const eps of [0.005, 0.05, 0.3]) {
      const c = localRobustnessCase(center, label, eps, 3);
      for (const bounds of [intervalBounds(ir, c.input), crownBounds(ir, c.input)]) {
        const last = bounds.steps[bounds.steps.length - 1]!;
        for (let s = 0; s < 200; s++) {
          const x = c.input.lower.map((lo, i) => lo + rng.next() * (c.input.upper[i]! - lo));
          evaluateIR(ir, x).forEach((v, k) => assert.ok(v >= last.lower[k]! && v <= last.upper[k]!, `logit ${k} ${v} outside [${last.lower[k]}, ${last.upper[k]}]`));
        }
      }
      const r = await verifyProblemAuto(ir, { cases: [c], inputSize: 16, outputSize: 3, source: 'smooth' }, { timeLimit: 5, seed: 0 });
      let violated = false;
      for (let s = 0; s < 500 && !violated; s++) {
        const x = c.input.lower.map((lo, i) => lo + rng.next() * (c.input.upper[i]! - lo));
        const y = evaluateIR(ir, x);
        violated = y.some((v, k) => k !== label && v >= y[label]!);
      }
      if (violated) assert.notEqual(r.verdict, 'unsat', `seed ${seed} ε ${eps}`);
      if (r.verdict === 'unsat' || r.verdict === 'sat') decided++;
      else assert.match(r.reason ?? '', /no complete method for (tanh|sigmoid)|bounds/);
    }
  }
  assert.ok(decided >= 3, `bounds or the attack decided only ${decided} of 9`);
});

test('MILP refuses a sigmoid network in one line', async () => {
  const ir = irFromModelGraph(smoothGraph(5), undefined, 'net.onnx');
  const c = localRobustnessCase(new Float64Array(16).fill(0.5), 0, 0.1, 3);
  await assert.rejects(verifyCaseMilp(ir, c, intervalBounds(ir, c.input), { timeLimit: 5 }), /step 'h1\/tanh' \(tanh\): MILP encodes piecewise-linear networks only/);
});
