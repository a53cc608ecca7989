/**
 * A full-integer TFLite network (int8 activations, int8 weights, int32 biases) mapped onto the project's own
 * quantization plan (`plan.ts`), so that its deployed semantics run on the existing integer path (TFLite's
 * fixed-point requantization, `integer/`) and its fake-quant counterpart on `FakeQuantClassifier`. The plan is
 * the file's parameters, not calibrated ones: the input grid of its QUANTIZE, each layer's weight scales
 * (symmetric, ±127) and output grid. Biases are recovered on the int32 grid `s_in · s_w` by the plan itself.
 */
import { QrobustError } from '../../core/errors.js';
import type { FullIntegerQuantization, TensorGrid } from '../../import/types.js';
import type { Classifier } from '../../models/classifier.js';
import { isWeightStep, type LayerGraph } from '../../models/graph.js';
import type { QuantGradient } from '../fake-quant.js';
import { IntegerClassifier } from '../integer/integer-classifier.js';
import type { RequantRounding } from '../integer/fixed-point.js';
import { prepareGraph, type LayerQuantParams, type QuantPlan } from '../plan.js';
import { FakeQuantClassifier } from '../quantized-classifier.js';
import type { QuantParams } from '../quantizer.js';
import { roundHalfAway } from '../rounding.js';
import { layersByStep } from './record.js';

function affineGrid(g: TensorGrid): QuantParams {
  return { bits: 8, scheme: 'affine', qmin: -128, qmax: 127, scale: [g.scale], zeroPoint: [g.zeroPoint], granularity: 'per-tensor' };
}

function weightGrid(scale: readonly number[]): QuantParams {
  return {
    bits: 8, scheme: 'symmetric', qmin: -127, qmax: 127, scale: [...scale], zeroPoint: scale.map(() => 0),
    granularity: scale.length > 1 ? 'per-channel' : 'per-tensor',
  };
}

/**
 * The quantization plan of a full-integer record over the layer graph that holds its dequantized weights.
 * @throws QrobustError('not_integer_executable') for a weight layer without a record or a weight code of −128
 *   (outside the plan's symmetric grid), QrobustError('weights_mismatch') when a weight is not on its grid.
 */
export function fullIntegerPlan(graph: LayerGraph, record: FullIntegerQuantization): QuantPlan {
  const byStep = layersByStep(graph, record.layers);
  const layers: LayerQuantParams[] = [];
  graph.steps.forEach((step, i) => {
    if (!isWeightStep(step)) return;
    const l = byStep.get(i);
    if (!l) throw new QrobustError('not_integer_executable', `weight layer '${step.name}' has no integer record`);
    const channels = step.kernelShape[step.kernelShape.length - 1]!;
    if (l.weightScale.length !== 1 && l.weightScale.length !== channels) throw new QrobustError('weights_mismatch', `layer '${l.node}': ${l.weightScale.length} weight scales for ${channels} output channels`);
    step.kernel.forEach((w, k) => {
      const s = Math.fround(l.weightScale[l.weightScale.length === 1 ? 0 : k % channels]!);
      const q = roundHalfAway(w / s);
      if (Math.fround(q * s) !== w) throw new QrobustError('weights_mismatch', `layer '${l.node}': weight ${k} = ${w} is not on the int8 grid of scale ${s}`);
      if (q < -127 || q > 127) throw new QrobustError('not_integer_executable', `layer '${l.node}': weight code ${q} is outside the symmetric int8 grid [-127, 127]`);
    });
    layers.push({ step: i, name: step.name, weights: { kind: 'uniform', params: weightGrid(l.weightScale) }, output: affineGrid(l.output) });
  });
  return { input: affineGrid(record.input), layers };
}

export interface FullIntegerOptions {
  /** The deployed integer path instead of fake-quant. */
  readonly integer?: boolean;
  readonly gradient?: QuantGradient;
  readonly rounding?: RequantRounding;
  readonly bounds?: readonly [number, number];
}

/** The integer-exact or fake-quant classifier of a full-integer network. */
export function fullIntegerClassifier(graph: LayerGraph, record: FullIntegerQuantization, options: FullIntegerOptions = {}): Classifier {
  const plan = fullIntegerPlan(graph, record);
  const bounds = options.bounds ?? [0, 1];
  if (options.integer) {
    const rounding = options.rounding ?? 'double';
    return new IntegerClassifier(prepareGraph(graph, plan), bounds, `${record.runtime} full-integer int8 (${rounding} rounding)`, { rounding });
  }
  const gradient = options.gradient ?? 'ste';
  return new FakeQuantClassifier(graph, plan, { bounds, gradient, description: `${record.runtime} full-integer int8 fake-quant (${gradient})` });
}
