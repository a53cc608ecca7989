/**
 * Re-checks of counterexamples never pass by default. A model check (onnxruntime) that cannot run is no pass:
 * the point must then hold in exact real arithmetic, and `qrobust verify --onnx` says which re-checks ran.
 * References: onnxruntime-node run directly in the test (in the input's own type), hand-computed exact values,
 * and float64 evaluation where it is provably exact (small integers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../src/core/rng.js';
import { DataType, writeOnnxModel, type OnnxModel, type OnnxTensor } from '../../src/onnx/index.js';
import { confirmCounterexample, unsafeMargin } from '../../src/verify/counterexample.js';
import { exactlyUnsafe } from '../../src/verify/exact.js';
import { evaluateIR } from '../../src/verify/ir.js';
import { runCliCaptured as cli } from '../fixtures/cli.js';
import { parseWitness } from './fixtures.js';
import { box, dense, le, network, quantize, relu, vcase } from './tiny-nets.js';

const root = await mkdtemp(join(tmpdir(), 'qrobust-recheck-'));
test.after(() => rm(root, { recursive: true, force: true }));

/** y0 = x + 2^-53, y1 = 1 on x = 1: float64 (and float32) round y0 to 1, a tie; exactly, y0 > y1. */
const HALF_ULP = network(1, [dense('fc', [[1], [0]], [2 ** -53, 1])]);
const TIE_CASE = vcase(box([1], [1]), [[le([1, -1], 0)]]); // y0 − y1 ≤ 0

test('exact arithmetic sees what float64 rounds away: 1 + 2^-53 > 1', () => {
  const y = evaluateIR(HALF_ULP, Float64Array.of(1));
  assert.equal(y[0], y[1], 'float64 rounds 1 + 2^-53 to 1');
  assert.ok(unsafeMargin(TIE_CASE.unsafe, y).margin <= 0, 'so float64 calls it a counterexample');
  assert.equal(exactlyUnsafe(HALF_ULP, TIE_CASE, [1]), false, 'exactly, y0 − y1 = 2^-53 > 0');
  const strictWin = vcase(box([1], [1]), [[le([-1, 1], 0)]]); // y1 − y0 ≤ 0: exactly true
  assert.equal(exactlyUnsafe(HALF_ULP, strictWin, [1]), true);
});

test('exact evaluation agrees with float64 wherever float64 is exact (small integers), ties included', () => {
  const rng = new Rng(7);
  const int = (): number => Math.round(rng.normal() * 3);
  let ties = 0;
  for (let k = 0; k < 200; k++) {
    const net = network(3, [
      dense('a', [[int(), int(), int()], [int(), int(), int()], [int(), int(), int()], [int(), int(), int()]], [int(), int(), int(), int()]),
      relu('r', 4),
      quantize('q', 4, 2, 1, -8, 7),
      dense('b', [[int(), int(), int(), int()], [int(), int(), int(), int()]], [int(), int()]),
    ]);
    const x = [int(), int(), int()];
    const y = evaluateIR(net, Float64Array.from(x));
    // Every third case puts the constraint exactly at a tie.
    const c = vcase(box(x, x), [[le([1, -1], k % 3 === 0 ? y[1]! - y[0]! : int())]]);
    const v = y[0]! - y[1]! + c.unsafe.disjuncts[0]![0]!.offset;
    if (v === 0) ties++;
    assert.equal(exactlyUnsafe(net, c, x), v <= 0, `case ${k}: float64 value ${v}`);
  }
  assert.ok(ties >= 60, `the sample holds ties (${ties})`);
});

test('a model check that cannot run (null or a throw) is no pass: the point must hold exactly', async () => {
  for (const broken of [() => null, () => { throw new Error('session.run failed'); }]) {
    const rejected = await confirmCounterexample(HALF_ULP, TIE_CASE, Float64Array.of(1), { modelCheck: broken, steps: [] });
    assert.equal(rejected, null, 'a float64-only tie that is no counterexample exactly is not confirmed');
    const genuine = vcase(box([1], [1]), [[le([-1, 1], 0)]]);
    const accepted = await confirmCounterexample(HALF_ULP, genuine, Float64Array.of(1), { modelCheck: broken, steps: [] });
    assert.ok(accepted, 'an exact counterexample is still confirmed');
  }
});

// ONNX files: y = [x0, 0.5] through one Gemm, in float32 or float64.
function gemmModel(type: 'float' | 'double', irVersion = 8): OnnxModel {
  const dataType = type === 'float' ? DataType.FLOAT : DataType.DOUBLE;
  const t = (name: string, dims: number[], v: number[]): OnnxTensor => ({ name, dataType, dims, values: type === 'float' ? Float32Array.from(v) : Float64Array.from(v) });
  return {
    irVersion,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'qrobust-test',
    producerVersion: '1',
    domain: '',
    modelVersion: 1,
    docString: '',
    graph: {
      name: 'g',
      nodes: [{ name: 'fc', opType: 'Gemm', domain: '', inputs: ['x', 'W', 'b'], outputs: ['y'], attributes: [] }],
      initializers: [t('W', [1, 2], [1, 0]), t('b', [2], [0, 0.5])],
      inputs: [{ name: 'x', elemType: dataType, shape: [1, 1] }],
      outputs: [{ name: 'y', elemType: dataType, shape: [1, 2] }],
      valueInfo: [],
    },
    metadataProps: [],
  };
}

const PROPERTY = '(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (>= Y_0 Y_1))\n';

async function ortOutput(bytes: Uint8Array, x: number, type: 'float32' | 'float64'): Promise<number[]> {
  const s = await ort.InferenceSession.create(bytes);
  const data = type === 'float32' ? Float32Array.of(x) : Float64Array.of(x);
  const y = (await s.run({ x: new ort.Tensor(type, data, [1, 1]) })).y!.data as Float32Array | Float64Array;
  await s.release();
  return Array.from(y);
}

for (const [label, type, gz] of [['a DOUBLE-input model', 'double', false], ['a .onnx.gz path', 'float', true]] as const) {
  test(`${label}: onnxruntime re-checks the counterexample, and the answer says so`, async () => {
    const bytes = writeOnnxModel(gemmModel(type));
    const onnx = join(root, `${type}${gz ? '.onnx.gz' : '.onnx'}`);
    await writeFile(onnx, gz ? gzipSync(bytes) : bytes);
    const prop = join(root, 'p.vnnlib');
    await writeFile(prop, PROPERTY);
    const ce = join(root, `${type}-${gz}.ce`);
    const r = await cli(['verify', '--onnx', onnx, '--vnnlib', prop, '--timeout', '10', '--out', ce]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.split('\n')[0], 'sat');
    const ortName = type === 'double' ? 'onnxruntime (float64)' : 'onnxruntime (float32)';
    assert.match(r.out, new RegExp(`re-checked: float64 IR pass, ${ortName.replace(/[()]/g, '\\$&')} pass, exact real arithmetic pass`));
    assert.doesNotMatch(r.err, /warning/, r.err);
    // The counterexample, run by onnxruntime directly, violates the property.
    const w = parseWitness(await readFile(ce, 'utf8'));
    const y = await ortOutput(bytes, w.x[0]!, type === 'double' ? 'float64' : 'float32');
    assert.ok(w.x[0]! >= 0 && w.x[0]! <= 1 && y[0]! >= y[1]!, `onnxruntime: x = ${w.x[0]}, y = ${y}`);
  });
}

test('a model onnxruntime cannot load: a warning, and sat only where exact arithmetic confirms it', async () => {
  // IR version 999 is beyond any onnxruntime; the importer reads the graph without it.
  const onnx = join(root, 'future.onnx');
  await writeFile(onnx, writeOnnxModel(gemmModel('float', 999)));
  const prop = join(root, 'p.vnnlib');
  await writeFile(prop, PROPERTY);
  const r = await cli(['verify', '--onnx', onnx, '--vnnlib', prop, '--timeout', '10']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: onnxruntime could not load/);
  assert.equal(r.out.split('\n')[0], 'sat', 'x = 1 gives y0 = 1 > 0.5 exactly');
  assert.match(r.out, /onnxruntime could not run/);
  assert.match(r.out, /exact real arithmetic pass/);
  // y0 = x + 2^-53 against y1 = 1 at x = 1: a tie in float64, no counterexample exactly: not sat.
  const tie = gemmModel('float', 999);
  const init = tie.graph.initializers as OnnxTensor[];
  init[1] = { ...init[1]!, values: Float32Array.of(2 ** -53, 1) };
  const tieOnnx = join(root, 'future-tie.onnx');
  await writeFile(tieOnnx, writeOnnxModel(tie));
  const tieProp = join(root, 'tie.vnnlib');
  await writeFile(tieProp, '(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(assert (>= X_0 1))\n(assert (<= X_0 1))\n(assert (<= Y_0 Y_1))\n');
  const t = await cli(['verify', '--onnx', tieOnnx, '--vnnlib', tieProp, '--timeout', '10']);
  assert.equal(t.code, 0, t.err);
  assert.notEqual(t.out.split('\n')[0], 'sat', t.out);
});
