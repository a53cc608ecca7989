/**
 * The adaptive evaluation as an experiment task: one task per model, transfer from the full-precision parent of
 * a variant, per-sample worst case over the members, and a config error for a bad entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { loadExperimentConfig } from '../../src/experiments/config.js';
import type { AdaptiveTaskResult } from '../../src/experiments/result-types.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { saveModel } from '../../src/models/io.js';
import { tinyMnistModel } from '../attacks/fixtures.js';
import { mnistMeta } from '../fixtures/mnist.js';
import { recordsOf, tempDir, writeConfig } from './fixtures.js';

test('adaptive tasks: every model evaluated, the variant attacked from its parent, the worst case is the AND of the members', async () => {
  await initBackend('wasm');
  const t = await tempDir('adaptive');
  try {
    const model = await tinyMnistModel();
    await saveModel(join(t.dir, 'fp'), model, mnistMeta('mlp-tiny'));
    model.dispose();
    const config = await writeConfig(t.dir, {
      name: 'adaptive',
      data: { n: 12, examples: 0 },
      models: [{ name: 'fp', load: 'fp' }],
      quantize: [{ name: 'w8', spec: { weights: { bits: 8 }, activations: { bits: 8 }, inputs: { bits: 8 } }, calibrationN: 64 }],
      adaptive: { eps: [0.1], n: 12, steps: 5, maxQueries: 50, targetClasses: 2 },
    });
    const out = join(t.dir, 'out');
    await runExperiment({ config, out });
    const records = (await recordsOf(out)).filter((r) => r.config.kind === 'adaptive');
    assert.deepEqual(records.map((r) => r.label), ['adaptive evaluation of fp', 'adaptive evaluation of fp-w8 (transfer from fp)']);
    const fp = records[0]!.result as AdaptiveTaskResult;
    const q = records[1]!.result as AdaptiveTaskResult;
    assert.deepEqual(fp.members.map((m) => m.name), ['auto', 'pgd-exact', 'fgsm-exact']);
    assert.deepEqual(q.members.map((m) => m.name), ['auto', 'pgd-ste', 'pgd-exact', 'fgsm-exact', 'transfer', 'square-integer']);
    for (const r of [fp, q]) {
      const row = r.results[0]!;
      assert.equal(row.robust.length, 12);
      assert.deepEqual(row.robust, row.robust.map((_, i) => (row.members.every((m) => m.robust[i]) ? 1 : 0)));
    }
    const bad = await writeConfig(t.dir, { name: 'x', models: [{ name: 'fp', load: 'fp' }], adaptive: { eps: [0.1], stepz: 3 } }, 'bad.json');
    await assert.rejects(loadExperimentConfig(bad), /\$\.adaptive.*stepz/);
  } finally {
    await t.cleanup();
  }
});
