import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { saveModel } from '../../src/models/io.js';
import { buildModel } from '../../src/models/zoo.js';
import { MNIST_SPEC, mnistMeta } from '../fixtures/mnist.js';
import { runCliCaptured } from '../fixtures/cli.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-defend-'));
const parent = join(root, 'parent');
const model = buildModel('mlp-tiny', MNIST_SPEC, 2);
await saveModel(parent, model, mnistMeta('mlp-tiny'));
model.dispose();

test.after(() => rm(root, { recursive: true, force: true }));

const json = async (dir: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(dir, 'qrobust.json'), 'utf8'));
const small = ['--eps', '0.1', '--steps', '2', '--n', '128', '--eval-n', '32', '--batch-size', '64', '--seed', '3'];

test('defend --method pgd-at writes a float model whose qrobust.json records the defense; the same seed gives the same weights', async () => {
  const outs = [join(root, 'at-a'), join(root, 'at-b')];
  for (const out of outs) {
    const r = await runCliCaptured(['defend', parent, '--method', 'pgd-at', ...small, '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^float\s+test accuracy [\d.]+% \(32 images\)/);
  }
  const meta = await json(outs[0]!);
  assert.deepEqual(
    { ...(meta['defense'] as Record<string, unknown>), seconds: 0 },
    { method: 'pgd-at', parent, seed: 3, epsilon: 0.1, norm: 'linf', steps: 2, stepSize: 0.125, epochs: 1, batchSize: 64, learningRate: 1e-3, trainCount: 128, seconds: 0, training: 'float' },
  );
  assert.equal(meta['quantization'], undefined);
  assert.deepEqual(await readFile(join(outs[0]!, 'weights.bin')), await readFile(join(outs[1]!, 'weights.bin')));
  const evaluated = await runCliCaptured(['eval', outs[0]!, '--n', '16']);
  assert.equal(evaluated.code, 0, evaluated.err);
});

test('defend --method trades --bits 4 trains quantization-aware; a quantized parent is fine-tuned under its own spec', async () => {
  const out = join(root, 'trades-w4');
  const r = await runCliCaptured(['defend', parent, '--method', 'trades', '--bits', '4', '--beta', '2', ...small, '--out', out]);
  assert.equal(r.code, 0, r.err);
  const meta = await json(out);
  const defense = meta['defense'] as Record<string, unknown>;
  assert.equal(defense['method'], 'trades');
  assert.equal(defense['beta'], 2);
  assert.equal(defense['training'], 'qat w4');
  const quantization = meta['quantization'] as { label: string; qat: { epochs: number } };
  assert.equal(quantization.label, 'w4');
  assert.equal(quantization.qat.epochs, 1);
  const again = join(root, 'trades-w4-pgd');
  const q = await runCliCaptured(['defend', out, '--method', 'pgd-at', ...small, '--out', again]);
  assert.equal(q.code, 0, q.err);
  assert.equal(((await json(again))['quantization'] as { label: string }).label, 'w4');
  const refused = await runCliCaptured(['defend', out, '--method', 'pgd-at', '--bits', '2', '--out', join(root, 'x')]);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /--bits: .* is quantized already/);
});

test('defend --method ensemble: the parent and its quantized versions as one directory that eval and attack take', async () => {
  const out = join(root, 'ensemble');
  const r = await runCliCaptured(['defend', parent, '--method', 'ensemble', '--bits', '4,2', '--eval-n', '32', '--out', out]);
  assert.equal(r.code, 0, r.err);
  const meta = await json(out);
  assert.deepEqual((meta['ensemble'] as { members: { dir: string }[] }).members.map((m) => m.dir), ['../parent', 'w4', 'w2']);
  assert.equal((meta['defense'] as { combine: string }).combine, 'mean-probabilities');
  const attacked = await runCliCaptured(['attack', out, '--attack', 'pgd', '--eps', '0.1', '--n', '8']);
  assert.equal(attacked.code, 0, attacked.err);
  const vote = await runCliCaptured(['defend', '--method', 'ensemble', '--members', `${parent},${join(out, 'w4')}`, '--combine', 'majority-vote', '--eval-n', '0', '--out', join(root, 'vote')]);
  assert.equal(vote.code, 0, vote.err);
});

test('defend refuses what it cannot do in one line', async () => {
  const cases: [string[], RegExp][] = [
    [['defend', parent, '--method', 'boundary', '--out', join(root, 'x')], /--method boundary retrains a weight-quantized model: give a quantized DIR, or --bits/],
    [['defend', parent, '--method', 'pgd-at', '--lambda', '2', '--out', join(root, 'x')], /--lambda is only for --method boundary$/],
    [['defend', parent, '--method', 'boundary', '--bits', '4', '--levels', '4', '--out', join(root, 'x')], /--levels is only for --method nonlinear-map$/],
    [['defend', parent, '--method', 'nonlinear-map', '--levels', '1', '--out', join(root, 'x')], /--levels must be an integer >= 2, got 1$/],
    [['defend', parent, '--method', 'nonlinear-map', '--eps', '0.1', '--out', join(root, 'x')], /--eps is not an option of --method nonlinear-map$/],
    [['defend', parent, '--method', 'boundary', '--bits', '4', '--regenerate', 'never', '--out', join(root, 'x')], /--regenerate/],
    [['defend', parent, '--method', 'pgd-at', '--members', parent, '--out', join(root, 'x')], /--members is only for --method ensemble/],
    [['defend', parent, '--method', 'ensemble', '--eps', '0.1', '--out', join(root, 'x')], /--eps is for adversarial training, not --method ensemble/],
    [['defend', '--method', 'pgd-at', '--out', join(root, 'x')], /missing DIR/],
    [['defend', parent, '--method', 'pgd-at', '--eps', '0', '--out', join(root, 'x')], /--eps must be a positive number, got 0/],
  ];
  for (const [argv, message] of cases) {
    const r = await runCliCaptured(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err.trim(), message);
  }
});
