/**
 * The computations a shard of a batch needs, written once and run both by the main thread (on its shard) and by
 * every worker (on its replica), so that the split result matches the single-thread one up to float rounding.
 * Also: packing model weights into one flat Float32Array (what travels between threads), and the batch-norm
 * bookkeeping that lets sharded training keep full-batch moving averages.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../tf.js';
import { INPUT_LOSSES, type InputLossName } from './losses.js';
import { shardLoss, type ShardParams } from './shard-tasks.js';

/** The parts of a model's weight list a replica must agree on. */
export interface WeightLayout {
  /** Shapes of `model.weights`, in order (trainable weights first, then non-trainable). */
  readonly shapes: readonly (readonly number[])[];
  /** Indices into `model.weights` of the trainable weights, in `model.trainableWeights` order. */
  readonly trainable: readonly number[];
  /** Per batch-norm layer: indices of its moving mean and moving variance in `model.weights`, and its momentum. */
  readonly batchNorm: readonly { readonly mean: number; readonly variance: number; readonly momentum: number }[];
}

function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function weightLayout(model: tfl.LayersModel): WeightLayout {
  const weights = model.weights;
  const index = new Map(weights.map((w, i) => [w, i]));
  const trainable = model.trainableWeights.map((w) => {
    const i = index.get(w);
    if (i === undefined) throw new Error(`trainable weight ${w.name} is not in model.weights`);
    return i;
  });
  for (const w of weights) {
    if (w.dtype !== 'float32') throw new Error(`weight ${w.name} has dtype ${w.dtype}; data-parallel needs float32 weights`);
    if (w.shape.some((d) => d == null)) throw new Error(`weight ${w.name} has an undefined shape`);
  }
  const batchNorm: { mean: number; variance: number; momentum: number }[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const bn = layer as unknown as { movingMean?: tfl.LayerVariable; movingVariance?: tfl.LayerVariable; momentum?: number };
    const mean = bn.movingMean && index.get(bn.movingMean);
    const variance = bn.movingVariance && index.get(bn.movingVariance);
    if (mean === undefined || variance === undefined || typeof bn.momentum !== 'number') continue;
    batchNorm.push({ mean, variance, momentum: bn.momentum });
  }
  return { shapes: weights.map((w) => [...w.shape] as number[]), trainable, batchNorm };
}

export function sameLayout(a: WeightLayout, b: WeightLayout): boolean {
  const eq = (x: readonly number[], y: readonly number[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.shapes.length === b.shapes.length &&
    a.shapes.every((s, i) => eq(s, b.shapes[i]!)) &&
    eq(a.trainable, b.trainable) &&
    a.batchNorm.length === b.batchNorm.length &&
    a.batchNorm.every((x, i) => x.mean === b.batchNorm[i]!.mean && x.variance === b.batchNorm[i]!.variance)
  );
}

/**
 * Rough multiply-accumulate count of one sample's forward pass: every weight of rank 2 or more (dense and
 * convolution kernels) times the number of output positions it is applied at. Used only to decide whether a
 * batch is worth splitting.
 */
export function forwardMacsPerSample(model: tfl.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    let positions = 1;
    try {
      const out = layer.outputShape;
      const shape = (Array.isArray(out[0]) ? out[0] : out) as (number | null)[];
      for (let i = 1; i < shape.length - 1; i++) positions *= shape[i] ?? 1;
    } catch {
      // A layer used at several places has no single output shape; count it once.
    }
    for (const w of layer.weights) if (w.shape.length >= 2) total += size(w.shape as number[]) * positions;
  }
  return total;
}

/**
 * The float32 values of `t` in an array nobody else references, safe to transfer to another thread. The wasm
 * backend already returns a fresh copy of its heap; the others may return their own storage, so copy those.
 */
export function ownedData(t: tf.Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  return tf.getBackend() === 'wasm' ? data : data.slice();
}

/** Copies the values of `tensors` into one new Float32Array, back to back. */
export function packTensors(tensors: readonly tf.Tensor[]): Float32Array {
  let n = 0;
  for (const t of tensors) n += t.size;
  const out = new Float32Array(n);
  let offset = 0;
  for (const t of tensors) {
    out.set(t.dataSync() as Float32Array, offset);
    offset += t.size;
  }
  return out;
}

/** All of `model.weights`, packed (the format `setWeightsFromFlat` reads). */
export function packWeights(model: tfl.LayersModel): Float32Array {
  return packTensors(model.weights.map((w) => w.read()));
}

/** Assigns every weight of `model` from a packed array laid out as by `packWeights`. */
export function setWeightsFromFlat(model: tfl.LayersModel, flat: Float32Array): void {
  const weights = model.weights;
  let offset = 0;
  for (const w of weights) offset += size(w.shape as number[]);
  if (offset !== flat.length) throw new Error(`weights: expected ${offset} values, got ${flat.length}`);
  offset = 0;
  const tensors = weights.map((w) => {
    const n = size(w.shape as number[]);
    const t = tf.tensor(flat.subarray(offset, offset + n), w.shape as number[], 'float32');
    offset += n;
    return t;
  });
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

/** The packed moving means and variances of every batch-norm layer (mean, variance, mean, variance, ...). */
export function packBatchNormState(model: tfl.LayersModel, layout: WeightLayout): Float32Array {
  const weights = model.weights;
  return packTensors(layout.batchNorm.flatMap((bn) => [weights[bn.mean]!.read(), weights[bn.variance]!.read()]));
}

/**
 * Sets the batch-norm moving averages to what one step over the whole batch would have produced, from the
 * moving averages each shard left after starting from the same values. With shard weights w_k = n_k / n and
 * decay d = 1 − momentum, a shard's update is mean_k = (1−d)·old + d·m_k (m_k its batch mean) and likewise for
 * the variance, so the full-batch result is mean = Σ w_k mean_k and, adding the spread of the shard means,
 * var = Σ w_k var_k + Σ w_k (mean_k − mean)² / d. `states[k]` is laid out as by `packBatchNormState`.
 */
export function combineBatchNormState(
  model: tfl.LayersModel,
  layout: WeightLayout,
  states: readonly Float32Array[],
  shardWeights: readonly number[],
): void {
  const weights = model.weights;
  let offset = 0;
  for (const bn of layout.batchNorm) {
    const n = size(layout.shapes[bn.mean]!);
    const d = 1 - bn.momentum;
    const mean = new Float32Array(n);
    const variance = new Float32Array(n);
    for (let c = 0; c < n; c++) {
      let m = 0;
      let v = 0;
      for (let k = 0; k < states.length; k++) {
        m += shardWeights[k]! * states[k]![offset + c]!;
        v += shardWeights[k]! * states[k]![offset + n + c]!;
      }
      if (d > 0) {
        for (let k = 0; k < states.length; k++) {
          const diff = states[k]![offset + c]! - m;
          v += (shardWeights[k]! * diff * diff) / d;
        }
      }
      mean[c] = m;
      variance[c] = v;
    }
    const shape = layout.shapes[bn.mean] as number[];
    const tm = tf.tensor(mean, shape);
    const tv = tf.tensor(variance, shape);
    weights[bn.mean]!.write(tm);
    weights[bn.variance]!.write(tv);
    tf.dispose([tm, tv]);
    offset += 2 * n;
  }
}

export interface InputGradientTensors {
  /** d(sum of per-sample losses)/dx, shaped like x. */
  readonly grad: tf.Tensor;
  /** Per-sample loss [n]. */
  readonly loss: tf.Tensor1D;
  readonly logits: tf.Tensor2D;
}

/** Per-sample loss, its gradient with respect to the input, and the logits (inference mode). */
export function inputGradientTensors(
  model: tfl.LayersModel,
  x: tf.Tensor,
  labels: tf.Tensor1D,
  loss: InputLossName,
): InputGradientTensors {
  const lossFn = INPUT_LOSSES[loss];
  let logits: tf.Tensor2D | undefined;
  const { value, grad } = tf.valueAndGrad((input: tf.Tensor) => {
    const z = model.apply(input, { training: false }) as tf.Tensor2D;
    logits = tf.keep(z);
    return lossFn(z, labels);
  })(x);
  return { grad, loss: value as tf.Tensor1D, logits: logits! };
}

export interface WeightGradientTensors {
  /** `scale` × the summed cross-entropy of the shard. */
  readonly loss: tf.Scalar;
  /** Number of correctly classified samples (int32 scalar). */
  readonly correct: tf.Scalar;
  /** Gradient of `loss` for each of `vars`, in order. */
  readonly grads: tf.Tensor[];
}

/** A registered training loss for `weightGradientTensors` (default: softmax cross-entropy of x). */
export interface ShardObjectiveTensors {
  readonly loss: string;
  readonly params: ShardParams;
  readonly companion: tf.Tensor | null;
}

/**
 * Training-mode forward and backward pass of `scale · Σ_i loss_i` over the shard, the loss being softmax
 * cross-entropy unless `objective` names a registered shard loss. With `scale = 1 / batchSize` the shards'
 * losses and gradients add up to the mean over the whole batch. Batch-norm layers normalise with the shard's
 * statistics and update their moving averages from them (see `combineBatchNormState`).
 */
export function weightGradientTensors(
  model: tfl.LayersModel,
  vars: readonly tf.Variable[],
  x: tf.Tensor,
  labels: tf.Tensor1D,
  scale: number,
  objective?: ShardObjectiveTensors,
): WeightGradientTensors {
  let correct: tf.Scalar | undefined;
  const custom = objective ? shardLoss(objective.loss) : undefined;
  const { value, grads } = tf.variableGrads(() => {
    let logits: tf.Tensor2D;
    let perSample: tf.Tensor;
    if (custom) {
      const out = custom(model, x, labels, objective!.companion, objective!.params);
      logits = out.logits;
      perSample = out.perSample;
    } else {
      logits = model.apply(x, { training: true }) as tf.Tensor2D;
      perSample = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits, undefined, undefined, tf.Reduction.NONE);
    }
    correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32'))) as tf.Scalar;
    return tf.mul(tf.sum(perSample), tf.scalar(scale)) as tf.Scalar;
  }, vars as tf.Variable[]);
  const ordered = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
  return { loss: value as tf.Scalar, correct: correct!, grads: ordered };
}
