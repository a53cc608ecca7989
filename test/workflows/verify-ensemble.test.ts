import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { loadDataset, select } from '../../src/data/index.js';
import { saveEnsembleDir } from '../../src/defenses/ensemble-dir.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import type { Classifier } from '../../src/models/classifier.js';
import { loadClassifier } from '../../src/quant/load-classifier.js';
import { isIntegerExecutable, quantizeModel } from '../../src/quant/ptq.js';
import { saveQuantizedModel } from '../../src/quant/quantized-dir.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import { ensembleVerified, membersNeeded } from '../../src/workflows/verify-ensemble.js';
import { verifyModelDir, type VerifyDirReport } from '../../src/workflows/verify-model.js';
import { mnistMeta, trainedTinyMlp } from '../quant/fixtures.js';

await initBackend('wasm');
const root = await mkdtemp(join(tmpdir(), 'qrobust-verify-ensemble-'));
const floatDir = join(root, 'float');
const memberDirs = [floatDir, join(root, 'w8'), join(root, 'w4')];
{
  const model = await trainedTinyMlp(2);
  await saveModel(floatDir, model, mnistMeta('mlp-tiny'));
  model.dispose();
  const calib = await loadDataset('mnist', 'train', { n: 200, seed: 21, allowDownload: false });
  for (const [bits, dir] of [[8, memberDirs[1]!], [4, memberDirs[2]!]] as const) {
    const loaded = await loadModel(floatDir);
    const qm = quantizeModel(loaded, makeQuantSpec({ weights: { bits }, activations: { bits: 8 }, inputs: { bits: 8 } }), calib);
    loaded.model.dispose();
    await saveQuantizedModel(dir, qm, { parentDir: floatDir, integerExecutable: isIntegerExecutable(qm) });
  }
  await saveEnsembleDir({ out: join(root, 'mean'), members: memberDirs, combine: 'mean-probabilities' });
  await saveEnsembleDir({ out: join(root, 'vote'), members: memberDirs, combine: 'majority-vote' });
}
test.after(() => rm(root, { recursive: true, force: true }));

// At this radius some samples are verified for some members only (4, 18 and 45 here), which tells the rules apart.
const EPS = 2 / 255;
const INDICES = [0, 1, 2, 3, 4, 8, 9, 18, 45];

/** Logits of every member as deployed (integer paths for the quantized ones), at the given points. */
async function memberLogits(points: Float32Array, count: number): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const dir of memberDirs) {
    const c: Classifier = (await loadClassifier(dir, dir === floatDir ? {} : { integer: true })).classifier;
    const t = tf.tensor4d(points, [count, 28, 28, 1]);
    const y = c.logits(t);
    out.push(Float64Array.from(y.dataSync()));
    tf.dispose([t, y]);
    c.dispose();
  }
  return out;
}

/** The ensemble's decision recomputed here in float64 from its members' logits: mean softmax or vote count. */
function combinedLabel(logits: Float64Array[], k: number, combine: 'mean' | 'vote'): number {
  const score = new Float64Array(10);
  for (const z of logits) {
    const row = z.subarray(k * 10, (k + 1) * 10);
    if (combine === 'vote') {
      let best = 0;
      for (let j = 1; j < 10; j++) if (row[j]! > row[best]!) best = j;
      score[best] += 1;
    } else {
      const m = Math.max(...row);
      const e = Array.from(row, (v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((v, j) => (score[j] += v / s));
    }
  }
  let best = 0;
  for (let j = 1; j < 10; j++) if (score[j]! > score[best]!) best = j;
  return best;
}

test('the combination rule: every member for mean probabilities, a strict majority for a vote', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((k) => membersNeeded('majority-vote', k)), [1, 2, 2, 3, 3]);
  assert.deepEqual([1, 2, 3].map((k) => membersNeeded('mean-probabilities', k)), [1, 2, 3]);
  assert.equal(ensembleVerified('mean-probabilities', ['verified', 'verified', 'unknown']), false);
  assert.equal(ensembleVerified('majority-vote', ['verified', 'verified', 'unknown']), true);
  assert.equal(ensembleVerified('majority-vote', ['verified', 'falsified', 'skipped', 'verified']), false);
});

test('verify on an ensemble: verdicts follow the members, and no verified sample has a point that fools the ensemble', async () => {
  const reports: Record<string, VerifyDirReport> = {};
  for (const combine of ['mean', 'vote'] as const) {
    reports[combine] = await verifyModelDir({ dir: join(root, combine), epsilon: EPS, indices: INDICES, timeout: 2, method: 'crown', keepCounterexamples: true });
  }
  const members = await Promise.all(memberDirs.map((dir) => verifyModelDir({ dir, epsilon: EPS, indices: INDICES, timeout: 2, method: 'crown' })));
  const mean = reports['mean']!;
  const vote = reports['vote']!;
  assert.equal(mean.semantics, 'ensemble');
  assert.deepEqual(mean.ensemble!.members, ['float: float', 'w8-a8-in8: integer', 'w4-a8-in8: integer']);
  assert.equal(mean.samples.length, INDICES.length);
  const partial = members[0]!.samples.filter((_, k) => members.filter((r) => r.samples[k]!.outcome === 'verified').length === 2);
  assert.ok(partial.length >= 1, 'no sample verified for exactly two members: the rules are not told apart');
  const test = select(await loadDataset('mnist', 'test', { allowDownload: false }), INDICES);
  for (const [k, s] of mean.samples.entries()) {
    const alone = members.map((r) => r.samples[k]!.outcome);
    // Verified exactly where every member alone is verified (the rule needs all three).
    assert.equal(s.outcome === 'verified', alone.every((o) => o === 'verified'), `sample ${k}: ${alone.join(', ')} → ${s.outcome}`);
    // A majority vote is verified wherever the mean is, and where two of three members are.
    const v = vote.samples[k]!;
    if (alone.filter((o) => o === 'verified').length >= 2) assert.equal(v.outcome, 'verified', `vote, sample ${k}`);
  }
  // Falsified samples: the point lies in the ball and the ensemble, recomputed here from its members, misclassifies it.
  for (const [name, r] of [['mean', mean], ['vote', vote]] as const) {
    for (const s of r.samples.filter((x) => x.outcome === 'falsified' && x.verdict === 'sat')) {
      assert.ok(s.counterexample, `${name} sample ${s.sample}: no counterexample kept`);
      const x = Float32Array.from(s.counterexample!);
      const centre = test.pixels.subarray(s.sample * 784, (s.sample + 1) * 784);
      x.forEach((v, i) => assert.ok(Math.abs(v - centre[i]! / 255) <= EPS + 1e-7 && v >= 0 && v <= 1));
      assert.notEqual(combinedLabel(await memberLogits(x, 1), 0, name), s.label, `${name} sample ${s.sample}`);
    }
  }
  // Verified samples: 64 random corners and points of each ball all keep the label under the recomputed ensemble.
  const rng = new Rng(5);
  for (const [name, r] of [['mean', mean], ['vote', vote]] as const) {
    const verified = r.samples.filter((s) => s.outcome === 'verified');
    assert.ok(verified.length >= 3, `${name}: only ${verified.length} verified at ε ${EPS}`);
    for (const s of verified) {
      const centre = test.pixels.subarray(s.sample * 784, (s.sample + 1) * 784);
      const pts = new Float32Array(64 * 784);
      for (let p = 0; p < 64; p++) {
        for (let i = 0; i < 784; i++) {
          const u = p < 32 ? (rng.next() < 0.5 ? -1 : 1) : 2 * rng.next() - 1;
          pts[p * 784 + i] = Math.min(1, Math.max(0, centre[i]! / 255 + u * EPS));
        }
      }
      const logits = await memberLogits(pts, 64);
      for (let p = 0; p < 64; p++) assert.equal(combinedLabel(logits, p, name), s.label, `${name} sample ${s.sample}, point ${p}`);
    }
  }
});

test('verify on an ensemble refuses --semantics fake-quant in one line', async () => {
  await assert.rejects(verifyModelDir({ dir: join(root, 'mean'), epsilon: EPS, indices: [0], semantics: 'fake-quant' }), /is an ensemble: it verifies as deployed/);
});
