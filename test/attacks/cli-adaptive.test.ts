import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliCaptured as cli } from '../fixtures/cli.js';
import { initBackend } from '../../src/backend/backend.js';
import { loadDataset } from '../../src/data/index.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { isIntegerExecutable, quantizeModel } from '../../src/quant/ptq.js';
import { saveQuantizedModel } from '../../src/quant/quantized-dir.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import type { AdaptiveDirReport } from '../../src/workflows/adaptive-attack.js';
import { mnistMeta } from '../quant/fixtures.js';
import { tinyMnistModel } from './fixtures.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-adaptive-'));
const floatDir = join(root, 'mlp-tiny');
const quantDir = join(root, 'w4');
{
  const model = await tinyMnistModel();
  await saveModel(floatDir, model, mnistMeta('mlp-tiny'));
  model.dispose();
  const loaded = await loadModel(floatDir);
  const calib = await loadDataset('mnist', 'train', { n: 200, seed: 21, allowDownload: false });
  const spec = makeQuantSpec({ weights: { bits: 4 }, activations: { bits: 8 }, inputs: { bits: 8 } });
  const qm = quantizeModel(loaded, spec, calib, { source: { dataset: 'mnist', split: 'train', n: 200, seed: 21 } });
  loaded.model.dispose();
  await saveQuantizedModel(quantDir, qm, { parentDir: floatDir, integerExecutable: isIntegerExecutable(qm) });
}

test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

const common = ['--eps', '0.05,0.15', '--n', '16', '--seed', '3', '--steps', '5', '--max-queries', '100', '--target-classes', '2'];

test('attack --adaptive on a quantized directory: every member runs, the worst case is their AND, the parent is the transfer source', async () => {
  const file = join(root, 'adaptive.json');
  const r = await cli(['attack', quantDir, '--adaptive', ...common, '--json', file]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(await readFile(file, 'utf8')) as AdaptiveDirReport;
  assert.deepEqual(report.members.map((m) => m.name), ['auto', 'pgd-ste', 'pgd-exact', 'fgsm-exact', 'transfer', 'square-integer']);
  assert.equal(report.parent, floatDir);
  assert.deepEqual(report.skipped.map((s) => s.name), ['pgd-eot']);
  assert.equal(report.config.labels.length, 16);
  assert.equal(report.config.seed, 3);
  for (const row of report.results) {
    assert.deepEqual(row.robust, row.robust.map((_, i) => (row.members.every((m) => m.robust[i]) ? 1 : 0)));
    assert.equal(row.robustAccuracy, Math.min(row.robustAccuracy, ...row.members.map((m) => m.robustAccuracy)));
  }
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 3, r.out);
  assert.match(lines[0]!, /worst\s.*auto\s.*pgd-exact.*masking/);
  assert.match(r.err, /transfer from/);
  assert.ok(report.results.every((row) => row.masking.flagged), 'exact gradients through the quantizers are zero: pgd-exact is blind');
  if (process.env['QROBUST_TEST_PRINT']) console.log(r.out, r.err);
});

test('attack --adaptive refuses single-attack flags and attack without --attack or --adaptive explains both', async () => {
  const both = await cli(['attack', quantDir, '--adaptive', '--attack', 'pgd', '--n', '4']);
  assert.equal(both.code, 2);
  assert.match(both.err, /--adaptive runs its own set of attacks; --attack applies to a single attack only/);
  assert.equal(both.err.trim().split('\n').length, 1, both.err);
  const loss = await cli(['attack', quantDir, '--adaptive', '--loss', 'dlr', '--n', '4']);
  assert.equal(loss.code, 2);
  assert.match(loss.err, /--loss applies to a single attack/);
  const neither = await cli(['attack', quantDir, '--n', '4']);
  assert.equal(neither.code, 2);
  assert.match(neither.err, /--attack NAME .* or --adaptive/);
});
