import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import type { Conv2DOp, DenseOp, GraphNode, ModelGraph } from '../../src/graph/model-graph.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importTflite } from '../../src/import/tflite/import-tflite.js';
import type { DynamicRangeQuantization, ImportedNetwork, ImportRequest } from '../../src/import/types.js';
import { buildTflite, type ModelSpec } from './tflite-builder.js';
import { DUNCAN_TFLITE, NEEDS_DUNCAN, randomArray, randomInts } from './tflite-fixtures.js';

await initBackend('wasm');

function request(bytes: Uint8Array, imageShape: readonly [number, number, number], numClasses: number, extra: Partial<ImportRequest> = {}): ImportRequest {
  return { file: 'x.tflite', bytes, imageShape, numClasses, ...extra };
}

function op<K extends GraphNode['op']['kind']>(g: ModelGraph, kind: K): Extract<GraphNode['op'], { kind: K }>[] {
  return g.nodes.filter((n) => n.op.kind === kind).map((n) => n.op as Extract<GraphNode['op'], { kind: K }>);
}

// ---- brute-force TFLite semantics, written from the TFLite layouts (NHWC, [out,kh,kw,in], [1,kh,kw,C·m], [out,in]) ----

type Map3 = { h: number; w: number; c: number; v: Float64Array };

function samePad(inSize: number, k: number, s: number): number {
  const out = Math.ceil(inSize / s);
  return Math.floor(Math.max((out - 1) * s + k - inSize, 0) / 2);
}

function tflConv(x: Map3, w: Float32Array, [co, kh, kw, ci]: number[], bias: Float32Array, s: number, padding: 'SAME' | 'VALID', depthwise: boolean): Map3 {
  const oh = padding === 'SAME' ? Math.ceil(x.h / s) : Math.floor((x.h - kh) / s) + 1;
  const ow = padding === 'SAME' ? Math.ceil(x.w / s) : Math.floor((x.w - kw) / s) + 1;
  const pt = padding === 'SAME' ? samePad(x.h, kh, s) : 0;
  const pl = padding === 'SAME' ? samePad(x.w, kw, s) : 0;
  const outC = depthwise ? ci : co; // depthwise: weights [1, kh, kw, C·m] passed as co=1, ci=C·m
  const m = depthwise ? outC / x.c : 0;
  const v = new Float64Array(oh * ow * outC);
  for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) for (let o = 0; o < outC; o++) {
    let acc = bias[o]!;
    for (let dy = 0; dy < kh; dy++) for (let dx = 0; dx < kw; dx++) {
      const iy = y * s - pt + dy;
      const ix = xx * s - pl + dx;
      if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
      if (depthwise) acc += x.v[(iy * x.w + ix) * x.c + Math.floor(o / m)]! * w[(dy * kw + dx) * outC + o]!;
      else for (let i = 0; i < ci; i++) acc += x.v[(iy * x.w + ix) * x.c + i]! * w[((o * kh + dy) * kw + dx) * ci + i]!;
    }
    v[(y * ow + xx) * outC + o] = acc;
  }
  return { h: oh, w: ow, c: outC, v };
}

function tflPool(x: Map3, k: number, s: number, kind: 'max' | 'avg'): Map3 {
  const oh = Math.floor((x.h - k) / s) + 1;
  const ow = Math.floor((x.w - k) / s) + 1;
  const v = new Float64Array(oh * ow * x.c);
  for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) for (let c = 0; c < x.c; c++) {
    let acc = kind === 'max' ? -Infinity : 0;
    for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) {
      const e = x.v[((y * s + dy) * x.w + xx * s + dx) * x.c + c]!;
      acc = kind === 'max' ? Math.max(acc, e) : acc + e / (k * k);
    }
    v[(y * ow + xx) * x.c + c] = acc;
  }
  return { h: oh, w: ow, c: x.c, v };
}

function tflFc(x: ArrayLike<number>, w: ArrayLike<number>, units: number, bias: ArrayLike<number>): number[] {
  const n = x.length;
  return Array.from({ length: units }, (_, o) => {
    let acc = bias[o]!;
    for (let i = 0; i < n; i++) acc += w[o * n + i]! * x[i]!;
    return acc;
  });
}

function dynamicRange(net: ImportedNetwork): DynamicRangeQuantization {
  const r = net.sourceQuantization;
  assert.equal(r?.kind, 'dynamic-range');
  return r as DynamicRangeQuantization;
}

const f32Bytes = (a: Float32Array): number[] => Array.from(a);

test('duncan2020 TFLite: three dense layers after a chw flatten, int8 weights dequantized, final softmax left out', { skip: NEEDS_DUNCAN }, () => {
  const bytes = readFileSync(DUNCAN_TFLITE!);
  const net = importTflite(request(bytes, [32, 32, 3], 10, { file: 'converted_model_cifar.tflite', layout: 'flat-nchw' }));
  assert.equal(net.format, 'tflite');
  assert.equal(net.layout, 'flat-nchw');
  assert.deepEqual(net.graph.nodes[0]!.op, { kind: 'flatten', order: 'chw' });
  const dense = op(net.graph, 'dense');
  assert.deepEqual(dense.map((d) => d.kernelShape), [[3072, 256], [256, 256], [256, 10]]);
  assert.deepEqual(dense.map((d) => d.activation.kind), ['relu', 'relu', 'linear']);
  // shared/models/README.md: 855,050 parameters; per-tensor symmetric scales about 0.008414, 0.004994, 0.002478.
  assert.equal(dense.reduce((s, d) => s + d.kernel.length + d.bias.length, 0), 855050);
  const rec = dynamicRange(net);
  assert.deepEqual(rec.layers.map((l) => Number(l.weightScale[0]!.toFixed(6))), [0.008414, 0.004994, 0.002478]);
  assert.ok(rec.layers.every((l) => l.inputQuantization === 'symmetric' && l.weightZeroPoint[0] === 0 && l.weightScale.length === 1));
  assert.deepEqual(rec.layers.map((l) => l.node), net.graph.nodes.filter((n) => n.op.kind === 'dense').map((n) => n.name));
  // Every dequantized weight is an int8 code times its layer's scale.
  dense.forEach((d, k) => {
    const s = rec.layers[k]!.weightScale[0]!;
    for (const w of d.kernel) {
      const q = Math.round(w / s);
      assert.ok(Math.abs(q) <= 127 && Math.fround(q * s) === w);
    }
  });
  assert.deepEqual(net.details['finalSoftmax'], { operator: 3, beta: 1, stripped: true });
  assert.deepEqual(net.details['operators'], { FULLY_CONNECTED: 3, SOFTMAX: 1 });
});

test('a flat input needs its flattening order declared; flat-nhwc starts with an hwc flatten', { skip: NEEDS_DUNCAN }, () => {
  const bytes = readFileSync(DUNCAN_TFLITE!);
  assert.throws(() => importTflite(request(bytes, [32, 32, 3], 10)), (e: Error & { code?: string }) => e.code === 'invalid_argument' && /--layout flat-nchw or flat-nhwc/.test(e.message));
  assert.throws(() => importTflite(request(bytes, [32, 32, 3], 10, { layout: 'nhwc' })), (e: Error & { code?: string }) => e.code === 'invalid_argument');
  assert.throws(() => importTflite(request(bytes, [28, 28, 1], 10)), (e: Error & { code?: string }) => e.code === 'shape_mismatch');
  const net = importTflite(request(bytes, [32, 32, 3], 10, { layout: 'flat-nhwc' }));
  assert.deepEqual(net.graph.nodes[0]!.op, { kind: 'flatten', order: 'hwc' });
});

test('CONV_2D → MAX_POOL_2D → RESHAPE → per-channel int8 FULLY_CONNECTED → SOFTMAX matches brute-force TFLite semantics', () => {
  const rng = new Rng(3);
  const convW = randomArray(rng, 3 * 3 * 3 * 2, 0.5);
  const convB = randomArray(rng, 3, 0.1);
  const fcQ = randomInts(rng, 4 * 27, -127, 127);
  const fcScale = [0.01, 0.02, 0.005, 0.03];
  const fcB = randomArray(rng, 4, 0.1);
  const spec: ModelSpec = {
    tensors: [
      { shape: [1, 6, 6, 2], type: 'FLOAT32' }, // 0 input
      { shape: [3, 3, 3, 2], type: 'FLOAT32', values: convW }, // 1
      { shape: [3], type: 'FLOAT32', values: convB }, // 2
      { shape: [1, 6, 6, 3], type: 'FLOAT32' }, // 3
      { shape: [1, 3, 3, 3], type: 'FLOAT32' }, // 4
      { shape: [1, 27], type: 'FLOAT32' }, // 5
      { shape: [4, 27], type: 'INT8', values: fcQ, quant: { scale: fcScale, zeroPoint: [0, 0, 0, 0], dim: 0 } }, // 6
      { shape: [4], type: 'FLOAT32', values: fcB }, // 7
      { shape: [1, 4], type: 'FLOAT32' }, // 8
      { shape: [1, 4], type: 'FLOAT32' }, // 9
    ],
    ops: [
      { op: 'CONV_2D', inputs: [0, 1, 2], outputs: [3], options: { kind: 'conv', act: 'RELU6', padding: 'SAME', stride: [1, 1] } },
      { op: 'MAX_POOL_2D', inputs: [3], outputs: [4], options: { kind: 'pool', act: 'NONE', padding: 'VALID', stride: [2, 2], filter: [2, 2] } },
      { op: 'RESHAPE', inputs: [4], outputs: [5], options: { kind: 'reshape', shape: [1, 27] } },
      { op: 'FULLY_CONNECTED', inputs: [5, 6, 7], outputs: [8], options: { kind: 'fc', act: 'NONE' } },
      { op: 'SOFTMAX', inputs: [8], outputs: [9], options: { kind: 'softmax', beta: 1 } },
    ],
    inputs: [0],
    outputs: [9],
  };
  const net = importTflite(request(buildTflite(spec), [6, 6, 2], 4));
  assert.equal(net.layout, 'nhwc');
  assert.deepEqual(net.graph.nodes.map((n) => n.op.kind), ['conv2d', 'maxPool', 'flatten', 'dense']);
  assert.deepEqual((net.graph.nodes[0]!.op as Conv2DOp).activation, { kind: 'clip', min: 0, max: 6 });
  const layer = dynamicRange(net).layers[0]!;
  assert.deepEqual(layer.weightScale, fcScale.map(Math.fround));
  assert.equal(layer.weightIndex, 1);

  const x = randomArray(rng, 6 * 6 * 2, 2);
  const conv = tflConv({ h: 6, w: 6, c: 2, v: Float64Array.from(x) }, convW, [3, 3, 3, 2], convB, 1, 'SAME', false);
  conv.v = conv.v.map((v) => Math.min(6, Math.max(0, v)));
  const pooled = tflPool(conv, 2, 2, 'max');
  const fcW = fcQ.map((q, i) => q * Math.fround(fcScale[Math.floor(i / 27)]!));
  const expected = tflFc(pooled.v, fcW, 4, fcB);
  const model = buildLayersModel(net.graph);
  const got = tf.tidy(() => (model.predict(tf.tensor4d(x, [1, 6, 6, 2])) as tf.Tensor).dataSync());
  model.dispose();
  expected.forEach((e, k) => assert.ok(Math.abs(got[k]! - e) < 1e-4, `logit ${k}: ${got[k]} vs ${e}`));
});

/** Evaluates the graph's conv2d (with groups), avgPool and dense from the model-graph conventions. */
function graphConvGroups(x: Map3, op: Conv2DOp): Map3 {
  const [kh, kw, cig, co] = op.kernelShape;
  const outPerGroup = co / op.groups;
  const oh = x.h - kh + 1;
  const ow = x.w - kw + 1;
  const v = new Float64Array(oh * ow * co);
  for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) for (let o = 0; o < co; o++) {
    const g = Math.floor(o / outPerGroup);
    let acc = op.bias[o]!;
    for (let dy = 0; dy < kh; dy++) for (let dx = 0; dx < kw; dx++) for (let i = 0; i < cig; i++) {
      acc += x.v[((y + dy) * x.w + xx + dx) * x.c + g * cig + i]! * op.kernel[((dy * kw + dx) * cig + i) * co + o]!;
    }
    v[(y * ow + xx) * co + o] = acc;
  }
  return { h: oh, w: ow, c: co, v };
}

test('DEPTHWISE_CONV_2D (multiplier 2) → AVERAGE_POOL_2D → float FULLY_CONNECTED: the graph computes what TFLite defines', () => {
  const rng = new Rng(5);
  const dw = randomArray(rng, 3 * 3 * 4);
  const dwB = randomArray(rng, 4, 0.1);
  const fcW = randomArray(rng, 3 * 4);
  const fcB = randomArray(rng, 3, 0.1);
  const spec: ModelSpec = {
    tensors: [
      { shape: [1, 5, 5, 2], type: 'FLOAT32' },
      { shape: [1, 3, 3, 4], type: 'FLOAT32', values: dw },
      { shape: [4], type: 'FLOAT32', values: dwB },
      { shape: [1, 3, 3, 4], type: 'FLOAT32' },
      { shape: [1, 1, 1, 4], type: 'FLOAT32' },
      { shape: [3, 4], type: 'FLOAT32', values: fcW },
      { shape: [3], type: 'FLOAT32', values: fcB },
      { shape: [1, 3], type: 'FLOAT32' },
    ],
    ops: [
      { op: 'DEPTHWISE_CONV_2D', inputs: [0, 1, 2], outputs: [3], options: { kind: 'depthwise', act: 'NONE', padding: 'VALID', stride: [1, 1], multiplier: 2 } },
      { op: 'AVERAGE_POOL_2D', inputs: [3], outputs: [4], options: { kind: 'pool', act: 'NONE', padding: 'VALID', stride: [1, 1], filter: [3, 3] } },
      { op: 'FULLY_CONNECTED', inputs: [4, 5, 6], outputs: [7], options: { kind: 'fc', act: 'NONE' } },
    ],
    inputs: [0],
    outputs: [7],
  };
  const net = importTflite(request(buildTflite(spec), [5, 5, 2], 3));
  assert.deepEqual(net.graph.nodes.map((n) => n.op.kind), ['conv2d', 'avgPool', 'flatten', 'dense']);
  const conv = net.graph.nodes[0]!.op as Conv2DOp;
  assert.equal(conv.groups, 2);
  assert.deepEqual(conv.kernelShape, [3, 3, 1, 4]);
  assert.equal(net.sourceQuantization, undefined, 'a float model has no dynamic-range record');

  const x = { h: 5, w: 5, c: 2, v: Float64Array.from(randomArray(rng, 50)) };
  const ref = tflFc(tflPool(tflConv(x, dw, [1, 3, 3, 4], dwB, 1, 'VALID', true), 3, 1, 'avg').v, fcW, 3, fcB);
  const dense = net.graph.nodes[3]!.op as DenseOp;
  const pooledGraph = tflPool(graphConvGroups(x, conv), 3, 1, 'avg').v;
  const viaGraph = Array.from({ length: 3 }, (_, o) => dense.bias[o]! + [0, 1, 2, 3].reduce((s, i) => s + pooledGraph[i]! * dense.kernel[i * 3 + o]!, 0));
  ref.forEach((r, k) => assert.ok(Math.abs(viaGraph[k]! - r) < 1e-5, `output ${k}: ${viaGraph[k]} vs ${r}`));
});

test('ADD of a constant becomes a channel offset, ADD of two activations an add node with its fused ReLU after it', () => {
  const rng = new Rng(8);
  const w = randomArray(rng, 16);
  const c = randomArray(rng, 4);
  const spec: ModelSpec = {
    tensors: [
      { shape: [1, 4], type: 'FLOAT32' },
      { shape: [4, 4], type: 'FLOAT32', values: w },
      { shape: [1, 4], type: 'FLOAT32' },
      { shape: [4], type: 'FLOAT32', values: c },
      { shape: [1, 4], type: 'FLOAT32' },
      { shape: [1, 4], type: 'FLOAT32' },
    ],
    ops: [
      { op: 'FULLY_CONNECTED', inputs: [0, 1, -1], outputs: [2], options: { kind: 'fc', act: 'NONE' } },
      { op: 'ADD', inputs: [2, 3], outputs: [4], options: { kind: 'add', act: 'NONE' } },
      { op: 'ADD', inputs: [4, 2], outputs: [5], options: { kind: 'add', act: 'RELU' } },
    ],
    inputs: [0],
    outputs: [5],
  };
  const g = importTflite(request(buildTflite(spec), [2, 2, 1], 4)).graph;
  assert.deepEqual(g.nodes.map((n) => n.op.kind), ['flatten', 'dense', 'channelAffine', 'add', 'activation']);
  const [flat, fc, affine, add, act] = g.nodes as [GraphNode, GraphNode, GraphNode, GraphNode, GraphNode];
  assert.deepEqual(flat.op, { kind: 'flatten', order: 'hwc' });
  assert.deepEqual((fc.op as DenseOp).bias, new Float32Array(4), 'an absent bias (-1) is zeros');
  assert.deepEqual(f32Bytes((affine.op as { offset: Float32Array }).offset), f32Bytes(c));
  assert.deepEqual(add.inputs, [affine.name, fc.name]);
  assert.deepEqual(act.op, { kind: 'activation', activation: { kind: 'relu' } });
  assert.equal(g.output, act.name);
});

test('the asymmetric_quantize_inputs option of an int8 FULLY_CONNECTED is recorded', () => {
  const spec = (asymmetric: boolean): ModelSpec => ({
    tensors: [
      { shape: [1, 3], type: 'FLOAT32' },
      { shape: [2, 3], type: 'INT8', values: [1, -2, 3, 4, -5, 6], quant: { scale: [0.5], zeroPoint: [0], dim: 0 } },
      { shape: [1, 2], type: 'FLOAT32' },
    ],
    ops: [{ op: 'FULLY_CONNECTED', inputs: [0, 1, -1], outputs: [2], options: { kind: 'fc', act: 'RELU_N1_TO_1', asymmetric } }],
    inputs: [0],
    outputs: [2],
  });
  for (const asymmetric of [false, true]) {
    const net = importTflite(request(buildTflite(spec(asymmetric)), [1, 3, 1], 2));
    assert.equal(dynamicRange(net).layers[0]!.inputQuantization, asymmetric ? 'asymmetric' : 'symmetric');
    const d = net.graph.nodes[1]!.op as DenseOp;
    assert.deepEqual(d.activation, { kind: 'clip', min: -1, max: 1 });
    // [out, in] = [[1,-2,3],[4,-5,6]] · 0.5 → [in, out]
    assert.deepEqual(Array.from(d.kernel), [0.5, 2, -1, -2.5, 1.5, 3]);
  }
});

test('bad files: not TFL3, truncated, an unsupported operator, a softmax before the end', { skip: NEEDS_DUNCAN }, () => {
  const isCode = (code: string, re?: RegExp) => (e: Error & { code?: string }) => e.code === code && (!re || re.test(e.message));
  assert.throws(() => importTflite(request(new TextEncoder().encode('\x08\x00\x00\x00ONNXnot a tflite model'), [1, 3, 1], 2)), isCode('invalid_model', /x\.tflite: .*identifier 'ONNX'/));
  const duncan = readFileSync(DUNCAN_TFLITE!);
  for (const len of [6, 1000, duncan.length >> 1, duncan.length - 100]) {
    assert.throws(() => importTflite(request(duncan.subarray(0, len), [32, 32, 3], 10, { layout: 'flat-nchw' })), isCode('invalid_model', /^x\.tflite: /), `cut at ${len}`);
  }
  const sub: ModelSpec = {
    tensors: [{ shape: [1, 2], type: 'FLOAT32' }, { shape: [1, 2], type: 'FLOAT32' }, { shape: [1, 2], type: 'FLOAT32' }],
    ops: [{ op: 'SUB', inputs: [0, 0], outputs: [1] }, { op: 'RELU', inputs: [1], outputs: [2] }],
    inputs: [0],
    outputs: [2],
  };
  assert.throws(() => importTflite(request(buildTflite(sub), [1, 2, 1], 2)), isCode('unsupported_layer', /^x\.tflite: operator 0 \(SUB\): /));
  const early: ModelSpec = {
    tensors: [{ shape: [1, 2], type: 'FLOAT32' }, { shape: [1, 2], type: 'FLOAT32' }, { shape: [1, 2], type: 'FLOAT32' }],
    ops: [{ op: 'SOFTMAX', inputs: [0], outputs: [1], options: { kind: 'softmax', beta: 1 } }, { op: 'RELU', inputs: [1], outputs: [2] }],
    inputs: [0],
    outputs: [2],
  };
  assert.throws(() => importTflite(request(buildTflite(early), [1, 2, 1], 2)), isCode('unsupported_layer', /operator 0 \(SOFTMAX\): only a final SOFTMAX/));
});
