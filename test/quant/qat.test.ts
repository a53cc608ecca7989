import { test } from 'node:test';
import { runCliCaptured } from '../fixtures/cli.js';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { loadDataset } from '../../src/data/index.js';
import { makeBatch } from '../../src/models/batch.js';
import { classifierAccuracy, classifierLogits } from '../../src/models/classifier.js';
import { argmaxRows } from '../../src/models/prediction.js';
import { graphFromModel, isWeightStep, type LayerGraph } from '../../src/models/graph.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { prepareGraph } from '../../src/quant/plan.js';
import { fakeQuantClassifier, isIntegerExecutable, quantizeGraph, quantizeModel } from '../../src/quant/ptq.js';
import { dorefaWeightsTf } from '../../src/quant/qat-quantizers.js';
import { QatNetwork, qatFineTune, type QatResult } from '../../src/quant/qat.js';
import { FakeQuantClassifier, weightSpecOfRecord } from '../../src/quant/quantized-classifier.js';
import { quantizeWeightsTf } from '../../src/quant/fake-quant.js';
import { clippingRange } from '../../src/quant/quantizer.js';
import { loadQuantizedModel, saveQuantizedModel, weightsSha256, type QuantizationRecord } from '../../src/quant/quantized-dir.js';
import { makeQuantSpec, specLabel, type QuantSpec } from '../../src/quant/spec.js';
import { applyWeightRecord, weightRecord } from '../../src/quant/weights.js';
import { mnistMeta, trainedTinyMlp, untrained } from './fixtures.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-qat-'));
const parentModel = await trainedTinyMlp(5);
const parent = { model: parentModel, meta: mnistMeta('mlp-tiny') };
const parentDir = join(root, 'mlp-tiny');
await saveModel(parentDir, parentModel, parent.meta);
const train = await loadDataset('mnist', 'train', { n: 3000, seed: 11, allowDownload: false });
const heldOut = await loadDataset('mnist', 'test', { n: 1000, seed: 12, allowDownload: false });

test.after(async () => {
  parentModel.dispose();
  await rm(root, { recursive: true, force: true });
});

const cli = runCliCaptured;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The graph with every quantized kernel replaced by its dequantized values under `net`'s current plan. */
function dequantizedGraph(graph: LayerGraph, net: QatNetwork): LayerGraph {
  const prep = prepareGraph(graph, net.plan());
  return { ...graph, steps: graph.steps.map((s, i) => (isWeightStep(s) && prep.steps[i]!.kernel ? { ...s, kernel: prep.steps[i]!.kernel!.dequantized } : s)) };
}

test('the QAT gradient w.r.t. latent kernels is the float gradient at the quantized weights inside the clip range, zero outside', () => {
  const model = untrained('mlp-tiny', 7);
  const base = graphFromModel(model);
  model.dispose();
  // Push a few latent weights outside BinaryNet's window [-1, 1].
  const graph: LayerGraph = {
    ...base,
    steps: base.steps.map((s) => {
      if (s.kind !== 'dense' || s.name !== 'dense_2') return s;
      const kernel = Float32Array.from(s.kernel);
      kernel[3] = 1.5;
      kernel[40] = -2;
      kernel[77] = 1.01;
      return { ...s, kernel };
    }),
  };
  const batch = makeBatch(heldOut, Int32Array.from({ length: 32 }, (_, i) => i));
  const loss = (logits: tf.Tensor2D) => tf.losses.softmaxCrossEntropy(tf.oneHot(batch.labels, 10), logits) as tf.Scalar;
  const cases: { spec: QuantSpec; outside: (w: number, layer: number, i: number, net: QatNetwork) => boolean }[] = [
    {
      // MSE grids clip the tails of each layer's weights at 2 bits.
      spec: makeQuantSpec({ weights: { bits: 2 } }),
      outside: (w, layer, _i, net) => {
        const [lo, hi] = clippingRange(net.layers[layer]!.quantizer!.gridParams!).map(Math.fround);
        return w < lo! || w > hi!;
      },
    },
    {
      spec: makeQuantSpec({ weights: { bits: 3, granularity: 'per-channel' } }),
      outside: (w, layer, i, net) => {
        const p = net.layers[layer]!.quantizer!.gridParams!;
        // The op compares float32 weights with float32 bounds.
        const [lo, hi] = clippingRange(p, i % p.scale.length).map(Math.fround);
        return w < lo! || w > hi!;
      },
    },
    { spec: makeQuantSpec({ weights: { bits: 1 } }), outside: (w) => Math.abs(w) > 1 },
  ];
  for (const { spec, outside } of cases) {
    const net = new QatNetwork(graph, spec, null, 'mse', false);
    const ref = new FakeQuantClassifier(dequantizedGraph(graph, net), null, { trainableWeights: true });
    const { value: l1, grads: g1 } = tf.variableGrads(() => loss(net.forward(batch.x)), net.variables);
    const { value: l2, grads: g2 } = tf.variableGrads(() => loss(ref.run(batch.x)), ref.variables);
    assert.ok(Math.abs(l1.dataSync()[0]! - l2.dataSync()[0]!) < 1e-5, `${specLabel(spec)}: the forward passes differ`);
    let clipped = 0;
    net.variables.forEach((v, k) => {
      const got = g1[v.name]!.dataSync();
      const float = g2[ref.variables[k]!.name]!.dataSync();
      if (k % 2 === 1) {
        assert.ok(maxAbsDiff(got, float) < 1e-6, `${specLabel(spec)}: bias gradient differs`);
        return;
      }
      const w = v.dataSync();
      const expected = Float32Array.from(float, (g, i) => (outside(w[i]!, k / 2, i, net) ? 0 : g));
      clipped += expected.filter((_, i) => outside(w[i]!, k / 2, i, net)).length;
      assert.ok(maxAbsDiff(got, expected) < 1e-6, `${specLabel(spec)} layer ${k / 2}: ${maxAbsDiff(got, expected)}`);
      for (let i = 0; i < w.length; i++) if (outside(w[i]!, k / 2, i, net)) assert.equal(got[i], 0);
    });
    assert.ok(clipped > 0, `${specLabel(spec)}: no weight lies outside the clip range, the test checks nothing`);
    tf.dispose([l1, l2, ...Object.values(g1), ...Object.values(g2)]);
    net.dispose();
    ref.dispose();
  }
  tf.dispose([batch.x, batch.labels]);
});

test('DoReFa weights: the op matches the saved record, codes are odd, the gradient is α(1 − tanh²w)/m', () => {
  const rng = new Rng(9);
  const shape = [5, 6];
  const w = Float32Array.from({ length: 30 }, () => rng.normal() * 0.3);
  for (const bits of [1, 2, 3]) {
    for (const granularity of ['per-tensor', 'per-channel'] as const) {
      const spec = makeQuantSpec({ weights: { bits, kind: 'dorefa', granularity } }).weights!;
      const record = weightRecord(w, shape, spec);
      const q = applyWeightRecord(w, record);
      const levels = 2 ** bits - 1;
      assert.ok([...q.codes!].every((c) => Math.abs(c) % 2 === 1 && Math.abs(c) <= levels), `codes ${[...q.codes!]}`);
      assert.deepEqual(weightSpecOfRecord(record), spec);
      const t = tf.tensor(w, shape);
      const y = dorefaWeightsTf(t, spec);
      assert.ok(maxAbsDiff(y.dataSync(), q.dequantized) < 1e-6);
      const hook = quantizeWeightsTf(t, spec);
      assert.ok(maxAbsDiff(hook.dataSync(), q.dequantized) < 1e-6);
      hook.dispose();
      const g = tf.grad((v: tf.Tensor) => tf.sum(dorefaWeightsTf(v, spec)))(t).dataSync();
      const channels = granularity === 'per-channel' ? 6 : 1;
      const alpha = new Array<number>(channels).fill(0);
      w.forEach((v, i) => (alpha[i % channels] = Math.max(alpha[i % channels]!, Math.abs(v))));
      const expected = Array.from(w, (v, i) => (alpha[i % channels]! * (1 - Math.tanh(v) ** 2)) / Math.tanh(alpha[i % channels]!));
      assert.ok(maxAbsDiff(g, expected) < 1e-5, `gradient differs by ${maxAbsDiff(g, expected)}`);
      tf.dispose([t, y]);
    }
  }
  // DoReFa activations: ReLU outputs on the fixed grid over [0, 1]; the (linear) logits are calibrated.
  const spec = makeQuantSpec({ weights: { bits: 2, kind: 'dorefa' }, activations: { kind: 'dorefa', bits: 2 }, inputs: { bits: 8 } });
  assert.equal(specLabel(spec), 'w2dr-a2dr-in8');
  assert.throws(() => makeQuantSpec({ activations: { kind: 'dorefa', bits: 2, scheme: 'symmetric' } }), /activations\.kind 'dorefa' needs activations\.scheme 'affine'/);
  const graph = graphFromModel(parentModel);
  const { plan } = quantizeGraph(graph, [0, 1], spec, train);
  const [l1, l2, logits] = plan.layers;
  for (const l of [l1!, l2!]) assert.deepEqual(clippingRange(l.output!).map((v) => +v.toFixed(6)), [0, 1]);
  assert.ok(clippingRange(logits!.output!)[0] < 0, 'the logits keep a calibrated, signed range');
  assert.ok(isIntegerExecutable({ graph, spec, plan, meta: parent.meta, calibration: null, label: specLabel(spec) }));
});

test('a short QAT run (141 steps on 3,000 MNIST images) recovers what 2-bit and binary PTQ lose', async () => {
  const floatClf = new FakeQuantClassifier(graphFromModel(parentModel), null);
  const float = classifierAccuracy(floatClf, heldOut);
  floatClf.dispose();
  for (const [spec, margin] of [
    // min-max weight grids, so QAT starts from exactly the PTQ model: the gain is the training's.
    [makeQuantSpec({ weights: { bits: 2 } }), 0.3],
    [makeQuantSpec({ weights: { bits: 1 } }), 0.2],
  ] as const) {
    const ptqClf = fakeQuantClassifier(quantizeModel(parent, spec));
    const ptq = classifierAccuracy(ptqClf, heldOut).accuracy;
    ptqClf.dispose();
    const r = await qatFineTune(parent, spec, train, { epochs: 3, batchSize: 64, seed: 1, weightRange: 'minmax' });
    assert.equal(r.record.steps, 141);
    const clf = fakeQuantClassifier(r.model);
    const qat = classifierAccuracy(clf, heldOut).accuracy;
    clf.dispose();
    assert.ok(qat > ptq + margin, `${r.model.label}: PTQ ${ptq}, QAT ${qat} (float ${float.accuracy})`);
    assert.ok(qat > float.accuracy - 0.08, `${r.model.label}: QAT ${qat} is far below float ${float.accuracy}`);
  }
});

let saved: { result: QatResult; dir: string } | undefined;

test('a saved QAT directory holds the trained weights, reloads, and its fake-quant and integer paths agree', async () => {
  const spec = makeQuantSpec({ weights: { bits: 4, granularity: 'per-channel' }, activations: { bits: 8 }, inputs: { bits: 8 } });
  const result = await qatFineTune(parent, spec, train, { epochs: 1, batchSize: 64, seed: 2, learningRate: 2e-3 });
  const dir = join(root, 'qat-w4');
  await saveQuantizedModel(dir, result.model, { parentDir, integerExecutable: true, qat: result.record });
  saved = { result, dir };
  const json = JSON.parse(await readFile(join(dir, 'qrobust.json'), 'utf8')) as { quantization: QuantizationRecord };
  const q = json.quantization;
  assert.deepEqual(q.spec, spec);
  assert.equal(q.parent!.weightsSha256, await weightsSha256(parentDir));
  assert.equal(q.weightsSha256, await weightsSha256(dir));
  assert.notEqual(q.weightsSha256, q.parent!.weightsSha256);
  assert.deepEqual(
    { epochs: q.qat!.epochs, lr: q.qat!.lr, seed: q.qat!.seed, trainCount: q.qat!.trainCount, fromScratch: q.qat!.fromScratch },
    { epochs: 1, lr: 2e-3, seed: 2, trainCount: 3000, fromScratch: false },
  );
  assert.ok(q.qat!.seconds > 0 && q.qat!.history.length === 1);
  // The float weights on disk are the trained latent weights.
  const onDisk = await loadModel(dir);
  const g = graphFromModel(onDisk.model);
  onDisk.model.dispose();
  g.steps.forEach((s, i) => {
    if (isWeightStep(s)) assert.deepEqual(s.kernel, (result.model.graph.steps[i] as typeof s).kernel);
  });
  const back = await loadQuantizedModel(dir);
  const f1 = fakeQuantClassifier(result.model);
  const f2 = fakeQuantClassifier(back);
  const logits = classifierLogits(f1, heldOut);
  assert.deepEqual(classifierLogits(f2, heldOut), logits);
  const int = await loadClassifier(dir, { integer: true, rounding: 'single' });
  const predF = argmaxRows(logits, 10);
  const predI = argmaxRows(classifierLogits(int.classifier, heldOut), 10);
  const agree = predF.filter((p, i) => p === predI[i]).length / predF.length;
  assert.ok(agree >= 0.99, `integer/fake-quant agreement ${agree}`);
  [f1, f2, int.classifier].forEach((c) => c.dispose());
});

test('QAT is reproducible for a seed and differs for another', async () => {
  const spec = makeQuantSpec({ weights: { bits: 2, granularity: 'per-channel' }, activations: { bits: 4 }, inputs: { bits: 8 } });
  const small = await loadDataset('mnist', 'train', { n: 640, seed: 13, allowDownload: false });
  const run = (seed: number) => qatFineTune(parent, spec, small, { epochs: 1, batchSize: 64, seed, activationRanges: 'ema' });
  const [a, b, c] = [await run(3), await run(3), await run(4)];
  const kernels = (r: QatResult) => r.model.graph.steps.filter(isWeightStep).map((s) => [...s.kernel]);
  assert.deepEqual(kernels(a), kernels(b));
  assert.deepEqual(JSON.stringify(a.model.plan), JSON.stringify(b.model.plan));
  assert.deepEqual(a.record.history.map((h) => h.loss), b.record.history.map((h) => h.loss));
  assert.notDeepEqual(kernels(a), kernels(c));
});

test('qrobust quantize --qat-epochs fine-tunes every width; --from-scratch trains a binarized model', async () => {
  assert.ok(saved, 'runs after the save test');
  const out = join(root, 'cli-qat');
  const r = await cli(['quantize', parentDir, '--bits', '4,1', '--qat-epochs', '1', '--qat-n', '1000', '--qat-batch-size', '50', '--eval-n', '300', '--out', out, '--json', join(root, 'q.json')]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^w4\s+fake-quant \d+\.\d\d%\s+integer n\/a\s+\(QAT 1 epoch from PTQ \d+\.\d\d%, \d+\.\d s\)/);
  assert.match(lines[1]!, /^wbin\s+fake-quant/);
  assert.match(r.err, /QAT wbin on mnist \(1000 images, 1 epoch\)/);
  const json = JSON.parse(await readFile(join(root, 'q.json'), 'utf8')) as { variants: { label: string; qat: { steps: number; latentClip: number | null }; ptq: unknown }[] };
  assert.deepEqual(json.variants.map((v) => [v.label, v.qat.steps, v.qat.latentClip, typeof v.ptq]), [['w4', 20, null, 'object'], ['wbin', 20, 1, 'object']]);
  const reloaded = await loadClassifier(join(out, 'wbin'));
  assert.ok(classifierAccuracy(reloaded.classifier, heldOut).accuracy > 0.7);
  reloaded.classifier.dispose();

  const scratch = join(root, 'scratch-bin');
  const s = await cli(['quantize', '--from-scratch', '--arch', 'mlp-tiny', '--dataset', 'mnist', '--weights', 'binary', '--qat-epochs', '2', '--qat-n', '2000', '--qat-lr', '3e-3', '--qat-batch-size', '50', '--eval-n', '300', '--out', scratch]);
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /^wbin\s+fake-quant \d+\.\d\d%.*\(QAT 2 epochs from scratch/);
  const meta = JSON.parse(await readFile(join(scratch, 'qrobust.json'), 'utf8')) as { arch: string; training: { epochs: number }; quantization: QuantizationRecord };
  assert.equal(meta.arch, 'mlp-tiny');
  assert.equal(meta.training.epochs, 2);
  assert.equal(meta.quantization.parent, null);
  assert.equal(meta.quantization.qat!.fromScratch, true);
  const fromScratch = await loadClassifier(scratch);
  const acc = classifierAccuracy(fromScratch.classifier, heldOut).accuracy;
  assert.ok(acc > 0.75, `binary mlp-tiny from scratch: ${acc}`);
  fromScratch.classifier.dispose();

  const errors: [string[], RegExp][] = [
    [['quantize', parentDir, '--qat-lr', '1e-3', '--out', join(root, 'x')], /--qat-lr needs --qat-epochs/],
    [['quantize', parentDir, '--from-scratch', '--arch', 'mlp-tiny', '--dataset', 'mnist', '--qat-epochs', '1', '--out', join(root, 'x')], /leave out DIR/],
    [['quantize', '--from-scratch', '--arch', 'mlp-tiny', '--dataset', 'mnist', '--out', join(root, 'x')], /--from-scratch needs --qat-epochs/],
    [['quantize', '--out', join(root, 'x')], /missing DIR/],
    [['quantize', parentDir, '--bits', 'float16', '--qat-epochs', '1', '--out', join(root, 'x')], /float16 weights have no quantization-aware training form/],
  ];
  for (const [argv, message] of errors) {
    const e = await cli(argv);
    assert.equal(e.code, 2, `${argv.join(' ')}: ${e.err}`);
    assert.match(e.err, message);
  }
});
