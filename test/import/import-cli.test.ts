/**
 * `qrobust import` end to end on third-party files: a VNN-COMP mnistfc network becomes a model directory that
 * eval, attack, quantize and verify read like a trained one, its verifier IR (through the import) computes what
 * the IR read directly from the ONNX file computes and decides its properties alike, and bad input is one line,
 * exit 2, nothing written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { Rng } from '../../src/core/rng.js';
import { evaluateIR, irFromModelDir, irFromOnnx, readVnnlib } from '../../src/verify/index.js';
import { verifyProblemAuto } from '../../src/verify/auto.js';
import { runCliCaptured as cli } from '../fixtures/cli.js';
import { mnistfcExpected, MNISTFC, NEEDS_MNISTFC } from '../verify/fixtures.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-import-cli-'));
test.after(async () => {
  await rm(root, { recursive: true, force: true });
});
const net = MNISTFC ? join(MNISTFC, 'mnist-net_256x2.onnx') : '';
const dir = join(root, 'mnistfc-256x2');

test('import → eval → attack → quantize → verify on mnistfc 256x2', { skip: NEEDS_MNISTFC }, async () => {
  const imp = await cli(['import', net, '--dataset', 'mnist', '--out', dir, '--n', '300', '--seed', '3']);
  assert.equal(imp.code, 0, imp.err);
  const line = JSON.parse(imp.out) as { format: string; layout: string; accuracy: number; n: number };
  assert.equal(line.format, 'onnx');
  assert.equal(line.layout, 'flat-nchw');
  assert.equal(line.n, 300);
  const meta = JSON.parse(await readFile(join(dir, 'qrobust.json'), 'utf8'));
  assert.equal(meta.source.file, 'mnist-net_256x2.onnx');
  assert.match(meta.source.sha256, /^[0-9a-f]{64}$/);
  assert.equal(meta.testAccuracy.n, 300);

  const ev = await cli(['eval', dir, '--n', '300', '--seed', '3']);
  assert.equal(ev.code, 0, ev.err);
  assert.equal(JSON.parse(ev.out).accuracy, line.accuracy, 'eval of the directory measures what import measured');
  assert.ok(line.accuracy > 0.9, `clean accuracy ${line.accuracy}`);

  const atk = await cli(['attack', dir, '--attack', 'pgd', '--eps', '0.05', '--n', '20', '--json', join(root, 'pgd.json')]);
  assert.equal(atk.code, 0, atk.err);
  const pgd = JSON.parse(await readFile(join(root, 'pgd.json'), 'utf8'));
  assert.ok(JSON.stringify(pgd).includes('robustAccuracy'), 'the attack report has robust accuracy');

  const q = await cli(['quantize', dir, '--bits', '8', '--act-bits', '8', '--out', join(root, 'q')]);
  assert.equal(q.code, 0, q.err);
  // One variant is written into --out itself.
  const qmeta = JSON.parse(await readFile(join(root, 'q', 'qrobust.json'), 'utf8'));
  assert.equal(qmeta.quantization.label, 'w8-a8-in8');
  assert.equal(qmeta.source.sha256, meta.source.sha256, 'the variant keeps its source record');
  const ver = await cli(['verify', join(root, 'q'), '--eps', '1/255', '--n', '3', '--method', 'ibp']);
  assert.equal(ver.code, 0, ver.err);
  assert.match(ver.out, /verified \d+ {2}falsified \d+ {2}unknown \d+/);
});

test('the IR built through the import computes the ONNX IR\'s outputs and decides mnistfc properties alike', { skip: NEEDS_MNISTFC }, async (t) => {
  if (!existsSync(join(dir, 'qrobust.json'))) {
    const imp = await cli(['import', net, '--dataset', 'mnist', '--out', dir, '--n', '50']);
    assert.equal(imp.code, 0, imp.err);
  }
  const direct = await irFromOnnx(net);
  const imported = await irFromModelDir(dir);
  assert.equal(imported.inputSize, direct.inputSize);
  const rng = new Rng(9);
  for (let k = 0; k < 20; k++) {
    const x = Float64Array.from({ length: direct.inputSize }, () => rng.next());
    const a = evaluateIR(direct, x);
    const b = evaluateIR(imported, x);
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-9 * Math.max(1, Math.abs(v)), `output ${i}: ${v} vs ${b[i]}`));
  }
  // The instances the 2021 competition's fastest tool decided within a second (both answers occur).
  const text = await readFile(join(MNISTFC!, 'expected.csv'), 'utf8');
  const fast = new Set(text.trim().split('\n').slice(1).map((l) => l.split(',')).filter((c) => Number(c[5]) < 1).map((c) => `${c[0]} ${c[1]}`));
  const rows = (await mnistfcExpected()).filter((r) => r.onnx.includes('256x2') && r.result !== 'unknown' && fast.has(`${r.onnx} ${r.vnnlib}`)).slice(0, 8);
  assert.ok(rows.some((r) => r.result === 'sat') && rows.some((r) => r.result === 'unsat'));
  for (const row of rows) {
    const problem = await readVnnlib(join(MNISTFC!, row.vnnlib));
    const [d, i] = await Promise.all([
      verifyProblemAuto(direct, problem, { timeLimit: 10, seed: 0 }),
      verifyProblemAuto(imported, problem, { timeLimit: 10, seed: 0 }),
    ]);
    t.diagnostic(`${row.vnnlib}: ONNX path ${d.verdict} (${d.method}, ${d.seconds.toFixed(1)} s), import path ${i.verdict} (${i.method}, ${i.seconds.toFixed(1)} s)`);
    if (d.verdict !== 'timeout' && d.verdict !== 'unknown' && i.verdict !== 'timeout' && i.verdict !== 'unknown') {
      assert.equal(i.verdict, d.verdict, `${row.vnnlib}: import path ${i.verdict}, ONNX path ${d.verdict}`);
      assert.equal(i.verdict, row.result, `${row.vnnlib}: expected ${row.result}`);
    }
  }
});

test('bad input: one line naming the file, exit 2, nothing written', async () => {
  const whole = MNISTFC ? await readFile(net) : null;
  const cases: { name: string; bytes: Uint8Array | null; dataset?: string; extra?: string[]; pattern: RegExp }[] = [
    { name: 'truncated.onnx', bytes: whole ? whole.subarray(0, 5000) : null, pattern: /truncated\.onnx: / },
    { name: 'notes.txt', bytes: new TextEncoder().encode('just some text'), pattern: /notes\.txt: not a model file qrobust can read/ },
    { name: 'empty.onnx', bytes: new Uint8Array(0), pattern: /empty\.onnx: not a model file .*\(empty file\)/ },
    { name: 'means.onnx', bytes: whole, extra: ['--mean', '0.1,0.2'], pattern: /--mean has 2 values; the images have 1 channel/ },
    { name: 'cifar.onnx', bytes: whole, dataset: 'cifar10', pattern: /cifar\.onnx: / },
  ];
  for (const c of cases) {
    if (!c.bytes) continue;
    const file = join(root, c.name);
    await writeFile(file, c.bytes);
    const out = join(root, `out-${c.name}`);
    const r = await cli(['import', file, '--dataset', c.dataset ?? 'mnist', '--out', out, '--n', '10', ...(c.extra ?? [])]);
    assert.equal(r.code, 2, `${c.name}: exit ${r.code}, ${r.err}`);
    assert.match(r.err, c.pattern, c.name);
    assert.equal(r.err.trim().split('\n').length, 1, `${c.name}: one line, got ${r.err}`);
    assert.ok(!existsSync(out), `${c.name}: ${out} was written`);
  }
});
