/**
 * The differentiable counterpart of the hybrid classifier: the layer graph as TF.js ops with the dequantized
 * weights (exactly the integer codes times their scales) and, in front of every recorded dense or conv layer,
 * the per-example dynamic input quantizer (`dynamic-fake-quant.ts`) with a straight-through (`ste`) or true
 * (`exact`, zero) gradient. It differs from the deployed path only by float32 summation order.
 */
import { tf } from '../../backend/tf.js';
import type { DynamicRangeLayer, DynamicRangeQuantization } from '../../import/types.js';
import type { Classifier } from '../../models/classifier.js';
import type { LayerGraph, Padding } from '../../models/graph.js';
import type { QuantGradient } from '../fake-quant.js';
import { dynamicFakeQuant } from './dynamic-fake-quant.js';
import { hybridConvLayer, hybridDenseLayer, layersByStep } from './record.js';

export interface HybridFakeQuantOptions {
  /** Gradient through the input quantizers (default 'ste'). */
  readonly gradient?: QuantGradient;
  readonly bounds?: readonly [number, number];
  readonly description?: string;
}

type OpStep =
  | { readonly kind: 'normalize'; readonly mean: tf.Tensor; readonly invStd: tf.Tensor }
  | { readonly kind: 'relu' }
  | { readonly kind: 'flatten' }
  | { readonly kind: 'maxPool'; readonly pool: [number, number]; readonly strides: [number, number]; readonly padding: Padding }
  | { readonly kind: 'dense'; readonly kernel: tf.Tensor2D; readonly bias: tf.Tensor1D; readonly relu: boolean; readonly input: DynamicRangeLayer | undefined }
  | {
      readonly kind: 'conv2d'; readonly kernel: tf.Tensor4D; readonly bias: tf.Tensor1D; readonly relu: boolean; readonly input: DynamicRangeLayer | undefined;
      readonly strides: [number, number]; readonly padding: Padding;
    };

function opSteps(graph: LayerGraph, record: DynamicRangeQuantization): OpStep[] {
  const recorded = layersByStep(graph, record.layers);
  const out: OpStep[] = [];
  try {
    graph.steps.forEach((s, i) => {
      switch (s.kind) {
        case 'normalize':
          out.push({ kind: 'normalize', mean: tf.tensor1d(s.mean as number[]), invStd: tf.tensor1d(s.std.map((v) => 1 / v)) });
          return;
        case 'relu':
        case 'flatten':
          out.push({ kind: s.kind });
          return;
        case 'dense': {
          const l = recorded.get(i);
          if (l) hybridDenseLayer(s, l); // the same checks as the deployed path: weights on the recorded grid
          out.push({ kind: 'dense', kernel: tf.tensor2d(s.kernel, [...s.kernelShape]), bias: tf.tensor1d(s.bias), relu: s.activation === 'relu', input: l });
          return;
        }
        case 'maxPool':
          out.push({ kind: 'maxPool', pool: [...s.poolSize], strides: [...s.strides], padding: s.padding });
          return;
        case 'conv2d': {
          const l = recorded.get(i);
          if (l) hybridConvLayer(s, l);
          out.push({
            kind: 'conv2d', kernel: tf.tensor4d(s.kernel, [...s.kernelShape]), bias: tf.tensor1d(s.bias), relu: s.activation === 'relu', input: l,
            strides: [...s.strides], padding: s.padding,
          });
          return;
        }
      }
    });
  } catch (e) {
    disposeSteps(out);
    throw e;
  }
  return out;
}

function disposeSteps(steps: readonly OpStep[]): void {
  for (const s of steps) {
    if (s.kind === 'normalize') tf.dispose([s.mean, s.invStd]);
    if (s.kind === 'dense' || s.kind === 'conv2d') tf.dispose([s.kernel, s.bias]);
  }
}

class HybridFakeQuantClassifier implements Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly gradientMode: 'ste' | 'exact';

  constructor(
    private readonly steps: readonly OpStep[],
    graph: LayerGraph,
    private readonly gradient: QuantGradient,
    readonly bounds: readonly [number, number],
    readonly description: string,
  ) {
    this.inputShape = graph.inputShape;
    this.numClasses = graph.outputSize;
    this.gradientMode = gradient;
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let v: tf.Tensor = x;
      for (const s of this.steps) {
        switch (s.kind) {
          case 'normalize': v = tf.mul(tf.sub(v, s.mean), s.invStd); break;
          case 'relu': v = tf.relu(v); break;
          case 'flatten': v = tf.reshape(v, [v.shape[0]!, -1]); break;
          case 'dense': {
            const input = s.input ? dynamicFakeQuant(v as tf.Tensor2D, s.input.inputQuantization, this.gradient) : v;
            const y = tf.add(tf.matMul(input as tf.Tensor2D, s.kernel), s.bias);
            v = s.relu ? tf.relu(y) : y;
            break;
          }
          case 'maxPool': v = tf.maxPool(v as tf.Tensor4D, s.pool, s.strides, s.padding); break;
          case 'conv2d': {
            const input = s.input ? tf.reshape(dynamicFakeQuant(tf.reshape(v, [v.shape[0]!, -1]), s.input.inputQuantization, this.gradient), v.shape) : v;
            const y = tf.add(tf.conv2d(input as tf.Tensor4D, s.kernel, s.strides, s.padding), s.bias);
            v = s.relu ? tf.relu(y) : y;
            break;
          }
        }
      }
      return v as tf.Tensor2D;
    });
  }

  dispose(): void {
    disposeSteps(this.steps);
  }
}

/**
 * The fake-quant classifier of a hybrid network's layer graph (see the module comment).
 * @throws like `hybridClassifier`.
 */
export function hybridFakeQuantClassifier(graph: LayerGraph, record: DynamicRangeQuantization, options: HybridFakeQuantOptions = {}): Classifier {
  const gradient = options.gradient ?? 'ste';
  const steps = opSteps(graph, record);
  return new HybridFakeQuantClassifier(steps, graph, gradient, options.bounds ?? [0, 1], options.description ?? `${record.runtime} dynamic-range int8 (fake-quant, ${gradient})`);
}
