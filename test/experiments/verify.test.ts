/**
 * Verification as an experiment task: each model is verified in its own semantics (float, integer program,
 * fake-quant when there is no integer form), on the same samples as the attacks, and no sample proved robust is
 * broken by the attack at the same ε; the report pairs the verdicts into relative robustness by verification.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import type { AttackTaskResult, DataResult, VerifyResult } from '../../src/experiments/result-types.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { saveModel } from '../../src/models/io.js';
import { loadView, reportSections } from '../../src/report/report.js';
import { tinyMnistModel } from '../attacks/fixtures.js';
import { mnistMeta } from '../fixtures/mnist.js';
import { recordsOf, tempDir, writeConfig } from './fixtures.js';

test('verify tasks: semantics per model, soundness against the attack, relative robustness by verification', async () => {
  await initBackend('wasm');
  const t = await tempDir('verify');
  try {
    const model = await tinyMnistModel();
    await saveModel(join(t.dir, 'fp'), model, mnistMeta('mlp-tiny'));
    model.dispose();
    const eps = 0.01;
    const config = await writeConfig(t.dir, {
      name: 'verify',
      data: { n: 8, examples: 0 },
      models: [{ name: 'fp', load: 'fp' }],
      quantize: [
        { name: 'w8', spec: { weights: { bits: 8 }, activations: { bits: 8 }, inputs: { bits: 8 } }, calibrationN: 64 },
        { name: 'w4', spec: { weights: { bits: 4 } } },
      ],
      attacks: [{ attack: 'pgd', eps: [eps], steps: 10, grad: ['ste'] }],
      verify: { eps: [eps], n: 8, method: 'crown', timeout: 20 },
    });
    const out = join(t.dir, 'out');
    await runExperiment({ config, out });
    const records = await recordsOf(out);
    const labels = (records.find((r) => r.kind === 'data')!.result as DataResult).labels;
    const verify = (m: string): VerifyResult => records.find((r) => r.config.kind === 'verify' && r.config.model.name === m)!.result as VerifyResult;
    const attack = (m: string): AttackTaskResult => records.find((r) => r.config.kind === 'attack' && r.config.model.name === m)!.result as AttackTaskResult;
    assert.deepEqual(['fp', 'fp-w8', 'fp-w4'].map((m) => verify(m).semantics), ['float', 'integer', 'fake-quant']);
    for (const m of ['fp', 'fp-w8', 'fp-w4']) {
      const v = verify(m);
      assert.equal(v.samples.length, 8);
      assert.equal(v.verified + v.falsified + v.unknown, 8);
      assert.deepEqual(v.samples.map((s) => s.label), labels, `${m}: the verifier saw the attack's samples in the same order`);
      const a = attack(m);
      v.samples.forEach((s, k) => {
        if (s.outcome === 'verified') assert.ok(a.cleanPredictions[k] === labels[k] && a.points[0]!.predictions[k] === labels[k], `${m}: sample ${k} proved robust but the attack broke it`);
      });
    }
    assert.ok(verify('fp').verified > 0, 'CROWN proves some samples of a small MLP at ε = 0.01');
    const table = reportSections(await loadView(out))
      .flatMap((s) => s.tables)
      .find((x) => x.id === 'relative-robustness-verified')!;
    assert.deepEqual(table.rows.map((r) => r['variant']), ['fp-w8', 'fp-w4']);
    const w8 = table.rows[0]!;
    const fpFlags = verify('fp').samples.map((s) => s.outcome === 'verified');
    const qFlags = verify('fp-w8').samples.map((s) => s.outcome === 'verified');
    const both = fpFlags.filter((f, k) => f && qFlags[k]).length;
    assert.equal(w8['both'], both);
    assert.equal(w8['relative'], both / fpFlags.filter(Boolean).length);
  } finally {
    await t.cleanup();
  }
});
