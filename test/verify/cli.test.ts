import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { findSiblingMirror } from '../../src/data/locate.js';
import { loadDataset } from '../../src/data/index.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { isIntegerExecutable, quantizeModel } from '../../src/quant/ptq.js';
import { saveQuantizedModel } from '../../src/quant/quantized-dir.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import { parseEpsilon } from '../../src/cli/epsilon.js';
import { irFromOnnx } from '../../src/verify/onnx-network.js';
import { evaluateIR } from '../../src/verify/ir.js';
import { inBox, isUnsafe } from '../../src/verify/property.js';
import type { VerifyDirReport } from '../../src/workflows/verify-model.js';
import { readVnnlib } from '../../src/verify/vnnlib.js';
import { runCliCaptured as cli } from '../fixtures/cli.js';
import { mnistMeta, trainedTinyMlp } from '../quant/fixtures.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-verify-'));
const floatDir = join(root, 'mlp-tiny');
const quantDir = join(root, 'w8');
{
  const model = await trainedTinyMlp(2);
  await saveModel(floatDir, model, mnistMeta('mlp-tiny'));
  model.dispose();
  const loaded = await loadModel(floatDir);
  const calib = await loadDataset('mnist', 'train', { n: 200, seed: 21, allowDownload: false });
  const qm = quantizeModel(loaded, makeQuantSpec({ weights: { bits: 8 }, activations: { bits: 8 }, inputs: { bits: 8 } }), calib);
  loaded.model.dispose();
  await saveQuantizedModel(quantDir, qm, { parentDir: floatDir, integerExecutable: isIntegerExecutable(qm) });
}
test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

const mirror = findSiblingMirror();
const BENCH = mirror ? join(dirname(mirror), 'benchmarks', 'mnistfc') : null;
const NO_BENCH: string | false = BENCH && existsSync(BENCH) ? false : 'no shared/benchmarks/mnistfc beside the checkout';

test('ε accepts numbers and fractions of 255', () => {
  assert.equal(parseEpsilon('2/255'), 2 / 255);
  assert.equal(parseEpsilon('0.03'), 0.03);
  assert.throws(() => parseEpsilon('two'), /--eps: expected a number >= 0 or a fraction/);
  assert.throws(() => parseEpsilon('-1'), /--eps/);
});

test('verify DIR: per-sample lines, a summary line and a JSON report with seed, versions and config', async () => {
  const json = join(root, 'crown.json');
  const r = await cli(['verify', floatDir, '--eps', '2/255', '--n', '4', '--method', 'crown', '--json', json]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.match(lines[0]!, /^sample\s+index\s+label\s+outcome/);
  assert.equal(lines.length, 6);
  assert.match(lines[5]!, /^verified \d+ {2}falsified \d+ {2}unknown \d+ {2}seconds /);
  assert.ok(!r.err.includes('\r'), 'no progress bar without a terminal');
  const report = JSON.parse(await readFile(json, 'utf8')) as VerifyDirReport;
  const s = report.summary;
  assert.equal(s.verified + s.falsified + s.unknown, 4);
  assert.equal(lines[5], `verified ${s.verified}  falsified ${s.falsified}  unknown ${s.unknown}  seconds ${s.seconds.toFixed(1)}`);
  // The summary's seconds are the wall time of the whole run, which holds every sample's own time.
  const perSample = report.samples.reduce((t, x) => t + x.seconds, 0);
  assert.ok(perSample > 0 && s.seconds >= perSample, `run ${s.seconds} s, samples ${perSample} s`);
  assert.equal(report.method, 'crown');
  assert.equal(report.semantics, 'float');
  assert.equal(report.config.seed, 0);
  assert.equal(report.samples.length, 4);
  assert.ok(report.config.versions['highs'] && report.config.versions['qrobust']);
  assert.ok(report.samples.every((x) => x.outcome !== 'unknown' || x.method === 'crown'), 'bound-only mode never runs a complete method');
});

test('verify DIR --indices: exactly those test-set indices, in order, carried by the JSON verdicts; bad lists refused', async () => {
  const json = join(root, 'indices.json');
  const r = await cli(['verify', floatDir, '--eps', '1/255', '--indices', '17,3-5', '--method', 'crown', '--json', json]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(await readFile(json, 'utf8')) as VerifyDirReport;
  assert.deepEqual(report.samples.map((x) => x.index), [17, 3, 4, 5]);
  const test = await loadDataset('mnist', 'test', { allowDownload: false });
  assert.deepEqual(report.samples.map((x) => x.label), [17, 3, 4, 5].map((i) => test.labels[i]));
  for (const [bad, why] of [['5-3', /runs backwards/], ['1,1', /index 1 is given twice/], ['x', /expected indices such as 0-99/], ['9999999', /is not one of the 10000 mnist test images/]] as const) {
    const b = await cli(['verify', floatDir, '--eps', '1/255', '--indices', bad, '--method', 'crown']);
    assert.equal(b.code, 2, bad);
    assert.match(b.err, why);
  }
});

test('verify a quantized DIR: deployed integer semantics by default, fake-quant on request', async () => {
  for (const [extra, semantics] of [[[], 'integer'], [['--semantics', 'fake-quant'], 'fake-quant']] as const) {
    const json = join(root, `q-${semantics}.json`);
    const r = await cli(['verify', quantDir, '--eps', '1/255', '--n', '3', '--timeout', '5', '--json', json, ...extra]);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(await readFile(json, 'utf8')) as VerifyDirReport;
    assert.equal(report.semantics, semantics);
    assert.equal(report.config.rounding, semantics === 'integer' ? 'double' : null);
  }
});

test('relative-robustness prints both shares', async () => {
  const r = await cli(['relative-robustness', floatDir, quantDir, '--eps', '1/255', '--n', '3', '--method', 'crown']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /relative robustness \(quantized \| full precision\): (\d+\.\d%|n\/a)/);
  assert.match(r.out, /relative robustness \(full precision \| quantized\): (\d+\.\d%|n\/a)/);
  assert.match(r.out, /verified for both \d+, only full precision \d+, only quantized \d+, neither \d+/);
});

test('verify --onnx --vnnlib: the first line is the verdict, the counterexample file re-checks', { skip: NO_BENCH }, async () => {
  const net = join(BENCH!, 'mnist-net_256x2.onnx');
  const out = join(root, 'ce.txt');
  const sat = await cli(['verify', '--onnx', net, '--vnnlib', join(BENCH!, 'prop_7_0.03.vnnlib'), '--timeout', '30', '--out', out]);
  assert.equal(sat.code, 0, sat.err);
  assert.equal(sat.out.split('\n')[0], 'sat');
  const text = await readFile(out, 'utf8');
  const x = Float64Array.from([...text.matchAll(/\(X_(\d+) ([^)\s]+)\)/g)].map((m) => Number(m[2])));
  assert.equal(x.length, 784);
  const problem = await readVnnlib(join(BENCH!, 'prop_7_0.03.vnnlib'));
  assert.ok(inBox(problem.cases[0]!.input, x), 'the written input lies in the box');
  assert.ok(isUnsafe(problem.cases[0]!.unsafe, evaluateIR(await irFromOnnx(net), x)), 'and violates the property');
  const unsat = await cli(['verify', '--onnx', net, '--vnnlib', join(BENCH!, 'prop_2_0.03.vnnlib'), '--timeout', '30']);
  assert.equal(unsat.code, 0, unsat.err);
  assert.equal(unsat.out.split('\n')[0], 'unsat');
  // CROWN leaves this one open; branch and bound proves it.
  const bab = await cli(['verify', '--onnx', net, '--vnnlib', join(BENCH!, 'prop_0_0.03.vnnlib'), '--timeout', '60', '--method', 'bab']);
  assert.equal(bab.code, 0, bab.err);
  assert.deepEqual(bab.out.split('\n').slice(0, 2).map((l) => l.split(',')[0]), ['unsat', 'method bab']);
});

test('bad inputs give one-line errors and exit code 2', async () => {
  const badVnnlib = join(root, 'bad.vnnlib');
  await writeFile(badVnnlib, '(declare-const X_0 Real)\n(assert (<= X_0 ');
  const cases: [string[], RegExp][] = [
    [['verify'], /missing DIR/],
    [['verify', '--onnx', 'net.onnx'], /--onnx and --vnnlib go together/],
    [['verify', floatDir, '--onnx', 'a.onnx', '--vnnlib', 'b.vnnlib'], /either DIR or --onnx/],
    [['verify', floatDir], /--eps is required/],
    [['verify', floatDir, '--eps', 'abc'], /--eps: expected a number/],
    [['verify', floatDir, '--eps', '0.1', '--semantics', 'integer'], /full-precision model; --semantics/],
    [['verify', floatDir, '--eps', '0.1', '--method', 'magic'], /--method: expected one of/],
    [['verify', quantDir, '--eps', '1/255', '--n', '1', '--method', 'bab'], /integer programs use milp or smt/],
    [['verify', join(root, 'nope'), '--eps', '0.1'], /no such model directory/],
    [['verify', '--onnx', join(root, 'missing.onnx'), '--vnnlib', badVnnlib], /missing\.onnx/],
    [['relative-robustness', floatDir], /missing Q_DIR/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: exit ${r.code}, ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, `${argv.join(' ')}: one line, got ${JSON.stringify(r.err)}`);
    assert.match(r.err, message);
  }
  if (!NO_BENCH) {
    const r = await cli(['verify', '--onnx', join(BENCH!, 'mnist-net_256x2.onnx'), '--vnnlib', badVnnlib]);
    assert.equal(r.code, 2);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /bad\.vnnlib/);
  }
});
