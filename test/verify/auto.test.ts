import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { attack } from '../../src/attacks/run.js';
import { loadDataset } from '../../src/data/index.js';
import { LayersClassifier, type Classifier } from '../../src/models/classifier.js';
import { graphFromModel } from '../../src/models/graph.js';
import { prepareGraph } from '../../src/quant/plan.js';
import { fakeQuantClassifier, integerClassifier, quantizeModel } from '../../src/quant/ptq.js';
import { makeQuantSpec } from '../../src/quant/spec.js';
import { verifyCaseAuto, verifyIntegerCaseAuto, verifyProblemAuto } from '../../src/verify/auto.js';
import { irFromPreparedGraph } from '../../src/verify/from-model.js';
import { integerCase } from '../../src/verify/integer/integer-case.js';
import { localRobustnessCase } from '../../src/verify/property.js';
import { releaseZ3 } from '../../src/verify/smt/z3-runtime.js';
import { mnistMeta, trainedTinyMlp } from '../quant/fixtures.js';
import { le, vcase, VEE, VEE_BOX } from './tiny-nets.js';

after(releaseZ3);

test('auto names the stage that decided: IBP, CROWN, the attack, branch and bound, MILP or SMT, and times out honestly', async () => {
  const r = async (threshold: number, extra = {}) => verifyCaseAuto(VEE, vcase(VEE_BOX, [[le([-1, 0], threshold)]]), { timeLimit: 20, ...extra });
  // y0 ≤ 4 by intervals, ≤ 3 by CROWN (triangle slopes 1/2 on both ReLUs: y0 ≤ x0 + 2), = 2 exactly.
  assert.deepEqual(((x) => [x.verdict, x.method])(await r(4.5)), ['unsat', 'ibp']);
  assert.deepEqual(((x) => [x.verdict, x.method])(await r(3.5)), ['unsat', 'crown']);
  const bab = await r(2.5);
  assert.deepEqual([bab.verdict, bab.method], ['unsat', 'bab'], 'branch and bound is the default complete method');
  assert.deepEqual(
    bab.stages.map((s) => s.stage),
    ['ibp', 'crown', 'attack', 'bab'],
  );
  const milp = await r(2.5, { complete: 'milp' });
  assert.deepEqual([milp.verdict, milp.method], ['unsat', 'milp']);
  const smt = await r(2.5, { complete: 'smt' });
  assert.deepEqual([smt.verdict, smt.method], ['unsat', 'smt']);
  const sat = await r(1);
  assert.deepEqual([sat.verdict, sat.method], ['sat', 'attack']);
  // A limit of zero has passed by construction when the complete method would start (a limit of 1 ms did not,
  // on a fast enough run): the bound stages and the attack leave the case open, and auto says it ran out of time.
  const late = await r(2.5, { timeLimit: 0 });
  assert.deepEqual([late.verdict, late.method, late.reason], ['timeout', 'auto', 'time limit reached before the complete method']);
  assert.deepEqual(late.stages.map((s) => s.stage), ['ibp', 'crown', 'attack']);
});

test('a VNN-LIB problem is sat when one of its cases is, unsat when all are', async () => {
  const unsafeCase = vcase(VEE_BOX, [[le([-1, 0], 1)]]);
  const safeCase = vcase(VEE_BOX, [[le([-1, 0], 2.5)]]);
  const problem = (cases: typeof unsafeCase[]) => ({ cases, inputSize: 2, outputSize: 2, source: 'two boxes' });
  assert.equal((await verifyProblemAuto(VEE, problem([safeCase, unsafeCase]), { timeLimit: 20 })).verdict, 'sat');
  const both = await verifyProblemAuto(VEE, problem([safeCase, safeCase]), { timeLimit: 20 });
  assert.equal(both.verdict, 'unsat');
  assert.equal(both.stages.filter((s) => s.stage.endsWith('bab')).length, 2, 'each case reaches the complete method');
});

await initBackend('wasm');
const model = await trainedTinyMlp(3);
const graph = graphFromModel(model);
const floatIR = irFromPreparedGraph(prepareGraph(graph, null), 'mlp-tiny');
const data = await loadDataset('mnist', 'test', { n: 12, seed: 5, allowDownload: false });
const calib = await loadDataset('mnist', 'train', { n: 300, seed: 6, allowDownload: false });
const images = Array.from({ length: data.count }, (_, k) => Float32Array.from(data.pixels.subarray(k * 784, (k + 1) * 784), (v) => v / 255));
const labels = Int32Array.from(data.labels);

function logitsOf(c: Classifier, xs: Float32Array[]): Float32Array[] {
  const t = tf.tensor4d(Float32Array.from(xs.flatMap((x) => Array.from(x))), [xs.length, 28, 28, 1]);
  const y = c.logits(t);
  const v = y.dataSync() as Float32Array;
  tf.dispose([t, y]);
  return xs.map((_, k) => v.slice(k * 10, (k + 1) * 10));
}

/** PGD (Madry et al.) on the classifier: which samples it breaks. */
function pgdBreaks(c: Classifier, eps: number, judge: Classifier = c): boolean[] {
  const x = tf.tensor4d(Float32Array.from(images.flatMap((v) => Array.from(v))), [images.length, 28, 28, 1]);
  const r = attack('pgd', c, x, labels, { epsilon: eps, steps: 40, restarts: 2, randomStart: true, seed: 1 });
  const adv = r.adversarial.dataSync() as Float32Array;
  tf.dispose([x, r.adversarial]);
  const advImages = images.map((_, k) => adv.slice(k * 784, (k + 1) * 784));
  return logitsOf(judge, advImages).map((y, k) => y.indexOf(Math.max(...y)) !== labels[k] || y.some((v, j) => j !== labels[k] && v >= y[labels[k]!]!));
}

test('float mlp-tiny: no sample verified robust is broken by PGD; every counterexample fools the TF.js model', async () => {
  const eps = 0.03;
  const classifier = new LayersClassifier(model);
  const check = (x: Float64Array): Float64Array => Float64Array.from(logitsOf(classifier, [Float32Array.from(x)])[0]!);
  const outcome: string[] = [];
  for (let k = 0; k < images.length; k++) {
    const r = await verifyCaseAuto(floatIR, localRobustnessCase(images[k]!, labels[k]!, eps, 10), { timeLimit: 2, modelCheck: check });
    outcome.push(r.verdict);
    if (r.verdict === 'sat') {
      const y = check(r.counterexample!.input);
      assert.ok(y.some((v, j) => j !== labels[k] && v >= y[labels[k]!]!), `sample ${k}: the model itself is fooled`);
      assert.ok(r.counterexample!.input.every((v, i) => Math.abs(v - images[k]![i]!) <= eps + 1e-12 && v >= 0 && v <= 1));
    }
  }
  const broken = pgdBreaks(classifier, eps);
  outcome.forEach((v, k) => {
    if (v === 'unsat') assert.ok(!broken[k], `sample ${k} was verified robust but PGD broke it`);
  });
  assert.ok(outcome.includes('unsat'), `some samples are verified (${outcome.join(' ')})`);
  assert.ok(outcome.includes('sat') || broken.some(Boolean), 'the radius is large enough for some attacks to succeed');
});

test('integer semantics: no sample verified robust is broken by PGD judged on the deployed integer program', async () => {
  const eps = 0.03;
  const qm = quantizeModel({ model, meta: mnistMeta('mlp-tiny') }, makeQuantSpec({ weights: { bits: 4, granularity: 'per-channel' }, activations: { bits: 8 }, inputs: { bits: 8 } }), calib);
  const int = integerClassifier(qm);
  const fq = fakeQuantClassifier(qm, { gradient: 'ste' });
  const guide = irFromPreparedGraph(prepareGraph(qm.graph, qm.plan), 'mlp-tiny w4 fake-quant');
  const outcome: string[] = [];
  for (let k = 0; k < images.length; k++) {
    const r = await verifyIntegerCaseAuto(integerCase(int.program, localRobustnessCase(images[k]!, labels[k]!, eps, 10)), { timeLimit: 1.5, guide });
    outcome.push(r.verdict);
    if (r.verdict === 'sat') {
      const y = logitsOf(int, [Float32Array.from(r.counterexample!.input)])[0]!;
      assert.ok(y.some((v, j) => j !== labels[k] && v >= y[labels[k]!]!), `sample ${k}: the integer program itself is fooled`);
    }
  }
  const broken = pgdBreaks(fq, eps, int);
  outcome.forEach((v, k) => {
    if (v === 'unsat') assert.ok(!broken[k], `sample ${k} was verified robust (integer) but PGD broke the integer program`);
  });
  assert.ok(outcome.includes('unsat'), `some samples are verified (${outcome.join(' ')})`);
  fq.dispose();
  int.dispose();
});
