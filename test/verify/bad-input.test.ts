/**
 * Bad properties and networks are user errors, never answers: an empty input box, numbers outside double
 * precision, a NaN/Inf parameter, a network too large to lower. Each is one line on stderr naming the file and
 * the problem, exit code 2, and the VNN-COMP verdict line `error` on stdout and in `--out`. `--out` holds the
 * VNN-COMP result format: the verdict line, then (for sat) the counterexample.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DataType, writeOnnxModel, type OnnxModel, type OnnxNode, type OnnxTensor } from '../../src/onnx/index.js';
import { irFromOnnxBytes } from '../../src/verify/onnx-network.js';
import { parseVnnlib } from '../../src/verify/vnnlib.js';
import { runCliCaptured as cli } from '../fixtures/cli.js';
import { MNISTFC, NEEDS_MNISTFC, parseWitness } from './fixtures.js';

const root = await mkdtemp(join(tmpdir(), 'qrobust-bad-'));
test.after(() => rm(root, { recursive: true, force: true }));

const f32 = (name: string, dims: number[], v: ArrayLike<number>): OnnxTensor => ({ name, dataType: DataType.FLOAT, dims, values: Float32Array.from(v) });

function model(nodes: OnnxNode[], initializers: OnnxTensor[], input: number[], output: number[]): OnnxModel {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'qrobust-test',
    producerVersion: '1',
    domain: '',
    modelVersion: 1,
    docString: '',
    graph: {
      name: 'g',
      nodes,
      initializers,
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: input }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: output }],
      valueInfo: [],
    },
    metadataProps: [],
  };
}

/** y = W x + b, x of size 1, y of size 2. */
function gemm(w: [number, number], b: [number, number]): Uint8Array {
  return writeOnnxModel(model([{ name: 'fc', opType: 'Gemm', domain: '', inputs: ['x', 'W', 'b'], outputs: ['y'], attributes: [{ name: 'transB', type: 'int', value: 1 }] }], [f32('W', [2, 1], w), f32('b', [2], b)], [1, 1], [1, 2]));
}

const HEAD = '(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(assert (>= X_0 0))\n(assert (<= X_0 1))\n';

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const p = join(root, name);
  await writeFile(p, content);
  return p;
}

/** A user error: exit 2, one stderr line naming `name` and matching `problem`, `error` as the verdict line. */
function assertUserError(r: { code: number; out: string; err: string }, name: string, problem: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.err})`);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.err}`);
  assert.ok(lines[0]!.includes(name), `names ${name}: ${lines[0]}`);
  assert.match(lines[0]!, problem);
  assert.equal(r.out.split('\n')[0], 'error', `the verdict line: ${r.out}`);
}

test('mnistfc 256x2 with X_0 in [0.5, -0.5]: an empty box is an error, not unsat', { skip: NEEDS_MNISTFC }, async () => {
  const text = await readFile(join(MNISTFC!, 'prop_0_0.03.vnnlib'), 'utf8');
  const bad = text.replace(/\(assert \(<= X_0 [^)]*\)\)/, '(assert (<= X_0 -0.5))').replace(/\(assert \(>= X_0 [^)]*\)\)/, '(assert (>= X_0 0.5))');
  assert.notEqual(bad, text);
  const prop = await file('empty.vnnlib', bad);
  const out = join(root, 'empty.out');
  const r = await cli(['verify', '--onnx', join(MNISTFC!, 'mnist-net_256x2.onnx'), '--vnnlib', prop, '--timeout', '10', '--out', out]);
  assertUserError(r, 'empty.vnnlib', /X_0: lower bound 0\.5 > upper bound -0\.5.*empty|empty.*X_0: lower bound 0\.5 > upper bound -0\.5/);
  assert.equal(await readFile(out, 'utf8'), 'error\n');
});

test('numbers outside double precision are rejected with the file and line, not read as Infinity or NaN', async () => {
  const net = await file('ok.onnx', gemm([1, 0], [0, 0.5]));
  for (const [name, assertion, problem] of [
    ['huge.vnnlib', '(assert (<= Y_0 (- Y_1 1e400)))', /huge\.vnnlib:6: the number 1e400 is outside the range of double precision/],
    ['overflow.vnnlib', '(assert (<= (+ Y_0 (* 1e200 1e200)) Y_1))', /overflow\.vnnlib:6: the term .* outside the range of double precision/],
    ['nan.vnnlib', '(assert (<= (+ Y_0 (* 1e200 1e200) (- (* 1e200 1e200))) Y_1))', /nan\.vnnlib:6: the term .* outside the range of double precision/],
    ['tiny.vnnlib', '(assert (<= Y_0 (+ Y_1 1e-400)))', /tiny\.vnnlib:6: the number 1e-400 is too small/],
  ] as const) {
    const prop = await file(name, HEAD + assertion + '\n');
    assertUserError(await cli(['verify', '--onnx', net, '--vnnlib', prop, '--timeout', '5']), name, problem);
  }
  // Still fine: large and small numbers that doubles hold.
  const p = parseVnnlib(HEAD + '(assert (<= Y_0 (+ Y_1 1e300 1e-300)))\n', 'fine');
  assert.equal(p.cases[0]!.unsafe.disjuncts[0]![0]!.offset, -1e300);
});

test('NaN and Inf weights are refused with the file and node, where IBP would skip them', async () => {
  for (const [label, w] of [['NaN', [Number.NaN, 0]], ['Infinity', [Infinity, 0]]] as const) {
    const bytes = gemm(w as [number, number], [0, 0.5]);
    assert.throws(() => irFromOnnxBytes(bytes, `${label}.onnx`), (e: Error & { code?: string }) => e.code === 'invalid_model' && e.message.includes(`${label}.onnx`) && e.message.includes("'fc'") && e.message.includes(label));
    const net = await file(`${label}.onnx`, bytes);
    const prop = await file('p.vnnlib', HEAD + '(assert (>= Y_0 Y_1))\n');
    const out = join(root, `${label}.out`);
    assertUserError(await cli(['verify', '--onnx', net, '--vnnlib', prop, '--timeout', '5', '--out', out]), `${label}.onnx`, new RegExp(`'fc'.*${label}`));
    assert.equal(await readFile(out, 'utf8'), 'error\n');
  }
});

test('a VGG-sized convolution is refused before anything is allocated, with its size named', () => {
  // One 3x3 conv, 64 → 64 channels on 224x224: 1.85e9 matrix entries in the verifier's form.
  const kernel = f32('K', [64, 64, 3, 3], new Float32Array(64 * 64 * 9).fill(0.01));
  const nodes: OnnxNode[] = [
    { name: 'conv1_2', opType: 'Conv', domain: '', inputs: ['x', 'K'], outputs: ['c'], attributes: [{ name: 'pads', type: 'ints', value: [1, 1, 1, 1] }] },
    { name: 'flat', opType: 'Flatten', domain: '', inputs: ['c'], outputs: ['y'], attributes: [] },
  ];
  const bytes = writeOnnxModel(model(nodes, [kernel], [1, 64, 224, 224], [1, 64 * 224 * 224]));
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  assert.throws(
    () => irFromOnnxBytes(bytes, 'vgg.onnx'),
    (e: Error & { code?: string }) => e.code === 'unsupported_layer' && /vgg\.onnx/.test(e.message) && /conv1_2/.test(e.message) && /1,849,688,064/.test(e.message),
  );
  assert.ok(performance.now() - t0 < 2000, 'refused at once');
  assert.ok(process.memoryUsage().heapUsed - heap0 < 200e6, 'without allocating the matrix');
});

test('--out holds the VNN-COMP result: the verdict line, then the counterexample for sat', async () => {
  const net = await file('ok2.onnx', gemm([1, 0], [0, 0.5]));
  const sat = await file('sat.vnnlib', HEAD + '(assert (>= Y_0 Y_1))\n');
  const unsat = await file('unsat.vnnlib', HEAD + '(assert (>= Y_0 (+ Y_1 1)))\n');
  const outSat = join(root, 'sat.out');
  const r = await cli(['verify', '--onnx', net, '--vnnlib', sat, '--timeout', '5', '--out', outSat]);
  assert.equal(r.code, 0, r.err);
  const text = await readFile(outSat, 'utf8');
  const [first, ...rest] = text.split('\n');
  assert.equal(first, 'sat');
  assert.match(rest.join('\n'), /^\(\(X_0 [^()]+\)\n\(Y_0 [^()]+\)\n\(Y_1 [^()]+\)\)\n$/);
  // onnxruntime, given the file's X, produces the file's Y, and it violates the property.
  const w = parseWitness(rest.join('\n'));
  const s = await ort.InferenceSession.create(await readFile(net));
  const y = Array.from((await s.run({ x: new ort.Tensor('float32', Float32Array.from(w.x), [1, 1]) })).y!.data as Float32Array);
  await s.release();
  assert.ok(w.x[0]! >= 0 && w.x[0]! <= 1 && y[0]! >= y[1]!, `x ${w.x}, y ${y}`);
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(y[i]! - w.y[i]!) <= 1e-6 * Math.max(1, Math.abs(y[i]!)), `Y_${i}: file ${w.y[i]}, onnxruntime ${y[i]}`);
  const outUnsat = join(root, 'unsat.out');
  const u = await cli(['verify', '--onnx', net, '--vnnlib', unsat, '--timeout', '5', '--out', outUnsat]);
  assert.equal(u.out.split('\n')[0], 'unsat');
  assert.equal(await readFile(outUnsat, 'utf8'), 'unsat\n');
  const missing = await cli(['verify', '--onnx', join(root, 'missing.onnx'), '--vnnlib', sat, '--timeout', '5', '--out', outUnsat]);
  assertUserError(missing, 'missing.onnx', /cannot read/);
  assert.equal(await readFile(outUnsat, 'utf8'), 'error\n');
});
