/**
 * The functional builder's models save and reload with stock `tf.loadLayersModel` (the custom `Qrobust*` layers
 * are registered) and compute the same logits afterwards; layer names come from node names, sanitized and unique;
 * a positive channel affine of the input becomes part of the front Normalize of a Sequential.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { MODEL_INPUT, type ModelGraph } from '../../src/graph/model-graph.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { graphFromModel } from '../../src/models/graph.js';

await initBackend('wasm');

const rand = (rng: Rng, n: number, scale = 0.3): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * scale);

function graph(rng: Rng): ModelGraph {
  return {
    inputShape: [6, 6, 4],
    nodes: [
      { name: 'affine:0', op: { kind: 'channelAffine', scale: rand(rng, 4), offset: rand(rng, 4) }, inputs: [MODEL_INPUT] },
      { name: 'pad', op: { kind: 'pad', pads: [1, 0, 0, 2], value: 0.25 }, inputs: ['affine:0'] },
      { name: 'grouped', op: { kind: 'conv2d', kernel: rand(rng, 9 * 2 * 4), kernelShape: [3, 3, 2, 4], bias: rand(rng, 4), strides: [1, 1], dilations: [1, 1], padding: [1, 1, 0, 1], groups: 2, activation: { kind: 'clip', min: -1, max: 0.5 } }, inputs: ['pad'] },
      { name: 'depthwise', op: { kind: 'conv2d', kernel: rand(rng, 9 * 4), kernelShape: [3, 3, 1, 4], bias: rand(rng, 4), strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 4, activation: { kind: 'leakyRelu', alpha: 0.1 } }, inputs: ['grouped'] },
      { name: 'sum', op: { kind: 'add' }, inputs: ['grouped', 'depthwise'] },
      { name: 'max', op: { kind: 'maxPool', poolSize: [3, 3], strides: [2, 2], padding: [1, 1, 1, 1] }, inputs: ['sum'] },
      { name: 'avg', op: { kind: 'avgPool', poolSize: [3, 3], strides: [2, 2], padding: [1, 1, 1, 1], countIncludePad: false }, inputs: ['sum'] },
      { name: 'cat', op: { kind: 'concat', axis: -1 }, inputs: ['max', 'avg'] },
      { name: 'flat', op: { kind: 'flatten', order: 'chw' }, inputs: ['cat'] },
      { name: 'squash', op: { kind: 'activation', activation: { kind: 'sigmoid' } }, inputs: ['flat'] },
      // 6×6 → pad 7×8 → conv 7×7 → pools 4×4, 8 channels.
      { name: 'fc', op: { kind: 'dense', kernel: rand(rng, 128 * 3), kernelShape: [128, 3], bias: rand(rng, 3), activation: { kind: 'tanh' } }, inputs: ['squash'] },
    ],
    output: 'fc',
  };
}

test('a functional model with every custom layer saves, reloads with stock loadLayersModel and computes the same', async () => {
  const rng = new Rng(17);
  const g = graph(rng);
  const before = tf.memory().numTensors;
  const model = buildLayersModel(g, { mean: [0.5, 0.4, 0.3, 0.2], std: [0.25, 0.25, 0.5, 0.5] });
  assert.equal(model.getClassName(), 'Model');
  const names = model.layers.map((l) => l.name);
  assert.equal(new Set(names).size, names.length, 'layer names are unique');
  assert.ok(names.includes('affine_0'), `sanitized names: ${names.join(', ')}`);
  const classes = new Set(model.layers.map((l) => l.getClassName()));
  for (const c of ['QrobustChannelAffine', 'QrobustConstantPad2D', 'QrobustPaddedPool2D', 'QrobustClip', 'DepthwiseConv2D', 'Permute', 'Concatenate', 'Add']) assert.ok(classes.has(c), `uses ${c}: ${[...classes].join(', ')}`);

  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
  }));
  const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
  const x = tf.tensor4d(Float32Array.from({ length: 2 * 6 * 6 * 4 }, () => rng.next()), [2, 6, 6, 4]);
  const a = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  const b = tf.tidy(() => (reloaded.predict(x) as tf.Tensor).dataSync());
  assert.equal(a.length, 6);
  assert.deepEqual(Array.from(b), Array.from(a));
  tf.dispose(x);
  model.dispose();
  reloaded.dispose();
  assert.equal(tf.memory().numTensors, before, 'leaks tensors');
});

test('a positive channel affine of the input joins the Normalize in front: a Sequential with the same logits as the host formula', () => {
  const rng = new Rng(19);
  const [h, w, c, units] = [3, 2, 2, 3];
  const scale = Float32Array.from([0.5, 2]);
  const offset = Float32Array.from([-0.25, 0.75]);
  const kernel = rand(rng, h * w * c * units, 1);
  const bias = rand(rng, units, 1);
  const g: ModelGraph = {
    inputShape: [h, w, c],
    nodes: [
      { name: 'affine', op: { kind: 'channelAffine', scale, offset }, inputs: [MODEL_INPUT] },
      { name: 'flat', op: { kind: 'flatten', order: 'hwc' }, inputs: ['affine'] },
      { name: 'fc', op: { kind: 'dense', kernel, kernelShape: [h * w * c, units], bias, activation: { kind: 'linear' } }, inputs: ['flat'] },
    ],
    output: 'fc',
  };
  const front = { mean: [0.4, 0.1], std: [0.2, 0.5] };
  const model = buildLayersModel(g, front);
  assert.equal(model.getClassName(), 'Sequential');
  assert.deepEqual(graphFromModel(model).steps.map((s) => s.kind), ['normalize', 'flatten', 'dense']);
  const x = Float32Array.from({ length: h * w * c }, () => rng.next());
  const out = tf.tidy(() => (model.predict(tf.tensor4d(x, [1, h, w, c])) as tf.Tensor).dataSync());
  const z = Array.from(x, (v, i) => ((v - front.mean[i % c]!) / front.std[i % c]!) * scale[i % c]! + offset[i % c]!);
  for (let k = 0; k < units; k++) {
    const ref = bias[k]! + z.reduce((s, v, i) => s + v * kernel[i * units + k]!, 0);
    assert.ok(Math.abs(ref - out[k]!) < 1e-5, `logit ${k}: ${out[k]} vs ${ref}`);
  }
  model.dispose();
});
