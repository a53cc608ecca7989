/**
 * The quantization plan: where the quantizers of a layer graph sit and their parameters (what `qrobust.json`
 * records under `quantization.params`), and `prepareSteps`, which resolves a plan against the graph's float
 * weights into what both executors need: dequantized kernels, integer codes, biases on the int32 grid, and the
 * grid each weight layer's input lies on. Both the fake-quant and the integer path are built from the same
 * prepared steps, so they can differ only by arithmetic, never by parameters.
 */
import { QrobustError } from '../core/errors.js';
import { isWeightStep, weightStepIndices, type LayerGraph, type LayerStep } from '../models/graph.js';
import type { QuantParams } from './quantizer.js';
import { roundHalfAway } from './rounding.js';
import { applyWeightRecord, checkRecordChannels, recordParams, type QuantizedKernel, type WeightQuantRecord } from './weights.js';

/** Quantizers of one conv2d/dense step. */
export interface LayerQuantParams {
  /** Index of the step in `graph.steps`. */
  readonly step: number;
  readonly name: string;
  /** Null: the kernel stays float32. */
  readonly weights: WeightQuantRecord | null;
  /** The activation quantizer on the step's output (after its fused activation); null: none. */
  readonly output: QuantParams | null;
}

export interface QuantPlan {
  /**
   * The input quantizer: on the output of the graph's leading `normalize` step (the tensor the first layer
   * sees, as TFLite's QUANTIZE op would produce it), or on the raw input when there is none. Null: none.
   */
  readonly input: QuantParams | null;
  /** One entry per conv2d/dense step, in order. */
  readonly layers: readonly LayerQuantParams[];
}

/** A step with everything an executor needs. */
export interface PreparedStep {
  readonly step: LayerStep;
  /** For conv2d/dense: the quantized kernel (null when it stays float). */
  readonly kernel: QuantizedKernel | null;
  /** For conv2d/dense: the bias the quantized model adds (on the int32 grid s_in·s_w when `biasCodes` is set). */
  readonly bias: Float32Array | null;
  /** For conv2d/dense with integer weights and a quantized input: the int32 bias codes. */
  readonly biasCodes: Int32Array | null;
  /** For conv2d/dense: the grid of the step's input, or null when the input is float. */
  readonly inputParams: QuantParams | null;
  /** The quantizer applied to this step's output, or null. */
  readonly output: QuantParams | null;
}

export interface PreparedGraph {
  readonly graph: LayerGraph;
  /** The input quantizer, applied after step `inputAfter` (−1: on the raw input). */
  readonly input: QuantParams | null;
  readonly inputAfter: number;
  readonly steps: readonly PreparedStep[];
}

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** Where the input quantizer goes: after a leading normalize step, else on the raw input. */
export function inputQuantizerPosition(graph: LayerGraph): number {
  return graph.steps[0]?.kind === 'normalize' ? 0 : -1;
}

/** Checks that a plan belongs to a graph (one entry per weight step, same names, channel counts). */
export function checkPlan(graph: LayerGraph, plan: QuantPlan): void {
  const idx = weightStepIndices(graph);
  if (plan.layers.length !== idx.length) {
    throw new QrobustError('not_a_model', `the quantization plan has ${plan.layers.length} layers, the model has ${idx.length} conv/dense layers`);
  }
  plan.layers.forEach((l, i) => {
    const step = graph.steps[idx[i]!]!;
    if (l.step !== idx[i] || l.name !== step.name) {
      throw new QrobustError('not_a_model', `quantization plan entry ${i} is for '${l.name}' (step ${l.step}), the model has '${step.name}' (step ${idx[i]})`);
    }
    if (l.weights && isWeightStep(step)) checkRecordChannels(l.weights, step.kernelShape[step.kernelShape.length - 1]!, step.name);
  });
}

/** Resolves a plan (or null: the float model) against a graph's weights. */
export function prepareGraph(graph: LayerGraph, plan: QuantPlan | null): PreparedGraph {
  if (plan) checkPlan(graph, plan);
  const byStep = new Map((plan?.layers ?? []).map((l) => [l.step, l]));
  const inputAfter = inputQuantizerPosition(graph);
  const input = plan?.input ?? null;
  let grid: QuantParams | null = inputAfter === -1 ? input : null;
  const steps: PreparedStep[] = graph.steps.map((step, i) => {
    if (!isWeightStep(step)) {
      if (step.kind === 'normalize') grid = i === inputAfter ? input : null;
      return { step, kernel: null, bias: null, biasCodes: null, inputParams: null, output: null };
    }
    const lp = byStep.get(i);
    const kernel = lp?.weights ? applyWeightRecord(step.kernel, lp.weights) : null;
    const inputParams = grid;
    const { bias, biasCodes } = quantizeBias(step.bias, kernel, inputParams);
    const output = lp?.output ?? null;
    grid = output;
    return { step, kernel, bias, biasCodes, inputParams, output };
  });
  return { graph, input, inputAfter, steps };
}

/**
 * Puts a bias on the int32 grid of scale s_in·s_w[c] when the layer's weights have integer codes and its input
 * is quantized (Jacob et al. 2018, §2.4); otherwise the float bias is kept.
 */
function quantizeBias(
  bias: Float32Array,
  kernel: QuantizedKernel | null,
  inputParams: QuantParams | null,
): { bias: Float32Array; biasCodes: Int32Array | null } {
  const wp = kernel ? recordParams(kernel.record) : null;
  if (!wp || !inputParams) return { bias, biasCodes: null };
  const sIn = inputParams.scale[0]!;
  const codes = new Int32Array(bias.length);
  const out = new Float32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const s = sIn * wp.scale[wp.scale.length === 1 ? 0 : c]!;
    const q = Math.min(INT32_MAX, Math.max(INT32_MIN, roundHalfAway(bias[c]! / s)));
    codes[c] = q;
    out[c] = q * s;
  }
  return { bias: out, biasCodes: codes };
}
