/**
 * End-to-end gradient checks of a small conv + pool + dense network on wasm with qrobust's kernels:
 * - against central finite differences in float32, along random directions (directional derivatives), for
 *   the input and for every weight tensor, at points where no ReLU or max-pool choice flips within ±ε (the
 *   test checks this, so a kink cannot pass as agreement or disagreement);
 * - against the cpu backend for all gradients at once;
 * - with no tensors or wasm buffers left behind, including a tfjs-layers model's training step.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { fastKernelsInstalled } from '../../src/backend/kernels/index.js';
import { buildModel } from '../../src/models/zoo.js';
import { assertClose, assertNoLeak, onBoth, randomHost, setUpWasm, type HostTensor } from './kernel-helpers.js';

/** Network parameters: input x [2,9,9,2]; conv 3x3 2→4 same + ReLU; max-pool 3x3/2 same; conv 3x3 4→5 stride 2 valid + ReLU; dense 20→6. */
const SHAPES = {
  x: [2, 9, 9, 2],
  w1: [3, 3, 2, 4],
  b1: [4],
  w2: [3, 3, 4, 5],
  b2: [5],
  w3: [20, 6],
  b3: [6],
} as const;
type Name = keyof typeof SHAPES;
const NAMES = Object.keys(SHAPES) as Name[];
const LABELS = [1, 4];

interface Forward {
  loss: tf.Scalar;
  /** Values that decide the network's linear piece: both ReLU inputs and the pooling input. */
  pieces: tf.Tensor[];
}

function forward(p: Record<Name, tf.Tensor>): Forward {
  const pre1 = tf.add(tf.conv2d(p.x as tf.Tensor4D, p.w1 as tf.Tensor4D, 1, 'same'), p.b1);
  const pooled = tf.maxPool(tf.relu(pre1) as tf.Tensor4D, 3, 2, 'same');
  const pre2 = tf.add(tf.conv2d(pooled, p.w2 as tf.Tensor4D, 2, 'valid'), p.b2);
  const logits = tf.add(tf.matMul(tf.reshape(tf.relu(pre2), [2, 20]), p.w3), p.b3);
  const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(LABELS, 6), logits) as tf.Scalar;
  return { loss, pieces: [pre1, pre2, tf.relu(pre1)] };
}

function lossOf(params: HostTensor[]): tf.Scalar {
  const t = Object.fromEntries(NAMES.map((n, i) => [n, tf.tensor(params[i]!.values, params[i]!.shape)])) as Record<Name, tf.Tensor>;
  return forward(t).loss;
}

/** The ReLU signs and the max-pool winners (first maximum of each 3x3/2 'same' window) at a parameter point. */
function piece(params: HostTensor[]): string {
  return tf.tidy(() => {
    const t = Object.fromEntries(NAMES.map((n, i) => [n, tf.tensor(params[i]!.values, params[i]!.shape)])) as Record<Name, tf.Tensor>;
    const { pieces } = forward(t);
    const signs = [pieces[0]!, pieces[1]!].map((a) => Array.from(a.dataSync(), (v) => (v > 0 ? '1' : '0')).join('')).join('|');
    const r = pieces[2]!.dataSync();
    const winners: number[] = [];
    for (let n = 0; n < 2; n++) {
      for (let oh = 0; oh < 5; oh++) {
        for (let ow = 0; ow < 5; ow++) {
          for (let c = 0; c < 4; c++) {
            let best = -1;
            let m = -Infinity;
            for (let ih = Math.max(0, 2 * oh - 1); ih < Math.min(9, 2 * oh + 2); ih++) {
              for (let iw = Math.max(0, 2 * ow - 1); iw < Math.min(9, 2 * ow + 2); iw++) {
                const v = r[((n * 9 + ih) * 9 + iw) * 4 + c]!;
                if (v > m) {
                  m = v;
                  best = ih * 9 + iw;
                }
              }
            }
            winners.push(best);
          }
        }
      }
    }
    return `${signs}|${winners.join(',')}`;
  });
}

function randomParams(rng: Rng): HostTensor[] {
  // Scales that keep the logits O(1): the loss then carries ~1e-7 absolute float32 rounding error.
  const scale: Record<Name, number> = { x: 1, w1: 0.4, b1: 0.2, w2: 0.25, b2: 0.2, w3: 0.3, b3: 0.2 };
  return NAMES.map((n) => randomHost(rng, [...SHAPES[n]], scale[n]));
}

before(setUpWasm);

function gradients(params: HostTensor[]): Float32Array[] {
  return tf.tidy(() => {
    const ts = params.map((h) => tf.tensor(h.values, h.shape));
    const g = tf.grads((...xs: tf.Tensor[]) => forward(Object.fromEntries(NAMES.map((n, i) => [n, xs[i]!])) as Record<Name, tf.Tensor>).loss)(ts);
    return g.map((t) => Float32Array.from(t.dataSync()));
  }) as unknown as Float32Array[];
}

test('gradients agree with central finite differences (float32, directional)', () => {
  assert.ok(fastKernelsInstalled());
  const rng = new Rng(41);
  const eps = 2e-3;
  const verdicts = NAMES.map(() => 0);
  // Fresh random points until every parameter has two directions without a kink within ±ε.
  for (let attempt = 0; attempt < 30 && verdicts.some((v) => v < 2); attempt++) {
    const params = randomParams(rng);
    const grads = gradients(params);
    const base = piece(params);
    for (let i = 0; i < NAMES.length; i++) {
      if (verdicts[i]! >= 2) continue;
      // A unit direction in parameter i only: half the computed gradient's direction, half random, so the
      // directional derivative is large against float32 noise. A wrong gradient still shows, since the
      // finite difference measures the true derivative along whatever direction is chosen.
      const r = randomHost(rng, params[i]!.shape).values;
      const g = grads[i]!;
      const rNorm = Math.hypot(...r);
      const gNorm = Math.hypot(...g) || 1;
      const v = r.map((a, j) => a / rNorm + g[j]! / gNorm);
      const norm = Math.hypot(...v);
      for (let j = 0; j < v.length; j++) v[j]! /= norm;
      const shifted = (s: number): HostTensor[] =>
        params.map((p, k) => (k === i ? { shape: p.shape, values: p.values.map((a, j) => a + s * v[j]!) } : p));
      const plus = shifted(eps);
      const minus = shifted(-eps);
      if (piece(plus) !== base || piece(minus) !== base) continue; // a kink within ±ε: no verdict
      const fPlus = tf.tidy(() => lossOf(plus).dataSync()[0]!);
      const fMinus = tf.tidy(() => lossOf(minus).dataSync()[0]!);
      const numeric = (fPlus - fMinus) / (2 * eps);
      let analytic = 0;
      for (let j = 0; j < v.length; j++) analytic += g[j]! * v[j]!;
      // The loss is about 2 and each float32 evaluation is off by a few 1e-7, i.e. a few 1e-4 after dividing
      // by 2ε (observed: up to ~5e-4); a kernel that is wrong anywhere is off by far more.
      const tol = 1e-3 + 1e-3 * Math.abs(analytic);
      assert.ok(
        Math.abs(numeric - analytic) <= tol,
        `d loss / d ${NAMES[i]} along a direction: finite difference ${numeric}, gradient ${analytic}`,
      );
      verdicts[i]!++;
    }
  }
  for (let i = 0; i < NAMES.length; i++) assert.ok(verdicts[i]! >= 2, `${NAMES[i]}: no kink-free direction found`);
});

test('all gradients of the network match the cpu backend', () => {
  const rng = new Rng(42);
  for (let round = 0; round < 3; round++) {
    const params = randomParams(rng);
    const [fast, ref] = onBoth(params, (...xs) =>
      tf.grads((...ys: tf.Tensor[]) => forward(Object.fromEntries(NAMES.map((n, i) => [n, ys[i]!])) as Record<Name, tf.Tensor>).loss)(xs),
    );
    for (let i = 0; i < NAMES.length; i++) assertClose(fast[i]!, ref[i]!, 1e-4, `gradient of ${NAMES[i]}`);
  }
});

test('input gradients and training steps of a tfjs-layers CNN leak nothing', () => {
  const spec = { inputShape: [28, 28, 1] as [number, number, number], numClasses: 10, mean: [0.13], std: [0.31] };
  const model = buildModel('cnn-small', spec, 5);
  const x = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 1);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10);
  const optimizer = tf.train.adam(1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = (input: tf.Tensor): tf.Scalar =>
    tf.losses.softmaxCrossEntropy(labels, model.apply(input, { training: true }) as tf.Tensor) as tf.Scalar;
  const inputGrad = tf.grad(loss);
  try {
    assertNoLeak('input gradient', () => tf.dispose(inputGrad(x)));
    // Adam creates its moment variables on the first step (inside assertNoLeak's warm-up call).
    assertNoLeak('training step', () => tf.dispose(optimizer.minimize(() => loss(x), true, vars) ?? []));
  } finally {
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, labels]);
  }
});
