/**
 * The fake-quant path: executes a layer graph with TF.js ops, quantize-dequantize on the weights (precomputed)
 * and on the input and activations (ops), differentiable w.r.t. the input with the chosen gradient (`exact` or
 * `ste`, see `fake-quant.ts`). With no plan it is the float model, so attacks have one interface either way.
 *
 * Quantization-aware training hook: with `trainableWeights`, the float kernels and biases are `tf.Variable`s
 * (`variables`) and every forward pass quantizes the kernels with `quantizeWeightsTf` (parameters from the
 * current weights, straight-through gradient to the float weights); biases then stay float. Activation
 * quantizers keep the plan's calibrated parameters.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import type { Classifier, GradientMode } from '../models/classifier.js';
import type { LayerGraph } from '../models/graph.js';
import { FakeQuantizer, quantizeWeightsTf, type QuantGradient } from './fake-quant.js';
import { prepareGraph, type PreparedGraph, type QuantPlan } from './plan.js';
import type { WeightQuantSpec } from './spec.js';
import type { WeightQuantRecord } from './weights.js';

export interface FakeQuantClassifierOptions {
  /**
   * Gradient through the input and activation quantizers (default 'ste'). When neither is quantized both modes
   * are the true gradient and `gradientMode` reports 'exact'.
   */
  readonly gradient?: QuantGradient;
  /** The valid input range (default [0, 1]). */
  readonly bounds?: readonly [number, number];
  /** Keep float weights as trainable variables and quantize them on every forward pass (the QAT hook). */
  readonly trainableWeights?: boolean;
  readonly description?: string;
}

/** Per-step tensors the executor holds. */
interface StepTensors {
  kernel?: tf.Tensor;
  bias?: tf.Tensor;
  mean?: tf.Tensor;
  invStd?: tf.Tensor;
  output?: FakeQuantizer;
  /** Weight spec to re-quantize a trainable kernel with, or null to use it as is. */
  weightSpec?: WeightQuantSpec | null;
}

/** The weight spec a record was made with (for re-quantizing trainable weights). */
export function weightSpecOfRecord(record: WeightQuantRecord): WeightQuantSpec {
  if (record.kind === 'float16') return { bits: 'float16', scheme: 'symmetric', granularity: 'per-tensor', kind: 'uniform' };
  // DoReFa's k-bit codes are odd integers on the (k+1)-bit grid.
  const bits = record.kind === 'dorefa' ? record.params.bits - 1 : record.params.bits;
  return { bits, scheme: record.params.scheme, granularity: record.params.granularity, kind: record.kind };
}

export class FakeQuantClassifier implements Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly bounds: readonly [number, number];
  readonly gradientMode: GradientMode;
  readonly description: string;
  readonly prepared: PreparedGraph;
  /** The trainable float kernels and biases (empty unless `trainableWeights`). */
  readonly variables: tf.Variable[] = [];
  private readonly gradient: QuantGradient;
  private readonly tensors: StepTensors[];
  private readonly input: FakeQuantizer | null;
  private disposed = false;

  constructor(graph: LayerGraph, plan: QuantPlan | null, options: FakeQuantClassifierOptions = {}) {
    this.prepared = prepareGraph(graph, plan);
    this.inputShape = graph.inputShape;
    this.numClasses = graph.outputSize;
    this.bounds = options.bounds ?? [0, 1];
    this.gradient = options.gradient ?? 'ste';
    const quantizesInputPath = !!plan && (!!plan.input || plan.layers.some((l) => l.output));
    this.gradientMode = quantizesInputPath ? this.gradient : 'exact';
    this.description = options.description ?? (plan ? `fake-quant (${this.gradientMode})` : 'float32 graph');
    const trainable = options.trainableWeights ?? false;
    this.input = this.prepared.input ? new FakeQuantizer(this.prepared.input) : null;
    this.tensors = this.prepared.steps.map((ps, i) => {
      const s = ps.step;
      const t: StepTensors = {};
      if (s.kind === 'normalize') {
        const one = s.mean.length === 1;
        t.mean = one ? tf.scalar(s.mean[0]!) : tf.tensor1d([...s.mean]);
        t.invStd = one ? tf.scalar(1 / s.std[0]!) : tf.tensor1d(s.std.map((v) => 1 / v));
      } else if (s.kind === 'conv2d' || s.kind === 'dense') {
        const shape = [...s.kernelShape];
        if (trainable) {
          const record = plan?.layers.find((l) => l.step === i)?.weights ?? null;
          if (record?.kind === 'float16') {
            throw new QrobustError('invalid_quant_spec', `layer '${s.name}': float16 weights cannot be trained through the fake-quant path`);
          }
          t.weightSpec = record ? weightSpecOfRecord(record) : null;
          const kernel = tf.variable(tf.tensor(s.kernel, shape), true);
          const bias = tf.variable(tf.tensor1d(s.bias), true);
          this.variables.push(kernel, bias);
          t.kernel = kernel;
          t.bias = bias;
        } else {
          t.kernel = tf.tensor(ps.kernel ? ps.kernel.dequantized : s.kernel, shape);
          t.bias = tf.tensor1d(ps.bias ?? s.bias);
        }
        if (ps.output) t.output = new FakeQuantizer(ps.output);
      }
      return t;
    });
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.run(x));
  }

  /**
   * The forward pass, calling `tap(stepIndex, output)` after every conv2d/dense step (after its fused
   * activation and output quantizer, if any). Call inside `tf.tidy`; calibration uses the tap.
   */
  run(x: tf.Tensor4D, tap?: (step: number, output: tf.Tensor) => void): tf.Tensor2D {
    if (this.disposed) throw new Error('FakeQuantClassifier used after dispose()');
    const opts = { gradient: this.gradient, steWindow: 'rounding' as const };
    const { inputAfter } = this.prepared;
    let h: tf.Tensor = x;
    if (inputAfter === -1 && this.input) h = this.input.apply(h, opts);
    this.prepared.steps.forEach((ps, i) => {
      const s = ps.step;
      const t = this.tensors[i]!;
      switch (s.kind) {
        case 'normalize':
          h = tf.mul(tf.sub(h, t.mean!), t.invStd!);
          if (i === inputAfter && this.input) h = this.input.apply(h, opts);
          break;
        case 'conv2d':
        case 'dense': {
          const kernel = t.weightSpec ? quantizeWeightsTf(t.kernel!, t.weightSpec) : t.kernel!;
          h =
            s.kind === 'conv2d'
              ? tf.fused.conv2d({ x: h as tf.Tensor4D, filter: kernel as tf.Tensor4D, strides: [...s.strides], pad: s.padding, bias: t.bias, activation: s.activation })
              : tf.fused.matMul({ a: h as tf.Tensor2D, b: kernel as tf.Tensor2D, bias: t.bias, activation: s.activation });
          if (t.output) h = t.output.apply(h, opts);
          tap?.(i, h);
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

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.input?.dispose();
    for (const t of this.tensors) {
      tf.dispose([t.kernel, t.bias, t.mean, t.invStd].filter((v): v is tf.Tensor => v !== undefined));
      t.output?.dispose();
    }
  }
}
