/**
 * The `compare` task: Bernhard et al.'s (2019, arXiv 1909.12741) comparison of a full-precision model with one
 * of its quantized variants on the same inputs, plus Song et al.'s (2020, arXiv 2012.14965) first-order criterion
 * for the quantization loss.
 *
 * - Value shift per layer: both models run on clean inputs x and on x' = clip(x + ε·sign(∇ₓL_FP)), the FGSM
 *   perturbation of the full-precision model (the perturbation a transfer attack would carry over), and every
 *   conv/dense output is compared (`LayerShiftAccumulator`).
 * - Gradient misalignment: cosine and sign agreement of the two input gradients, the variant's taken through
 *   its quantizers with the straight-through estimator (`AlignmentAccumulator`).
 * - Quantization loss: the mean cross-entropy of both models on x, and ⟨∇_W L_FP, W_Q − W_FP⟩, its first-order
 *   estimate from the weight change alone (activation quantizers are not in it; the measured change is).
 */
import { tf } from '../../backend/tf.js';
import { attackLoss, lossGradient } from '../../attacks/losses.js';
import { QrobustError } from '../../core/errors.js';
import { AlignmentAccumulator } from '../../metrics/gradient-alignment.js';
import { firstOrderWeightLoss } from '../../metrics/quantization-loss.js';
import { LayerShiftAccumulator } from '../../metrics/value-shift.js';
import { graphFromModel, isWeightStep, weightStepIndices, type LayerGraph } from '../../models/graph.js';
import { loadModel } from '../../models/io.js';
import { readMetadata } from '../../models/metadata.js';
import { refuseInputMap } from '../../defenses/input-map-guard.js';
import { boundsOf } from '../../quant/ptq.js';
import { loadQuantizedModel } from '../../quant/quantized-dir.js';
import { FakeQuantClassifier } from '../../quant/quantized-classifier.js';
import type { TaskContext } from '../context.js';
import type { CompareResult } from '../result-types.js';
import type { Task } from '../tasks.js';
import { sliceTensors } from './classifiers.js';
import { configOf, type TaskOutput } from './types.js';

const BATCH = 50;

function checkSameTopology(fp: LayerGraph, q: LayerGraph, fpName: string, qName: string): void {
  const sig = (g: LayerGraph): string => g.steps.map((s) => `${s.kind}:${s.name}`).join(',');
  if (sig(fp) !== sig(q)) throw new QrobustError('shape_mismatch', `${qName} does not have the layers of ${fpName}; compare needs a variant of the same architecture`);
}

/** Every conv/dense output of one forward pass, by step index. */
function layerOutputs(c: FakeQuantClassifier, x: tf.Tensor4D): Map<number, Float32Array> {
  const out = new Map<number, Float32Array>();
  tf.tidy(() => {
    c.run(x, (step, h) => out.set(step, h.dataSync() as Float32Array));
  });
  return out;
}

/** Sum over the batch of the cross-entropy's gradient with respect to every trainable weight, added to `sums`. */
function addWeightGradients(c: FakeQuantClassifier, x: tf.Tensor4D, labels: tf.Tensor1D, sums: Float64Array[]): void {
  const { value, grads } = tf.variableGrads(() => tf.sum(attackLoss(c.logits(x), labels, null, 'ce')) as tf.Scalar, c.variables);
  c.variables.forEach((v, i) => {
    const g = grads[v.name]!.dataSync();
    const s = sums[i]!;
    for (let j = 0; j < g.length; j++) s[j]! += g[j]!;
  });
  tf.dispose([value, ...Object.values(grads)]);
}

export async function runCompareTask(task: Task, ctx: TaskContext): Promise<TaskOutput<CompareResult>> {
  const c = configOf(task, 'compare');
  const fpDir = await ctx.modelDir(c.fp);
  const qDir = await ctx.modelDir(c.q);
  const ds = await ctx.testSlice(c.data);
  for (const dir of [fpDir, qDir]) refuseInputMap(await readMetadata(dir), dir, 'compare');
  const loaded = await loadModel(fpDir);
  let fpGraph: LayerGraph;
  try {
    fpGraph = graphFromModel(loaded.model);
  } finally {
    loaded.model.dispose();
  }
  const qm = await loadQuantizedModel(qDir);
  checkSameTopology(fpGraph, qm.graph, c.fp.name, c.q.name);
  const bounds = boundsOf(loaded.meta);
  const fp = new FakeQuantClassifier(fpGraph, null, { bounds });
  const fpTrainable = new FakeQuantClassifier(fpGraph, null, { bounds, trainableWeights: true });
  const q = new FakeQuantClassifier(qm.graph, qm.plan, { bounds, gradient: 'ste' });
  const { x, labels } = sliceTensors(ds);
  const steps = weightStepIndices(fpGraph);
  const shifts = steps.map((i) => new LayerShiftAccumulator(fpGraph.steps[i]!.name, q.prepared.steps[i]!.output !== null));
  const alignment = new AlignmentAccumulator();
  const weightGrads = fpTrainable.variables.map((v) => new Float64Array(v.size));
  let fpLoss = 0;
  let qLoss = 0;
  try {
    for (let s = 0; s < labels.length; s += BATCH) {
      const m = Math.min(BATCH, labels.length - s);
      const xb = tf.slice(x, s, m);
      const yb = tf.tensor1d(labels.subarray(s, s + m), 'int32');
      const gf = lossGradient(fp, xb, yb, null, 'ce');
      const gq = lossGradient(q, xb, yb, null, 'ce');
      alignment.add(gf.grad.dataSync() as Float32Array, gq.grad.dataSync() as Float32Array, m);
      fpLoss += (gf.loss.dataSync() as Float32Array).reduce((a, v) => a + v, 0);
      qLoss += (gq.loss.dataSync() as Float32Array).reduce((a, v) => a + v, 0);
      const xAdv = tf.tidy(() => tf.clipByValue(tf.add(xb, tf.mul(tf.sign(gf.grad), c.eps)), bounds[0], bounds[1]) as tf.Tensor4D);
      const [fc, fa, qc, qa] = [layerOutputs(fp, xb), layerOutputs(fp, xAdv), layerOutputs(q, xb), layerOutputs(q, xAdv)];
      steps.forEach((i, k) => shifts[k]!.add(fc.get(i)!, fa.get(i)!, qc.get(i)!, qa.get(i)!));
      addWeightGradients(fpTrainable, xb, yb, weightGrads);
      tf.dispose([xb, yb, xAdv, gf.grad, gf.logits, gf.loss, gq.grad, gq.logits, gq.loss]);
    }
  } finally {
    x.dispose();
    fp.dispose();
    fpTrainable.dispose();
    q.dispose();
  }
  const n = labels.length;
  // Parameter tensors in the order the trainable classifier holds them: kernel, then bias, per weight step.
  const deltas: Float32Array[] = [];
  for (const i of steps) {
    const f = fpGraph.steps[i]!;
    const ps = q.prepared.steps[i]!;
    if (!isWeightStep(f) || !isWeightStep(ps.step)) throw new Error('unreachable: weight step expected');
    const wq = ps.kernel ? ps.kernel.dequantized : ps.step.kernel;
    const bq = ps.bias ?? ps.step.bias;
    deltas.push(Float32Array.from(wq, (v, j) => v - f.kernel[j]!), Float32Array.from(bq, (v, j) => v - f.bias[j]!));
  }
  const meanGrads = weightGrads.map((g) => g.map((v) => v / n));
  const fpMean = n ? fpLoss / n : 0;
  const qMean = n ? qLoss / n : 0;
  return {
    result: {
      n,
      eps: c.eps,
      layers: shifts.map((a) => a.summary()),
      alignment: alignment.summary(),
      loss: { fp: fpMean, q: qMean, measured: qMean - fpMean, firstOrderWeights: firstOrderWeightLoss(meanGrads, deltas) },
    },
  };
}
