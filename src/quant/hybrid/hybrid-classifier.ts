/**
 * The deployed semantics of a dynamic-range ("hybrid") quantized network as a `Classifier`: a layer graph run on
 * the host, each recorded dense layer with TFLite's hybrid kernel (`hybrid-dense.ts`), every other step in
 * float32. Not differentiable (`gradientMode: 'none'`); `hybridFakeQuantClassifier` is its differentiable
 * counterpart. Runs normalize, flatten, ReLU, max pooling, dense (TFLite's hybrid FULLY_CONNECTED, ONNX Runtime's
 * MatMulInteger) and conv2d (ONNX Runtime's ConvInteger; TFLite's hybrid CONV_2D is not executed), and float
 * dense and conv layers between them (`float-kernels.ts`).
 */
import { tf } from '../../backend/tf.js';
import type { DynamicRangeQuantization } from '../../import/types.js';
import type { Classifier } from '../../models/classifier.js';
import type { DenseStep, LayerGraph, LayerStep, MaxPoolStep, NormalizeStep } from '../../models/graph.js';
import { floatConv, floatConvForward, floatDense, maxPoolForward, type FloatConv } from './float-kernels.js';
import { hybridConvForward, type HybridConvLayer } from './hybrid-conv.js';
import { checkHybridLayer, hybridDenseForward, type HybridDenseLayer } from './hybrid-dense.js';
import { hybridConvLayer, hybridDenseLayer, layersByStep } from './record.js';

const f32 = Math.fround;

export interface HybridClassifierOptions {
  /** The valid input range (default [0, 1]). */
  readonly bounds?: readonly [number, number];
  readonly description?: string;
}

type HostStep =
  | { readonly kind: 'normalize'; readonly mean: Float32Array; readonly invStd: Float32Array }
  | { readonly kind: 'relu' }
  | { readonly kind: 'flatten' }
  | { readonly kind: 'maxPool'; readonly step: MaxPoolStep }
  | { readonly kind: 'hybrid'; readonly layer: HybridDenseLayer }
  | { readonly kind: 'hybridConv'; readonly layer: HybridConvLayer }
  | { readonly kind: 'dense'; readonly step: DenseStep }
  | { readonly kind: 'conv'; readonly conv: FloatConv };

function normalizeStep(s: NormalizeStep): HostStep {
  return { kind: 'normalize', mean: Float32Array.from(s.mean), invStd: Float32Array.from(s.std.map((v) => 1 / v)) };
}

function hostSteps(graph: LayerGraph, record: DynamicRangeQuantization): HostStep[] {
  const recorded = layersByStep(graph, record.layers);
  return graph.steps.map((s: LayerStep, i): HostStep => {
    switch (s.kind) {
      case 'normalize': return normalizeStep(s);
      case 'relu': return { kind: 'relu' };
      case 'flatten': return { kind: 'flatten' };
      case 'maxPool': return { kind: 'maxPool', step: s };
      case 'conv2d': {
        const l = recorded.get(i);
        return l ? { kind: 'hybridConv', layer: hybridConvLayer(s, l) } : { kind: 'conv', conv: floatConv(s) };
      }
      case 'dense': {
        const l = recorded.get(i);
        if (!l) return { kind: 'dense', step: s };
        const layer = hybridDenseLayer(s, l);
        checkHybridLayer(layer, l.node);
        return { kind: 'hybrid', layer };
      }
    }
  });
}

function runStep(step: HostStep, x: Float32Array, batch: number): Float32Array {
  switch (step.kind) {
    case 'normalize': {
      const c = step.mean.length;
      const out = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const k = c === 1 ? 0 : i % c;
        out[i] = f32(f32(x[i]! - step.mean[k]!) * step.invStd[k]!);
      }
      return out;
    }
    case 'relu': return x.map((v) => (v < 0 ? 0 : v));
    case 'flatten': return x;
    case 'maxPool': return maxPoolForward(step.step, x, batch);
    case 'hybrid': return hybridDenseForward(step.layer, x, batch);
    case 'hybridConv': return hybridConvForward(step.layer, x, batch);
    case 'dense': return floatDense(step.step, x, batch);
    case 'conv': return floatConvForward(step.conv, x, batch);
  }
}

class HybridClassifier implements Classifier {
  readonly gradientMode = 'none' as const;
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;

  constructor(
    private readonly steps: readonly HostStep[],
    graph: LayerGraph,
    readonly bounds: readonly [number, number],
    readonly description: string,
  ) {
    this.inputShape = graph.inputShape;
    this.numClasses = graph.outputSize;
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    const batch = x.shape[0];
    let v = x.dataSync() as Float32Array;
    for (const s of this.steps) v = runStep(s, v, batch);
    return tf.tensor2d(v, [batch, this.numClasses]);
  }

  dispose(): void {}
}

/**
 * The deployed (integer-accumulating) classifier of a layer graph whose dense steps hold dequantized weights.
 * @throws QrobustError('weights_mismatch') when the weights do not fit the record,
 *   QrobustError('not_integer_executable') for a recorded TFLite convolution.
 */
export function hybridClassifier(graph: LayerGraph, record: DynamicRangeQuantization, options: HybridClassifierOptions = {}): Classifier {
  const steps = hostSteps(graph, record);
  const modes = [...new Set(record.layers.map((l) => l.inputQuantization))].join('/');
  return new HybridClassifier(steps, graph, options.bounds ?? [0, 1], options.description ?? `${record.runtime} dynamic-range int8 (${modes} inputs, deployed)`);
}
