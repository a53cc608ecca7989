import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadExperimentConfig, validateExperimentConfig } from '../../src/experiments/config.js';
import { shardTasks } from '../../src/experiments/shard.js';
import { parseShard } from '../../src/experiments/shard.js';
import { expandTasks } from '../../src/experiments/tasks.js';
import { tempDir, tinyConfig, writeConfig } from './fixtures.js';

const source = { file: 'exp.json', baseDir: '.' };

async function error(config: unknown): Promise<string> {
  try {
    await validateExperimentConfig(config, source);
  } catch (e) {
    assert.equal((e as Error).name, 'QrobustError');
    return (e as Error).message;
  }
  assert.fail('expected the config to be rejected');
}

function edit(f: (c: Record<string, any>) => void): Record<string, unknown> {
  const c = tinyConfig() as Record<string, any>;
  f(c);
  return c;
}

test('config errors are one line naming the file and the JSON path', async () => {
  assert.equal(await error(edit((c) => delete c.name)), 'exp.json: $.name: expected a non-empty string, got nothing (the field is missing)');
  assert.equal(await error(edit((c) => (c.attacks[0].eps = [0.05, -0.1]))), 'exp.json: $.attacks[0].eps[1]: expected a number >= 0, got -0.1');
  assert.equal(await error(edit((c) => (c.attacks[1].eps = [0.1, 0.05]))), 'exp.json: $.attacks[1].eps: expected increasing values without repeats');
  assert.match(await error(edit((c) => (c.attacks[1].stepz = 3))), /^exp\.json: \$\.attacks\[1\]\.stepz: unknown field \(expected one of: attack, eps, .*steps/);
  assert.match(await error(edit((c) => (c.attacks[1].steps = 0))), /^exp\.json: \$\.attacks\[1\]: pgd: expected steps >= 1/);
  assert.match(await error(edit((c) => (c.attacks[0].attack = 'pgd2'))), /^exp\.json: \$\.attacks\[0\]\.attack: unknown attack 'pgd2' \(attacks: .*fgsm/);
  assert.match(await error(edit((c) => (c.attacks[0].models = ['cnn']))), /^exp\.json: \$\.attacks\[0\]\.models\[0\]: unknown model 'cnn' \(models: mlp, mlp-w8, mlp-w4\)$/);
  assert.match(await error(edit((c) => (c.quantize[0].spec.weights.bits = 17))), /^exp\.json: \$\.quantize\[0\]\.spec: weights\.bits must be an integer from 1 to 16/);
  assert.match(await error(edit((c) => (c.models[0].train.arch = 'resnet'))), /^exp\.json: \$\.models\[0\]\.train\.arch: expected one of mlp-tiny, mlp-100, mlp, cnn-small, cnn-cifar, got "resnet"$/);
  assert.match(await error(edit((c) => (c.quantize[1].name = 'w8'))), /duplicate model name .*'mlp-w8'/);
  assert.match(await error(edit((c) => (c.models[0].load = 'x'))), /\$\.models\[0\]: expected exactly one of 'train'/);
  assert.match(await error(edit((c) => (c.compare.n = 1000))), /^exp\.json: \$\.compare\.n: expected an integer in \[1, 24\], got 1000$/);
  assert.match(await error(edit((c) => (c.transfer[0].grad = 'sign'))), /^exp\.json: \$\.transfer\[0\]\.grad: expected one of exact, ste, got "sign"$/);
  assert.match(await error(edit((c) => (c.verify = { eps: [0.01], method: 'magic' }))), /^exp\.json: \$\.verify\.method: expected one of ibp, crown, milp, bab, smt, auto, got "magic"$/);
  assert.match(await error(edit((c) => (c.verify = { eps: [0.01], models: ['mlp-w9'] }))), /^exp\.json: \$\.verify\.models\[0\]: unknown model 'mlp-w9'/);
});

test('a gradient mode on a gradient-free attack is rejected', async () => {
  assert.match(await error(edit((c) => c.attacks.push({ attack: 'square', eps: [0.1], grad: ['ste'] }))), /\$\.attacks\[2\]\.grad: 'square' queries scores only/);
});

test('a file that is not JSON, or a load of a directory that is not a model, names the file', async () => {
  const t = await tempDir('config');
  try {
    const bad = join(t.dir, 'bad.json');
    await writeFile(bad, '{"name": ');
    await assert.rejects(loadExperimentConfig(bad), /bad\.json: not valid JSON/);
    const list = await writeConfig(t.dir, [tinyConfig()]);
    await assert.rejects(loadExperimentConfig(list), /experiment\.config\.json: \$: expected an object, got an array/);
    const missing = await writeConfig(t.dir, { name: 'x', models: [{ name: 'm', load: 'nowhere' }] });
    await assert.rejects(loadExperimentConfig(missing), /\$\.models\[0\]\.load: .*nowhere/);
  } finally {
    await t.cleanup();
  }
});

test('defaults are filled in and the expansion has every task kind', async () => {
  const c = await validateExperimentConfig(tinyConfig(), source);
  assert.equal(c.data.seed, 3); // the experiment seed
  assert.deepEqual(c.attacks[0]!.grad, ['ste']);
  assert.equal(c.attacks[0]!.norm, 'linf');
  assert.deepEqual(c.attacks[1]!.options, { steps: 3 });
  assert.equal(c.quantize[1]!.calibrationN, 1000);
  const plan = expandTasks(c);
  const count = (k: string): number => plan.tasks.filter((t) => t.config.kind === k).length;
  assert.equal(count('data'), 1);
  assert.equal(count('train'), 1);
  assert.equal(count('quantize'), 2);
  assert.equal(count('eval'), 3);
  // Two gradient modes only where they differ: mlp-w8 quantizes activations and input, mlp-w4 only weights.
  const modes = (kind: string, model: string): (string | null)[] =>
    plan.tasks.filter((t) => t.config.kind === kind && 'model' in t.config && typeof t.config.model === 'object' && t.config.model.name === model).map((t) => (t.config as { grad: string | null }).grad);
  assert.deepEqual(modes('gradients', 'mlp'), [null]);
  assert.deepEqual(modes('gradients', 'mlp-w8'), ['exact', 'ste']);
  assert.deepEqual(modes('gradients', 'mlp-w4'), [null]);
  // fgsm (grad default ste): mlp, mlp-w8 (ste), mlp-w4; pgd: mlp, mlp-w8 × 2, mlp-w4; large ε likewise.
  assert.equal(plan.tasks.filter((t) => t.config.kind === 'attack' && t.config.role === 'curve').length, 3 + 4);
  assert.equal(plan.tasks.filter((t) => t.config.kind === 'attack' && t.config.role === 'large-eps').length, 4);
  assert.equal(count('transfer'), 3);
  assert.equal(count('compare'), 2);
  assert.equal(new Set(plan.tasks.map((t) => t.id)).size, plan.tasks.length);
  for (const t of plan.tasks) for (const d of t.deps) assert.ok(plan.tasks.findIndex((x) => x.id === d) < plan.tasks.indexOf(t), `${t.label} depends on a later task`);
});

test('task ids depend on content, not on key order, and an upstream change moves every dependent id', async () => {
  const a = expandTasks(await validateExperimentConfig(tinyConfig(), source));
  const reordered = Object.fromEntries(Object.entries(tinyConfig()).reverse());
  const b = expandTasks(await validateExperimentConfig(reordered, source));
  assert.deepEqual(
    b.tasks.map((t) => t.id),
    a.tasks.map((t) => t.id),
  );
  assert.equal(b.configHash, a.configHash);
  const c = expandTasks(await validateExperimentConfig(edit((x) => (x.models[0].train.epochs = 4)), source));
  const same = c.tasks.filter((t) => a.tasks.some((u) => u.id === t.id)).map((t) => t.config.kind);
  assert.deepEqual(same, ['data']);
});

test('shards partition the tasks', async () => {
  const plan = expandTasks(await validateExperimentConfig(tinyConfig(), source));
  const parts = [1, 2, 3].map((k) => shardTasks(plan.tasks, parseShard(`${k}/3`)));
  const ids = parts.flat().map((t) => t.id);
  assert.equal(ids.length, plan.tasks.length);
  assert.equal(new Set(ids).size, plan.tasks.length);
  assert.throws(() => parseShard('0/2'), /--shard: expected K\/N with 1 <= K <= N/);
  assert.throws(() => parseShard('3/2'), /got '3\/2'/);
  assert.throws(() => parseShard('1-2'), /got '1-2'/);
});
