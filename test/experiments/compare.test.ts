/**
 * The measurements behind Bernhard et al.'s and Song et al.'s metrics, on a briefly trained MNIST mlp-tiny and
 * its variants: exact gradients vanish through activation quantizers and STE gradients do not, 8-bit weights
 * barely move the gradients or the activations, 2-bit weights move them more, and the first-order estimate of the
 * loss change from 8-bit weights matches the change measured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import type { CompareResult, GradientsResult } from '../../src/experiments/result-types.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { saveModel } from '../../src/models/io.js';
import { tinyMnistModel } from '../attacks/fixtures.js';
import { mnistMeta } from '../fixtures/mnist.js';
import { recordsOf, tempDir, writeConfig } from './fixtures.js';

test('compare and gradients records of real variants', async () => {
  await initBackend('wasm');
  const t = await tempDir('compare');
  try {
    const model = await tinyMnistModel();
    await saveModel(join(t.dir, 'fp'), model, mnistMeta('mlp-tiny'));
    model.dispose();
    const config = await writeConfig(t.dir, {
      name: 'compare',
      data: { n: 48, examples: 0 },
      models: [{ name: 'fp', load: 'fp' }],
      quantize: [
        { name: 'w8', spec: { weights: { bits: 8 } } },
        { name: 'w2', spec: { weights: { bits: 2 } } },
        { name: 'w8a8', spec: { weights: { bits: 8 }, activations: { bits: 8 }, inputs: { bits: 8 } }, calibrationN: 64 },
      ],
      compare: { eps: 0.05, n: 48 },
      diagnostics: { n: 48 },
    });
    const out = join(t.dir, 'out');
    await runExperiment({ config, out });
    const records = await recordsOf(out);
    const compare = (q: string): CompareResult => records.find((r) => r.kind === 'compare' && r.label.endsWith(`fp-${q}`))!.result as CompareResult;
    const grads = (m: string, g: string | null): GradientsResult =>
      records.find((r) => r.kind === 'gradients' && r.config.kind === 'gradients' && r.config.model.name === m && r.config.grad === g)!.result as GradientsResult;

    // Athalye et al.'s zero-gradient check: the true gradient through activation quantizers is zero everywhere.
    assert.equal(grads('fp-w8a8', 'exact').zeroSamples, 1);
    assert.equal(grads('fp-w8a8', 'ste').zeroSamples, 0);
    assert.equal(grads('fp', null).zeroSamples, 0);
    // Weights-only quantization has no quantizer on the input path: one run, with the true gradient.
    assert.deepEqual(
      records.filter((r) => r.config.kind === 'gradients' && r.config.model.name === 'fp-w8').map((r) => (r.config as { grad: unknown }).grad),
      [null],
    );
    assert.equal(grads('fp-w8', null).zeroSamples, 0);

    const w8 = compare('w8');
    const w2 = compare('w2');
    const w8a8 = compare('w8a8');
    assert.equal(w8.n, 48);
    assert.deepEqual(w8.layers.map((l) => l.layer), ['dense_1', 'dense_2', 'logits']);
    // No output quantizers on a weights-only variant, one on every layer with activations quantized.
    assert.ok(w8.layers.every((l) => l.binChangeRate === null));
    assert.ok(w8a8.layers.every((l) => l.binChangeRate !== null && l.binChangeRate > 0 && l.binChangeRate <= 1));
    // 8-bit weights move activations by a few percent at most, 2-bit weights by far more.
    for (const l of w8.layers) assert.ok(l.cleanShift! < 0.05, `${l.layer}: clean shift ${l.cleanShift}`);
    assert.ok(w2.layers[2]!.cleanShift! > 5 * w8.layers[2]!.cleanShift!);
    // Gradient misalignment grows as the bit width falls.
    assert.ok(w8.alignment.meanCosine! > 0.95, `w8 cosine ${w8.alignment.meanCosine}`);
    assert.ok(w2.alignment.meanCosine! < w8.alignment.meanCosine!);
    assert.equal(w8.alignment.undefinedCosine, 0);
    // The first-order estimate of the loss change from the 8-bit weight change is close to the measured change.
    const { measured, firstOrderWeights } = w8.loss;
    assert.ok(Math.abs(firstOrderWeights - measured) <= 0.25 * Math.abs(measured) + 1e-5, `first order ${firstOrderWeights}, measured ${measured}`);
    assert.ok(Math.abs(w8.loss.q - w8.loss.fp - measured) < 1e-12);
  } finally {
    await t.cleanup();
  }
});
