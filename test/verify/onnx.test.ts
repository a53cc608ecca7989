import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../src/core/rng.js';
import { QrobustError } from '../../src/core/errors.js';
import { DataType, readOnnxModel, writeOnnxModel, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from '../../src/onnx/index.js';
import { irFromOnnx, irFromOnnxBytes } from '../../src/verify/onnx-network.js';
import { evaluateIR, type NetworkIR } from '../../src/verify/ir.js';
import { readVnnlib } from '../../src/verify/vnnlib.js';
import { MNISTFC, NEEDS_MNISTFC, samplePoints } from './fixtures.js';

const f32 = (dims: number[], values: ArrayLike<number>, name: string): OnnxTensor => ({ name, dataType: DataType.FLOAT, dims, values: Float32Array.from(values) });
const i64 = (dims: number[], values: number[], name: string): OnnxTensor => ({ name, dataType: DataType.INT64, dims, values: BigInt64Array.from(values.map(BigInt)) });
const node = (opType: string, inputs: string[], outputs: string[], attributes: OnnxAttribute[] = [], name = ''): OnnxNode => ({ name, opType, domain: '', inputs, outputs, attributes });
const ints = (name: string, value: number[]): OnnxAttribute => ({ name, type: 'ints', value });
const int = (name: string, value: number): OnnxAttribute => ({ name, type: 'int', value });
const float = (name: string, value: number): OnnxAttribute => ({ name, type: 'float', value });

function makeModel(nodes: OnnxNode[], initializers: OnnxTensor[], input: [string, (number | string)[]], output: [string, number[]], opset = 13): OnnxModel {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'qrobust-test',
    producerVersion: '1',
    domain: '',
    modelVersion: 1,
    docString: '',
    graph: {
      name: 'g',
      nodes,
      initializers,
      inputs: [{ name: input[0], elemType: DataType.FLOAT, shape: input[1] }],
      outputs: [{ name: output[0], elemType: DataType.FLOAT, shape: output[1] }],
      valueInfo: [],
    },
    metadataProps: [],
  };
}

function randomTensor(rng: Rng, dims: number[], name: string, scale = 1): OnnxTensor {
  return f32(dims, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale), name);
}

/** The largest |ONNX Runtime − evaluateIR| over the inputs (ORT in float32 on the model bytes). */
async function maxDifference(bytes: Uint8Array, ir: NetworkIR, shape: number[], inputs: Float64Array[]): Promise<number> {
  const session = await ort.InferenceSession.create(bytes);
  let worst = 0;
  for (const x of inputs) {
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(x), shape) };
    const out = (await session.run(feeds))[session.outputNames[0]!]!.data as Float32Array;
    const y = evaluateIR(ir, Float32Array.from(x));
    assert.equal(out.length, y.length);
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(out[i]! - y[i]!));
  }
  await session.release();
  return worst;
}

test('the mnistfc 256x2 file decodes to its documented structure', { skip: NEEDS_MNISTFC }, async () => {
  const m = readOnnxModel(await readFile(join(MNISTFC!, 'mnist-net_256x2.onnx')));
  assert.equal(m.irVersion, 4);
  assert.deepEqual(m.opsetImport, [{ domain: '', version: 9 }]);
  assert.deepEqual(m.graph.nodes.map((n) => n.opType), ['Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
  assert.deepEqual(m.graph.inputs[0]!.shape, [1, 784, 1]);
  assert.deepEqual(m.graph.outputs[0]!.shape, [1, 10]);
  const gemm = m.graph.nodes[1]!;
  assert.deepEqual(gemm.attributes.find((a) => a.name === 'transB'), { name: 'transB', type: 'int', value: 1 });
  const w = m.graph.initializers.find((t) => t.name === gemm.inputs[1])!;
  assert.deepEqual(w.dims, [256, 784]);
  assert.ok(w.values instanceof Float32Array && w.values.length === 256 * 784);
});

test('a decoded model re-encodes to bytes that decode identically and that ONNX Runtime runs to the same outputs', { skip: NEEDS_MNISTFC }, async () => {
  const bytes = await readFile(join(MNISTFC!, 'mnist-net_256x4.onnx'));
  const m = readOnnxModel(bytes);
  const again = writeOnnxModel(m);
  assert.deepEqual(readOnnxModel(again), m);
  const rng = new Rng(1);
  const a = await ort.InferenceSession.create(bytes);
  const b = await ort.InferenceSession.create(again);
  for (let t = 0; t < 3; t++) {
    const x = new ort.Tensor('float32', Float32Array.from({ length: 784 }, () => rng.next()), [1, 784, 1]);
    const ya = (await a.run({ [a.inputNames[0]!]: x }))[a.outputNames[0]!]!.data;
    const yb = (await b.run({ [b.inputNames[0]!]: x }))[b.outputNames[0]!]!.data;
    assert.deepEqual(yb, ya);
  }
});

test('every attribute and tensor kind of the subset survives a write/read round trip', () => {
  const sub: OnnxModel['graph'] = { name: 'body', nodes: [node('Identity', ['a'], ['b'])], initializers: [], inputs: [{ name: 'a', elemType: 1, shape: [2] }], outputs: [{ name: 'b', elemType: 1, shape: [2] }], valueInfo: [] };
  const m = makeModel(
    [
      node('Custom', ['x', '', 'w'], ['y', 'z'], [
        float('f', 0.5),
        int('i', -3),
        int('big', 2 ** 40),
        { name: 's', type: 'string', value: 'héllo' },
        ints('is', [1, -2, 3]),
        { name: 'fs', type: 'floats', value: [0.25, -1] },
        { name: 'ss', type: 'strings', value: ['a', 'bc'] },
        { name: 't', type: 'tensor', value: i64([2], [-5, 9007199254740991], 'tt') },
        { name: 'g', type: 'graph', value: sub },
      ], 'custom_node'),
    ],
    [
      f32([2, 2], [1, -2, 3.5, 0], 'w'),
      { name: 'd', dataType: DataType.DOUBLE, dims: [3], values: Float64Array.of(Math.PI, -0, 1e-300) },
      { name: 'u8', dataType: DataType.UINT8, dims: [2], values: Uint8Array.of(0, 255) },
      { name: 'i8', dataType: DataType.INT8, dims: [2], values: Int8Array.of(-128, 127) },
      { name: 'i32', dataType: DataType.INT32, dims: [], values: Int32Array.of(-7) },
    ],
    ['x', ['N', 3, null as unknown as number]],
    ['y', [1]],
  );
  const back = readOnnxModel(writeOnnxModel(m));
  assert.deepEqual(back.graph.inputs[0]!.shape, ['N', 3, null]);
  assert.deepEqual(back, m);
});

test('bytes that are not an ONNX model are rejected with the source named', () => {
  assert.throws(() => readOnnxModel(Uint8Array.of(0x0a, 0xff, 0xff), 'junk.onnx'), (e: unknown) => e instanceof QrobustError && e.message.startsWith('junk.onnx:'));
});

test('the IR of the three mnistfc nets matches ONNX Runtime to 1e-5 on points and corners of a property box', { skip: NEEDS_MNISTFC }, async () => {
  const box = (await readVnnlib(join(MNISTFC!, 'prop_4_0.05.vnnlib'))).cases[0]!.input;
  const rng = new Rng(2);
  for (const net of ['256x2', '256x4', '256x6']) {
    const path = join(MNISTFC!, `mnist-net_${net}.onnx`);
    const ir = await irFromOnnx(path);
    assert.equal(ir.inputSize, 784);
    assert.equal(ir.outputSize, 10);
    assert.deepEqual(ir.steps.map((s) => s.kind).filter((k) => k === 'relu').length, Number(net.slice(4)));
    const d = await maxDifference(await readFile(path), ir, [1, 784, 1], samplePoints(rng, box, 6));
    assert.ok(d < 1e-5, `${net}: max difference ${d}`);
  }
});

test('a CNN with normalization, padded strided dilated Conv, BatchNorm, MaxPool, a PyTorch-style flatten, MatMul, Transpose and Gemm matches ONNX Runtime', async () => {
  const rng = new Rng(3);
  const nodes: OnnxNode[] = [
    node('Sub', ['x', 'mean'], ['x1'], [], 'normalize_sub'),
    node('Div', ['x1', 'std'], ['x2'], [], 'normalize_div'),
    node('Conv', ['x2', 'cw', 'cb'], ['c1'], [ints('pads', [1, 0, 1, 2]), ints('strides', [2, 1]), ints('dilations', [1, 2]), ints('kernel_shape', [3, 3])], 'conv'),
    node('BatchNormalization', ['c1', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], ['c2'], [float('epsilon', 1e-3)], 'bn'),
    node('Relu', ['c2'], ['c3'], [], 'relu1'),
    node('MaxPool', ['c3'], ['p1'], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2]), ints('pads', [1, 0, 0, 0]), int('ceil_mode', 1)], 'pool'),
    node('Shape', ['p1'], ['s0']),
    node('Gather', ['s0', 'zero'], ['s1'], [int('axis', 0)]),
    node('Unsqueeze', ['s1', 'axes0'], ['s2']),
    node('Concat', ['s2', 'minus_one'], ['s3'], [int('axis', 0)]),
    node('Reshape', ['p1', 's3'], ['f1'], [], 'flatten'),
    node('MatMul', ['f1', 'mw'], ['m1'], [], 'fc1'),
    node('Add', ['m1', 'mb'], ['m2'], [], 'fc1_bias'),
    node('Relu', ['m2'], ['m3'], [], 'relu2'),
    node('Transpose', ['m3'], ['m4'], [ints('perm', [1, 0])], 'transpose'),
    node('Reshape', ['m4', 'row'], ['m5'], [], 'back_to_row'),
    node('Gemm', ['m5', 'gw', 'gc'], ['y'], [float('alpha', 0.5), float('beta', 2), int('transB', 1)], 'logits'),
  ];
  // Input [1, 2, 7, 7]; conv → [1, 3, 4, 5] (H: (7 + 1 + 1 − 3)/2 + 1 = 4; W, dilated extent 5: (7 + 0 + 2 − 5) + 1 = 5).
  const inits = [
    f32([1, 2, 1, 1], [0.1307, 0.2], 'mean'),
    f32([2, 1, 1], [0.3081, 0.5], 'std'),
    randomTensor(rng, [3, 2, 3, 3], 'cw', 0.5),
    randomTensor(rng, [3], 'cb', 0.1),
    f32([3], [1.2, 0.8, 1], 'bn_s'),
    f32([3], [0.1, -0.2, 0], 'bn_b'),
    f32([3], [0.05, 0, -0.1], 'bn_m'),
    f32([3], [0.9, 1.5, 0.25], 'bn_v'),
    i64([], [0], 'zero'),
    i64([1], [0], 'axes0'),
    i64([1], [-1], 'minus_one'),
    i64([2], [1, -1], 'row'),
  ];
  // After conv: [1,3,4,5]; pool 2x2/2 with a top pad and ceil_mode → [1,3,3,3] (H: ⌈(4+1−2)/2⌉+1 = 3,
  // W: ⌈(5−2)/2⌉+1 = 3, the last column window half outside) → 27 features.
  inits.push(randomTensor(rng, [27, 6], 'mw', 0.4), randomTensor(rng, [6], 'mb', 0.1), randomTensor(rng, [4, 6], 'gw', 0.5), randomTensor(rng, [4], 'gc', 0.1));
  const model = makeModel(nodes, inits, ['x', ['batch', 2, 7, 7]], ['y', [1, 4]]);
  const bytes = writeOnnxModel(model);
  const ir = irFromOnnxBytes(bytes, 'cnn.onnx');
  assert.deepEqual(ir.inputShape, [2, 7, 7]);
  assert.deepEqual(ir.steps.map((s) => s.kind), ['affine', 'relu', 'maxpool', 'affine', 'relu', 'affine']);
  const rng2 = new Rng(4);
  const inputs = Array.from({ length: 8 }, () => Float64Array.from({ length: 98 }, () => rng2.next()));
  const d = await maxDifference(bytes, ir, [1, 2, 7, 7], inputs);
  assert.ok(d < 1e-5, `max difference ${d}`);
});

test('MatMul with the constant on the left, Mul and Sub from a constant match ONNX Runtime', async () => {
  const rng = new Rng(5);
  const nodes = [
    node('Reshape', ['x', 'shape43'], ['r'], [], 'as_matrix'),
    node('MatMul', ['wl', 'r'], ['a'], [], 'left_matmul'),
    node('Sub', ['c', 'a'], ['b'], [], 'const_minus'),
    node('Mul', ['b', 'scale'], ['d'], [], 'scale'),
    node('Relu', ['d'], ['e']),
    node('Flatten', ['e'], ['y'], [int('axis', 0)]),
  ];
  const inits = [i64([2], [4, 3], 'shape43'), randomTensor(rng, [5, 4], 'wl'), randomTensor(rng, [5, 1], 'c'), randomTensor(rng, [3], 'scale')];
  const bytes = writeOnnxModel(makeModel(nodes, inits, ['x', [12]], ['y', [1, 15]]));
  const ir = irFromOnnxBytes(bytes, 'left.onnx');
  assert.equal(ir.outputSize, 15);
  const inputs = Array.from({ length: 5 }, () => Float64Array.from({ length: 12 }, () => rng.normal()));
  assert.ok((await maxDifference(bytes, ir, [12], inputs)) < 1e-5);
});

test('an unsupported operator is named with its node; so are products and quotients of activations and a softmax output', () => {
  const rng = new Rng(6);
  const w = randomTensor(rng, [3, 4], 'w');
  const cases: [OnnxNode[], OnnxTensor[], RegExp][] = [
    [[node('Gemm', ['x', 'w'], ['h'], [int('transB', 1)], 'fc'), node('Sign', ['h'], ['y'], [], 'act1')], [w], /net\.onnx: node 'act1' \(Sign\): not supported by the ONNX importer/],
    [[node('MatMul', ['x', 'x'], ['y'], [], 'square')], [], /node 'square' \(MatMul\): a product of two activations is not linear/],
    [[node('Div', ['w1', 'x'], ['y'], [], 'inverse')], [randomTensor(rng, [1, 4], 'w1')], /node 'inverse' \(Div\): division by an activation is not linear/],
    // Y_i of a property are the file's outputs: a softmax there is not left out, and it has no exact form.
    [[node('Gemm', ['x', 'w'], ['h'], [int('transB', 1)], 'fc'), node('Softmax', ['h'], ['y'], [], 'probs')], [w], /node 'probs' \(Softmax\): not supported/],
  ];
  for (const [nodes, inits, message] of cases) {
    const bytes = writeOnnxModel(makeModel(nodes, inits, ['x', [1, 4]], ['y', [1, 3]]));
    assert.throws(() => irFromOnnxBytes(bytes, 'net.onnx'), (e: unknown) => e instanceof QrobustError && message.test(e.message), `expected ${message}`);
  }
});

test('graphs a chain reader refuses lower exactly: Sigmoid, a residual Add, a branch read twice, a grouped Conv, Gemm with transA', async () => {
  const rng = new Rng(7);
  const nodes = [
    node('Conv', ['x', 'gw', 'gb'], ['c'], [int('group', 2), ints('pads', [1, 1, 1, 1])], 'grouped'),
    node('Relu', ['c'], ['r']),
    node('Add', ['r', 'x'], ['s'], [], 'residual'),
    node('Sigmoid', ['x'], ['g'], [], 'gate'),
    node('Mul', ['g', 'half'], ['g2'], [], 'gate_scale'),
    node('Add', ['s', 'g2'], ['t'], [], 'merge'),
    node('Reshape', ['t', 'column'], ['col'], [], 'as_column'),
    node('Gemm', ['col', 'fw', 'fb'], ['y'], [int('transA', 1)], 'logits'),
  ];
  const inits = [randomTensor(rng, [4, 2, 3, 3], 'gw', 0.5), randomTensor(rng, [4], 'gb', 0.1), f32([1], [0.5], 'half'), i64([2], [36, 1], 'column'), randomTensor(rng, [36, 3], 'fw', 0.3), randomTensor(rng, [3], 'fb', 0.1)];
  const bytes = writeOnnxModel(makeModel(nodes, inits, ['x', [1, 4, 3, 3]], ['y', [1, 3]]));
  const ir = irFromOnnxBytes(bytes, 'dag.onnx');
  assert.equal(ir.inputSize, 36);
  assert.ok(ir.steps.some((s) => s.kind === 'smooth'), 'the sigmoid is a smooth step');
  const inputs = Array.from({ length: 8 }, () => Float64Array.from({ length: 36 }, () => rng.normal()));
  const d = await maxDifference(bytes, ir, [1, 4, 3, 3], inputs);
  assert.ok(d < 1e-5, `max difference ${d}`);
});

test('a missing ONNX file is an io_error naming the path', async () => {
  await assert.rejects(irFromOnnx('/nonexistent/net.onnx'), (e: unknown) => e instanceof QrobustError && e.code === 'io_error' && e.message.includes('/nonexistent/net.onnx'));
});

test('element-wise ops before and after a layer keep their float32 roundings in the margin: the importer folds nothing for the verifier', () => {
  const rng = new Rng(8);
  // Sub and Div (two roundings each: the op and a possible constant folding) and the Gemm's weights (one).
  const chain = [node('Sub', ['x', 'm'], ['a']), node('Div', ['a', 's'], ['b']), node('Gemm', ['b', 'w', 'c'], ['y'], [int('transB', 1)], 'fc')];
  const chainInits = [f32([4], [0.1, 0.2, 0.3, 0.4], 'm'), f32([4], [0.3, 0.5, 0.7, 0.9], 's'), randomTensor(rng, [2, 4], 'w'), randomTensor(rng, [2], 'c')];
  const fc = irFromOnnxBytes(writeOnnxModel(makeModel(chain, chainInits, ['x', [1, 4]], ['y', [1, 2]])), 'chain.onnx');
  assert.deepEqual(fc.steps.map((s) => (s.kind === 'affine' ? s.float32?.extraDepth : s.kind)), [5]);
  // Sub (2), the conv's weights (1), a BatchNormalization after it (scale 2, shift 2), not folded into the kernel.
  const conv = [node('Sub', ['x', 'm'], ['a']), node('Conv', ['a', 'k', 'kb'], ['c']), node('BatchNormalization', ['c', 'g', 'b', 'mu', 'v'], ['d']), node('Relu', ['d'], ['e']), node('Flatten', ['e'], ['y'])];
  const convInits = [f32([1, 2, 1, 1], [0.1, 0.2], 'm'), randomTensor(rng, [3, 2, 2, 2], 'k'), randomTensor(rng, [3], 'kb'), f32([3], [1, 2, 3], 'g'), f32([3], [0, 1, 0], 'b'), f32([3], [0.5, 0, 0], 'mu'), f32([3], [1, 2, 0.5], 'v')];
  const cnn = irFromOnnxBytes(writeOnnxModel(makeModel(conv, convInits, ['x', [1, 2, 3, 3]], ['y', [1, 12]])), 'cnn.onnx');
  // The flatten of the NCHW map is a permutation of the graph's NHWC values: exact, no rounding.
  assert.deepEqual(cnn.steps.map((s) => (s.kind === 'affine' ? s.float32?.extraDepth : s.kind)), [7, 'relu', 0]);
});

test('a flat input that the network reshapes to an image before a Conv matches ONNX Runtime, element for element', async () => {
  const rng = new Rng(9);
  const nodes = [
    node('Reshape', ['x', 'image'], ['img'], [], 'to_image'),
    node('Conv', ['img', 'k', 'kb'], ['c'], [ints('pads', [1, 1, 1, 1])], 'conv'),
    node('Relu', ['c'], ['r']),
    node('Flatten', ['r'], ['f']),
    node('Gemm', ['f', 'w', 'b'], ['y'], [int('transB', 1)], 'fc'),
  ];
  // Three channels: the file's C order (channel first) differs from the graph's NHWC image.
  const inits = [i64([4], [-1, 3, 2, 2], 'image'), randomTensor(rng, [2, 3, 3, 3], 'k', 0.5), randomTensor(rng, [2], 'kb', 0.1), randomTensor(rng, [4, 8], 'w', 0.5), randomTensor(rng, [4], 'b', 0.1)];
  const bytes = writeOnnxModel(makeModel(nodes, inits, ['x', ['batch', 12]], ['y', [1, 4]]));
  const ir = irFromOnnxBytes(bytes, 'flat.onnx');
  assert.deepEqual(ir.inputShape, [12]);
  const inputs = Array.from({ length: 6 }, () => Float64Array.from({ length: 12 }, () => rng.normal()));
  assert.ok((await maxDifference(bytes, ir, [1, 12], inputs)) < 1e-5);
});
