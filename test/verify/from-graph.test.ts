/**
 * The IR of a model graph with branches (residual add, concat), grouped and padded convolutions, average and
 * global pooling, channel affine, LeakyReLU and Clip: it computes what the TF.js model built from the same graph
 * computes, its bounds contain every sampled output, and complete verification never contradicts sampling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { MODEL_INPUT, type GraphNode, type ModelGraph } from '../../src/graph/model-graph.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { verifyProblemAuto } from '../../src/verify/auto.js';
import { crownBounds } from '../../src/verify/crown.js';
import { irFromModelGraph } from '../../src/verify/from-graph.js';
import { intervalBounds } from '../../src/verify/ibp.js';
import { evaluateIR } from '../../src/verify/ir.js';
import { localRobustnessCase } from '../../src/verify/property.js';

await initBackend('wasm');

function values(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

/** input [6,6,2] → conv relu → depthwise conv (explicit pads, LeakyReLU) → add (residual) → avg-pool → affine,
 *  clip → concat → max-pool → global avg-pool → dense. */
function residualGraph(seed: number): ModelGraph {
  const rng = new Rng(seed);
  const nodes: GraphNode[] = [
    { name: 'c1', inputs: [MODEL_INPUT], op: { kind: 'conv2d', kernel: values(rng, 3 * 3 * 2 * 4, 0.5), kernelShape: [3, 3, 2, 4], bias: values(rng, 4, 0.1), strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 1, activation: { kind: 'relu' } } },
    { name: 'dw', inputs: ['c1'], op: { kind: 'conv2d', kernel: values(rng, 3 * 3 * 1 * 4, 0.5), kernelShape: [3, 3, 1, 4], bias: values(rng, 4, 0.1), strides: [1, 1], dilations: [1, 1], padding: [1, 1, 1, 1], groups: 4, activation: { kind: 'leakyRelu', alpha: 0.2 } } },
    { name: 'res', inputs: ['c1', 'dw'], op: { kind: 'add' } },
    { name: 'avg', inputs: ['res'], op: { kind: 'avgPool', poolSize: [2, 2], strides: [2, 2], padding: 'valid' } },
    { name: 'aff', inputs: ['avg'], op: { kind: 'channelAffine', scale: Float32Array.of(1.5, -0.5, 0.8, 1), offset: Float32Array.of(0.1, 0, -0.2, 0.3) } },
    { name: 'clip', inputs: ['aff'], op: { kind: 'activation', activation: { kind: 'clip', min: 0, max: 1 } } },
    { name: 'cat', inputs: ['aff', 'clip'], op: { kind: 'concat', axis: -1 } },
    { name: 'mp', inputs: ['cat'], op: { kind: 'maxPool', poolSize: [2, 2], strides: [1, 1], padding: 'valid' } },
    { name: 'gap', inputs: ['mp'], op: { kind: 'globalAvgPool' } },
    { name: 'fc', inputs: ['gap'], op: { kind: 'dense', kernel: values(rng, 8 * 3, 0.7), kernelShape: [8, 3], bias: values(rng, 3, 0.1), activation: { kind: 'linear' } } },
  ];
  return { inputShape: [6, 6, 2], nodes, output: 'fc' };
}

const front = { mean: [0.4, 0.6], std: [0.5, 0.25] };

test('the IR of a residual graph computes the TF.js model of the same graph', () => {
  for (const seed of [1, 2, 3]) {
    const graph = residualGraph(seed);
    const ir = irFromModelGraph(graph, front, `graph ${seed}`);
    const model = buildLayersModel(graph, front);
    const rng = new Rng(10 + seed);
    const x = Float32Array.from({ length: 16 * 72 }, () => rng.next());
    const out = tf.tidy(() => (model.predict(tf.tensor4d(x, [16, 6, 6, 2])) as tf.Tensor).dataSync() as Float32Array);
    for (let i = 0; i < 16; i++) {
      const y = evaluateIR(ir, x.subarray(i * 72, (i + 1) * 72));
      y.forEach((v, k) => assert.ok(Math.abs(v - out[i * 3 + k]!) < 1e-4, `seed ${seed} sample ${i} logit ${k}: IR ${v}, TF.js ${out[i * 3 + k]}`));
    }
    model.dispose();
  }
});

test('interval and CROWN bounds of the residual IR contain every sampled output', () => {
  const graph = residualGraph(4);
  const ir = irFromModelGraph(graph, front, 'graph 4');
  const rng = new Rng(44);
  const center = Float64Array.from({ length: 72 }, () => rng.next());
  const eps = 0.05;
  const box = { lower: center.map((v) => Math.max(0, v - eps)), upper: center.map((v) => Math.min(1, v + eps)) };
  for (const bounds of [intervalBounds(ir, box), crownBounds(ir, box)]) {
    const last = bounds.steps[bounds.steps.length - 1]!;
    for (let s = 0; s < 300; s++) {
      const x = box.lower.map((lo, i) => lo + rng.next() * (box.upper[i]! - lo));
      evaluateIR(ir, x).forEach((v, k) => assert.ok(v >= last.lower[k]! - 1e-9 && v <= last.upper[k]! + 1e-9, `logit ${k} = ${v} outside [${last.lower[k]}, ${last.upper[k]}]`));
    }
  }
});

test('complete verification of the residual IR never contradicts sampling', async () => {
  let decided = 0;
  for (const seed of [5, 6, 7, 8]) {
    const graph = residualGraph(seed);
    const ir = irFromModelGraph(graph, front, `graph ${seed}`);
    const rng = new Rng(50 + seed);
    const center = Float64Array.from({ length: 72 }, () => rng.next());
    const label = evaluateIR(ir, center).reduce((best, v, k, a) => (v > a[best]! ? k : best), 0);
    for (const eps of [0.01, 0.05, 0.2]) {
      const c = localRobustnessCase(center, label, eps, 3);
      const r = await verifyProblemAuto(ir, { cases: [c], inputSize: 72, outputSize: 3, source: 'residual' }, { timeLimit: 10, seed: 0 });
      let violated = false;
      for (let s = 0; s < 400 && !violated; s++) {
        const x = c.input.lower.map((lo, i) => lo + rng.next() * (c.input.upper[i]! - lo));
        const y = evaluateIR(ir, x);
        violated = y.some((v, k) => k !== label && v >= y[label]!);
      }
      if (violated) assert.notEqual(r.verdict, 'unsat', `seed ${seed} ε ${eps}: unsat, but a sampled input is misclassified`);
      if (r.verdict === 'sat') {
        const y = evaluateIR(ir, r.counterexample!.input);
        assert.ok(y.some((v, k) => k !== label && v >= y[label]!), 'the counterexample is one');
      }
      if (r.verdict === 'sat' || r.verdict === 'unsat') decided++;
    }
  }
  assert.ok(decided >= 8, `only ${decided} of 12 decided`);
});

test('sign is refused in one line naming the node', () => {
  const graph: ModelGraph = { inputShape: [2, 2, 1], nodes: [{ name: 'bin', inputs: [MODEL_INPUT], op: { kind: 'activation', activation: { kind: 'sign', zeroTo: 1 } } }, { name: 'f', inputs: ['bin'], op: { kind: 'flatten', order: 'hwc' } }], output: 'f' };
  assert.throws(() => irFromModelGraph(graph, undefined, 'net.onnx'), /^QrobustError: net\.onnx: node 'bin' \(activation\): sign activations are not supported by the verifier/);
});
