/**
 * The deployed semantics of a dynamic-range ("hybrid") quantized network as a `Classifier`: a layer graph run on
 * the host, each recorded dense layer with TFLite's hybrid kernel (`hybrid-dense.ts`), every other step in
 * float32. Not differentiable (`gradientMode: 'none'`); `hybridFakeQuantClassifier` is its differentiable
 * counterpart. Covers dense networks (normalize, flatten, dense, ReLU), which is what TFLite's hybrid
 * FULLY_CONNECTED kernel runs; hybrid convolutions are not executed.
 */
import { tf } from '../../backend/tf.js';
import { QrobustError } from '../../core/errors.js';
import type { DynamicRangeQuantization } from '../../import/types.js';
import type { Classifier } from '../../models/classifier.js';
import type { DenseStep, LayerGraph, LayerStep, NormalizeStep } from '../../models/graph.js';
import { checkHybridLayer, hybridDenseForward, type HybridDenseLayer } from './hybrid-dense.js';
import { hybridDenseLayer, layersByStep } from './record.js';

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
  | { readonly kind: 'hybrid'; readonly layer: HybridDenseLayer }
  | { readonly kind: 'dense'; readonly step: DenseStep };

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
      case 'dense': {
        const l = recorded.get(i);
        if (!l) return { kind: 'dense', step: s };
        const layer = hybridDenseLayer(s, l);
        checkHybridLayer(layer, l.node);
        return { kind: 'hybrid', layer };
      }
      default:
        throw new QrobustError('not_integer_executable', `step '${s.name}' (${s.kind}): the hybrid executor runs dense networks only`);
    }
  });
}

/** Float32 dense layer (TFLite's float FULLY_CONNECTED: bias + Σ w·x, then the activation). */
function floatDense(s: DenseStep, x: Float32Array, batch: number): Float32Array {
  const [inSize, units] = s.kernelShape;
  const out = new Float32Array(batch * units);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < units; o++) {
      let acc = 0;
      for (let i = 0; i < inSize; i++) acc += s.kernel[i * units + o]! * x[b * inSize + i]!;
      const v = f32(s.bias[o]! + acc);
      out[b * units + o] = s.activation === 'relu' && v < 0 ? 0 : v;
    }
  }
  return out;
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
    case 'hybrid': return hybridDenseForward(step.layer, x, batch);
    case 'dense': return floatDense(step.step, x, batch);
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
 *   QrobustError('not_integer_executable') for steps other than normalize, flatten, dense and ReLU.
 */
export function hybridClassifier(graph: LayerGraph, record: DynamicRangeQuantization, options: HybridClassifierOptions = {}): Classifier {
  const steps = hostSteps(graph, record);
  const modes = [...new Set(record.layers.map((l) => l.inputQuantization))].join('/');
  return new HybridClassifier(steps, graph, options.bounds ?? [0, 1], options.description ?? `${record.runtime} dynamic-range int8 (${modes} inputs, deployed)`);
}
