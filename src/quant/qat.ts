/**
 * Quantization-aware training (QAT): fine-tune a fake-quantized copy of a float model, or train an architecture
 * from scratch, with the quantizers of a `QuantSpec` in the forward pass and straight-through gradients in the
 * backward pass (Bengio et al. 2013, arXiv 1308.3432; Jacob et al. 2018, arXiv 1712.05877). The result is a
 * `QuantizedModel` whose float graph holds the trained latent weights and whose plan holds the quantizer
 * parameters the last training step used, so the fake-quant and integer paths rebuild it exactly like a
 * post-training quantized model.
 *
 * Design:
 * - **Latent weights.** Every conv/dense kernel and bias is a float `tf.Variable`; each forward pass quantizes
 *   the kernels (`QatWeightQuantizer`: uniform grids with the clipped straight-through gradient, XNOR-style
 *   binary with BinaryNet's `1{|w| ≤ 1}` window, TWN ternary, DoReFa). Biases stay float during training (the
 *   integer path later puts them on the int32 grid s_in·s_w, as for PTQ). With `latentClip` the kernels are
 *   clipped to [−c, c] after every step (BinaryNet, Courbariaux et al. 2016, arXiv 1602.02830; default c = 1
 *   for binary weights, none otherwise).
 * - **Uniform weight grids** start from the weights (min-max, or by default the MSE-optimal clipping range,
 *   which at 2-3 bits keeps most weights off the zero level) and are refreshed from the current weights at the
 *   start of every epoch; within an epoch they are fixed.
 * - **Activation ranges** start from PTQ calibration on the model with the initial QAT weight grids (on
 *   `calibrationData`, default the first 1,000 training images). `fixed` keeps them for the whole run (the
 *   network learns to fit them, since the gradient is zero above the clipping range); `ema` tracks an
 *   exponential moving average of each batch's minimum and maximum (decay `emaDecay`, as TensorFlow's QAT does)
 *   and the final averages are saved. DoReFa activations after a ReLU always use the fixed grid over [0, 1].
 * - **Optimiser and data** as in `trainModel`: Adam on softmax cross-entropy, cosine or constant learning
 *   rate, seeded shuffling and augmentation; one thread. Deterministic for a given seed and backend.
 * - **Objective.** A `QatStepObjective` replaces the cross-entropy of the batch by its own loss, prepared per
 *   batch on the network itself (e.g. adversarial QAT: inputs crafted on the fake-quant forward pass through
 *   the STE). With EMA ranges, the activations of the loss's first forward pass are the ones tracked. An
 *   objective may also ask for a frozen copy of the network as it was at the start of each epoch.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';
import { check, QrobustError } from '../core/errors.js';
import type { Augmentation, Batch, ImageRecords } from '../models/batch.js';
import type { Classifier } from '../models/classifier.js';
import { graphFromModel, isWeightStep, weightStepIndices, type LayerGraph, type LayerStep } from '../models/graph.js';
import type { LoadedModel } from '../models/io.js';
import type { ModelMetadata } from '../models/metadata.js';
import { runEpochs, type EpochSummary, type LearningRateSchedule, type TrainProgress } from '../models/epochs.js';
import { fakeQuant } from './fake-quant.js';
import { inputQuantizerPosition, type LayerQuantParams, type QuantPlan } from './plan.js';
import { calibrateActivations, fixedActivationRange, inputParams, type CalibrationOptions, type CalibrationRecord, type QuantizedModel } from './ptq.js';
import { QatWeightQuantizer, type WeightRangeRule } from './qat-quantizers.js';
import { paramsFromRanges, type QuantParams } from './quantizer.js';
import { layerWeightSpec, logitsBits, specLabel, type QuantSpec } from './spec.js';

export type { WeightRangeRule } from './qat-quantizers.js';

/** How activation ranges evolve during QAT (see the module comment). */
export type ActivationRangeMode = 'fixed' | 'ema';

export interface QatOptions {
  readonly epochs: number;
  readonly seed: number;
  /** Default 128. */
  readonly batchSize?: number;
  /** Adam's learning rate (default 1e-3). */
  readonly learningRate?: number;
  /** Default 'cosine'. */
  readonly schedule?: LearningRateSchedule;
  /** Default 'none'. */
  readonly augmentation?: Augmentation;
  /** Default 'fixed' when fine-tuning, 'ema' when training from scratch (its first ranges mean little). */
  readonly activationRanges?: ActivationRangeMode;
  /** EMA decay per step for `activationRanges: 'ema'` (default 0.99). */
  readonly emaDecay?: number;
  /** Uniform weight grids: 'mse' (default) or 'minmax'. */
  readonly weightRange?: WeightRangeRule;
  /** Clip the latent kernels to [−c, c] after every step; default 1 for binary weights, else null (no clip). */
  readonly latentClip?: number | null;
  /** Images the initial activation ranges are calibrated on (default: the first 1,000 of the training data). */
  readonly calibrationData?: ImageRecords;
  /** Recorded as the calibration source and used for its reservoir. */
  readonly calibration?: CalibrationOptions;
  /** What each step minimises (default: the cross-entropy of the batch). */
  readonly objective?: QatStepObjective;
  readonly onStep?: (p: TrainProgress) => void;
  readonly onEpoch?: (e: EpochSummary) => void;
}

/** One step's loss from a `QatStepObjective`. */
export interface QatStep {
  /**
   * Called inside the gradient tape with the network's forward pass; returns the mean loss to minimise and the
   * logits whose predictions count as the training accuracy.
   */
  loss(forward: (x: tf.Tensor4D) => tf.Tensor2D): { readonly loss: tf.Scalar; readonly logits: tf.Tensor2D };
  /** Releases what `prepare` made. */
  dispose(): void;
}

/**
 * A per-batch objective of quantization-aware training. `prepare` runs before each step, outside the gradient
 * tape, with the network as a `Classifier` (the fake-quant forward pass with straight-through gradients, the
 * current latent weights and grids); the batch stays owned by the loop.
 */
export interface QatStepObjective {
  /**
   * @param epochStart with `epochSnapshot`, the network as it was at the start of the current epoch (frozen
   *   copies of the weights, grids and activation ranges; owned by the loop).
   */
  prepare(network: Classifier, batch: Batch, globalStep: number, epochStart?: Classifier): QatStep;
  /** Ask for the frozen start-of-epoch network (e.g. to make every batch's inputs with the same weights). */
  readonly epochSnapshot?: boolean;
}

/**
 * The QAT network's current forward pass as a `Classifier`; it owns no tensors. Input gradients go through the
 * activation and input quantizers by the STE; with weights-only quantization they are exact.
 */
class QatNetworkClassifier implements Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly gradientMode: 'ste' | 'exact';
  readonly description: string;

  constructor(
    private readonly net: QatNetwork,
    readonly bounds: readonly [number, number],
  ) {
    this.inputShape = net.graph.inputShape;
    this.numClasses = net.graph.outputSize;
    this.gradientMode = net.spec.activations || net.spec.inputs ? 'ste' : 'exact';
    this.description = `QAT ${specLabel(net.spec)} (${this.gradientMode})`;
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.net.forward(x));
  }

  dispose(): void {}
}

export const QAT_DEFAULTS = {
  batchSize: 128,
  learningRate: 1e-3,
  schedule: 'cosine' as LearningRateSchedule,
  augmentation: 'none' as Augmentation,
  emaDecay: 0.99,
  weightRange: 'mse' as WeightRangeRule,
  calibrationN: 1000,
};

/** What `qrobust.json` records of a QAT run (`quantization.qat`). */
export interface QatRecord {
  /** True when the architecture was trained from its initialisation rather than from a float parent. */
  readonly fromScratch: boolean;
  readonly epochs: number;
  readonly steps: number;
  readonly batchSize: number;
  readonly optimizer: 'adam';
  readonly lr: number;
  readonly schedule: LearningRateSchedule;
  readonly augmentation: Augmentation;
  readonly seed: number;
  readonly trainCount: number;
  readonly seconds: number;
  readonly weightRange: WeightRangeRule;
  /** Null when the spec quantizes no activations. */
  readonly activationRanges: ActivationRangeMode | null;
  readonly emaDecay?: number;
  readonly latentClip: number | null;
  /** Mean training loss and accuracy of every epoch (on the quantized forward pass). */
  readonly history: readonly EpochSummary[];
}

export interface QatResult {
  /** The trained model: the latent float weights in `graph`, the final quantizer parameters in `plan`. */
  readonly model: QuantizedModel;
  readonly record: QatRecord;
}

interface LayerState {
  readonly step: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
  readonly quantizer: QatWeightQuantizer | null;
  /** Current output grid (null: float output). */
  output: QuantParams | null;
  /** Bits of the output grid and whether it tracks batch ranges (EMA). */
  readonly outputBits: number;
  readonly tracked: boolean;
  range: { min: number; max: number } | null;
}

/** A trainable variable holding `t`'s values; `t` is released (the variable keeps the data). */
function variableOf(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

function assertTrainableSpec(spec: QuantSpec): void {
  if (spec.rounding === 'stochastic') {
    throw new QrobustError('invalid_quant_spec', "quantization-aware training rounds to nearest; rounding 'stochastic' is not supported");
  }
  if (spec.weights?.bits === 'float16') {
    throw new QrobustError('invalid_quant_spec', 'float16 weights have no quantization-aware training form (use post-training quantization)');
  }
}

/**
 * The executor QAT trains: the layer graph with variables for the kernels and biases (`variables`, kernel then
 * bias per weight layer), the weight quantizers and the activation quantizers with their current ranges (none
 * until `setOutputs`). Exported for tests and custom training loops; `qatTrainGraph` drives it.
 */
export class QatNetwork {
  readonly layers: LayerState[] = [];
  readonly variables: tf.Variable[] = [];
  private readonly consts = new Map<number, { mean: tf.Tensor; invStd: tf.Tensor }>();
  private readonly inputAfter: number;

  constructor(
    readonly graph: LayerGraph,
    readonly spec: QuantSpec,
    readonly input: QuantParams | null,
    rule: WeightRangeRule,
    ema: boolean,
  ) {
    this.inputAfter = inputQuantizerPosition(graph);
    const idx = weightStepIndices(graph);
    const last = idx[idx.length - 1];
    const lastBits = logitsBits(spec);
    graph.steps.forEach((s, i) => {
      if (s.kind === 'normalize') {
        const one = s.mean.length === 1;
        this.consts.set(i, {
          mean: one ? tf.scalar(s.mean[0]!) : tf.tensor1d([...s.mean]),
          invStd: one ? tf.scalar(1 / s.std[0]!) : tf.tensor1d(s.std.map((v) => 1 / v)),
        });
      }
      if (!isWeightStep(s)) return;
      const pos = idx.indexOf(i);
      const ws = layerWeightSpec(spec, { first: pos === 0, last: i === last });
      const kernel = variableOf(tf.tensor(s.kernel, [...s.kernelShape]));
      const bias = variableOf(tf.tensor1d(s.bias));
      this.variables.push(kernel, bias);
      const quantizer = ws ? new QatWeightQuantizer(ws, rule, s.name) : null;
      quantizer?.refresh(s.kernel, s.kernelShape);
      const outputBits = spec.activations ? (i === last ? (lastBits ?? 0) : spec.activations.bits) : 0;
      const fixed = fixedActivationRange(graph, i, spec) !== null;
      this.layers.push({ step: i, name: s.name, shape: s.kernelShape, kernel, bias, quantizer, output: null, outputBits, tracked: ema && outputBits > 0 && !fixed, range: null });
    });
  }

  /** The plan the network computes with now (weight records from the current latent weights). */
  plan(): QuantPlan {
    return {
      input: this.input,
      layers: this.layers.map((l): LayerQuantParams => {
        const kernel = l.kernel.dataSync() as Float32Array;
        return { step: l.step, name: l.name, weights: l.quantizer ? l.quantizer.record(kernel, l.shape) : null, output: l.output };
      }),
    };
  }

  /** Sets the activation grids from a calibrated plan (and the EMA state from them). */
  setOutputs(plan: QuantPlan): void {
    plan.layers.forEach((p, k) => {
      const l = this.layers[k]!;
      l.output = p.output;
      if (p.output) {
        const s = p.output.scale[0]!;
        const zp = p.output.zeroPoint[0]!;
        l.range = { min: s * (p.output.qmin - zp), max: s * (p.output.qmax - zp) };
      }
    });
  }

  /** Refreshes the uniform weight grids from the current latent weights. */
  refreshWeightGrids(): void {
    for (const l of this.layers) if (l.quantizer) l.quantizer.refresh(l.kernel.dataSync() as Float32Array, l.shape);
  }

  /**
   * The forward pass; with `observed`, pushes the minimum and maximum of every tracked activation (before its
   * quantizer) as scalars, in layer order.
   */
  forward(x: tf.Tensor4D, observed?: tf.Tensor[]): tf.Tensor2D {
    const ste = { gradient: 'ste' as const };
    let h: tf.Tensor = x;
    if (this.inputAfter === -1 && this.input) h = fakeQuant(h, this.input, ste);
    let k = 0;
    this.graph.steps.forEach((s: LayerStep, i) => {
      switch (s.kind) {
        case 'normalize': {
          const c = this.consts.get(i)!;
          h = tf.mul(tf.sub(h, c.mean), c.invStd);
          if (i === this.inputAfter && this.input) h = fakeQuant(h, this.input, ste);
          break;
        }
        case 'conv2d':
        case 'dense': {
          const l = this.layers[k++]!;
          const kernel = l.quantizer ? l.quantizer.apply(l.kernel) : l.kernel;
          h =
            s.kind === 'conv2d'
              ? tf.fused.conv2d({ x: h as tf.Tensor4D, filter: kernel as tf.Tensor4D, strides: [...s.strides], pad: s.padding, bias: l.bias, activation: s.activation })
              : tf.fused.matMul({ a: h as tf.Tensor2D, b: kernel as tf.Tensor2D, bias: l.bias, activation: s.activation });
          if (l.tracked && observed) observed.push(tf.min(h), tf.max(h));
          if (l.output) h = fakeQuant(h, l.output, ste);
          break;
        }
        case 'maxPool':
          h = tf.maxPool(h as tf.Tensor4D, [...s.poolSize], [...s.strides], s.padding);
          break;
        case 'flatten':
          h = tf.reshape(h, [h.shape[0]!, -1]);
          break;
        case 'relu':
          h = tf.relu(h);
          break;
      }
    });
    return h as tf.Tensor2D;
  }

  /** EMA update of the tracked ranges from one batch's observed extremes (in `forward`'s order). */
  updateRanges(extremes: Float32Array, decay: number): void {
    let j = 0;
    for (const l of this.layers) {
      if (!l.tracked) continue;
      const lo = extremes[j++]!;
      const hi = extremes[j++]!;
      l.range = l.range ? { min: decay * l.range.min + (1 - decay) * lo, max: decay * l.range.max + (1 - decay) * hi } : { min: lo, max: hi };
      l.output = paramsFromRanges([l.range.min], [l.range.max], l.outputBits, this.spec.activations!.scheme, 'per-tensor');
    }
  }

  clipKernels(c: number): void {
    tf.tidy(() => {
      for (const l of this.layers) l.kernel.assign(tf.clipByValue(l.kernel, -c, c));
    });
  }

  /** The graph with the current latent weights. */
  trainedGraph(): LayerGraph {
    const byStep = new Map(this.layers.map((l) => [l.step, l]));
    return {
      ...this.graph,
      steps: this.graph.steps.map((s, i) => {
        const l = byStep.get(i);
        if (!l || !isWeightStep(s)) return s;
        return { ...s, kernel: Float32Array.from(l.kernel.dataSync() as Float32Array), bias: Float32Array.from(l.bias.dataSync() as Float32Array) };
      }),
    };
  }

  dispose(): void {
    tf.dispose(this.variables);
    for (const c of this.consts.values()) tf.dispose([c.mean, c.invStd]);
    for (const l of this.layers) l.quantizer?.dispose();
  }
}

/** The calibration images: the given ones, else the first `QAT_DEFAULTS.calibrationN` training images. */
function calibrationSet(data: ImageRecords, given?: ImageRecords): ImageRecords {
  if (given) return given;
  const n = Math.min(QAT_DEFAULTS.calibrationN, data.count);
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  return { shape: data.shape, count: n, pixels: data.pixels.subarray(0, n * size), labels: data.labels.subarray(0, n) };
}

/**
 * Trains a layer graph under a spec (the core of `qatFineTune` and `qatFromScratch`); the graph is not changed.
 * @param inputRange the model's pixel range (for the input grid).
 * @param fromScratch recorded, and selects the default activation-range mode ('ema' when true).
 * @returns the trained graph, the final plan, the calibration record and the QAT record.
 * @throws QrobustError('invalid_quant_spec') for float16 weights or stochastic rounding.
 */
export async function qatTrainGraph(
  graph: LayerGraph,
  inputRange: readonly [number, number],
  spec: QuantSpec,
  data: ImageRecords,
  options: QatOptions,
  fromScratch = false,
): Promise<{ graph: LayerGraph; plan: QuantPlan; calibration: CalibrationRecord | null; record: QatRecord }> {
  assertTrainableSpec(spec);
  const batchSize = options.batchSize ?? QAT_DEFAULTS.batchSize;
  const learningRate = options.learningRate ?? QAT_DEFAULTS.learningRate;
  const schedule = options.schedule ?? QAT_DEFAULTS.schedule;
  const augmentation = options.augmentation ?? QAT_DEFAULTS.augmentation;
  const weightRange = options.weightRange ?? QAT_DEFAULTS.weightRange;
  const emaDecay = options.emaDecay ?? QAT_DEFAULTS.emaDecay;
  const mode: ActivationRangeMode | null = spec.activations ? (options.activationRanges ?? (fromScratch ? 'ema' : 'fixed')) : null;
  const latentClip = options.latentClip !== undefined ? options.latentClip : spec.weights?.kind === 'binary' ? 1 : null;
  check(Number.isInteger(options.epochs) && options.epochs >= 1, `QAT epochs must be a positive integer, got ${options.epochs}`);
  check(Number.isInteger(batchSize) && batchSize >= 1, `QAT batch size must be a positive integer, got ${batchSize}`);
  check(learningRate > 0, `QAT learning rate must be positive, got ${learningRate}`);
  check(emaDecay >= 0 && emaDecay < 1, `EMA decay must be in [0, 1), got ${emaDecay}`);
  check(latentClip === null || latentClip > 0, `the latent weight clip must be positive, got ${latentClip}`);
  check(data.count > 0, 'the QAT training set is empty');

  const input = spec.inputs ? inputParams(graph, inputRange, spec.inputs.bits) : null;
  const net = new QatNetwork(graph, spec, input, weightRange, mode === 'ema');
  const optimizer = tf.train.adam(learningRate);
  let snapshot: QatNetwork | null = null;
  try {
    let calibration: CalibrationRecord | null = null;
    if (spec.activations) {
      const calib = calibrationSet(data, options.calibrationData);
      net.setOutputs(calibrateActivations(graph, spec, net.plan(), calib, options.calibration));
      const c = spec.activations.calibration;
      calibration = {
        method: c.method,
        ...(c.method === 'percentile' ? { percentile: c.percentile } : {}),
        n: calib.count,
        ...(options.calibration?.source ? { source: options.calibration.source } : {}),
      };
    }
    const view = new QatNetworkClassifier(net, inputRange);
    const beforeEpoch = (epoch: number): void => {
      if (epoch > 0) net.refreshWeightGrids();
      if (!options.objective?.epochSnapshot) return;
      snapshot?.dispose();
      // Built from the current weights and grids (the grids were just refreshed from them) and ranges.
      snapshot = new QatNetwork(net.trainedGraph(), spec, input, weightRange, false);
      snapshot.setOutputs(net.plan());
    };
    const loop = { epochs: options.epochs, batchSize, learningRate, schedule, augmentation, seed: options.seed, beforeEpoch };
    const report = await runEpochs(data, { ...loop, ...(options.onStep ? { onStep: options.onStep } : {}), ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}) }, optimizer, async (batch, c) => {
      const observed: tf.Tensor[] = [];
      let correctT: tf.Tensor | undefined;
      let extremesT: tf.Tensor | undefined;
      let prepared: QatStep | undefined;
      let lossT: tf.Scalar;
      try {
        prepared = options.objective?.prepare(view, batch, c.globalStep, snapshot ? new QatNetworkClassifier(snapshot, inputRange) : undefined);
        lossT = optimizer.minimize(
          () => {
            let passes = 0;
            // The first forward pass of the step is the one whose activation ranges EMA tracks.
            const forward = (x: tf.Tensor4D): tf.Tensor2D => net.forward(x, mode === 'ema' && passes++ === 0 ? observed : undefined);
            let logits: tf.Tensor2D;
            let loss: tf.Scalar;
            if (prepared) ({ loss, logits } = prepared.loss(forward));
            else {
              logits = forward(batch.x);
              loss = tf.losses.softmaxCrossEntropy(tf.oneHot(batch.labels, logits.shape[1]), logits) as tf.Scalar;
            }
            correctT = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), batch.labels), 'int32')));
            if (observed.length) extremesT = tf.keep(tf.stack(observed));
            return loss;
          },
          true,
          net.variables,
        )!;
      } finally {
        prepared?.dispose();
      }
      const loss = (await lossT.data())[0]!;
      const correct = (await correctT!.data())[0]!;
      if (extremesT) net.updateRanges((await extremesT.data()) as Float32Array, emaDecay);
      tf.dispose([lossT, correctT!, ...(extremesT ? [extremesT] : [])]);
      if (latentClip !== null) net.clipKernels(latentClip);
      return { loss, correct };
    });
    const history = report.epochs;
    const totalSteps = report.totalSteps;
    const record: QatRecord = {
      fromScratch,
      epochs: options.epochs,
      steps: totalSteps,
      batchSize,
      optimizer: 'adam',
      lr: learningRate,
      schedule,
      augmentation,
      seed: options.seed,
      trainCount: data.count,
      seconds: report.seconds,
      weightRange,
      activationRanges: mode,
      ...(mode === 'ema' ? { emaDecay } : {}),
      latentClip,
      history,
    };
    return { graph: net.trainedGraph(), plan: net.plan(), calibration, record };
  } finally {
    optimizer.dispose();
    net.dispose();
    (snapshot as QatNetwork | null)?.dispose();
  }
}

/**
 * Quantization-aware fine-tuning of a float model: its weights are the starting latent weights (the layers
 * model itself is not changed).
 * @param trainData training images (e.g. the dataset's training split, or a seeded subset of it).
 * @example
 *   const { model } = await qatFineTune(await loadModel(dir), makeQuantSpec({ weights: { bits: 2 } }), train, { epochs: 2, seed: 0 });
 *   const clf = fakeQuantClassifier(model);
 * @throws QrobustError('invalid_quant_spec') for float16 weights or stochastic rounding.
 */
export async function qatFineTune(parent: Pick<LoadedModel, 'model' | 'meta'>, spec: QuantSpec, trainData: ImageRecords, options: QatOptions): Promise<QatResult> {
  if (parent.meta['quantization'] !== undefined) {
    throw new QrobustError('invalid_argument', 'this model is already quantized: fine-tune its parent (the full-precision model) instead');
  }
  const graph = graphFromModel(parent.model);
  const inputRange = parent.meta.preprocessing?.inputRange ?? [0, 1];
  const r = await qatTrainGraph(graph, inputRange, spec, trainData, options, false);
  return { model: { graph: r.graph, spec, plan: r.plan, meta: parent.meta, calibration: r.calibration, label: specLabel(spec) }, record: r.record };
}

/**
 * Quantization-aware training from the initialisation of a freshly built model (e.g. a binarized network).
 * @param model an untrained model (`buildModel`); it is not changed.
 * @param meta the metadata the trained model will carry (dataset, arch, preprocessing, seed, ...).
 */
export async function qatFromScratch(model: tfl.LayersModel, meta: ModelMetadata, spec: QuantSpec, trainData: ImageRecords, options: QatOptions): Promise<QatResult> {
  const graph = graphFromModel(model);
  const r = await qatTrainGraph(graph, meta.preprocessing?.inputRange ?? [0, 1], spec, trainData, options, true);
  return { model: { graph: r.graph, spec, plan: r.plan, meta, calibration: r.calibration, label: specLabel(spec) }, record: r.record };
}
