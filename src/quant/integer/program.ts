/**
 * Compiles a prepared (quantized) layer graph into an integer program: the deployed semantics of a fully
 * integer-quantized model as TFLite and ONNX Runtime compute it (Jacob et al. 2018, arXiv 1712.05877).
 *
 * - The input: pixels go through the float `Normalize` step and are then quantized once (TFLite's QUANTIZE op on
 *   the tensor the first layer sees). Normalize is not folded into the first layer: folding is inexact for a
 *   'same'-padded convolution (its zero padding is in normalized space), and quantizing its output keeps one
 *   rule for every architecture. With 8 bits and the input grid set from the pixel range, every pixel value
 *   k/255 gets its own code.
 * - conv2d/dense: integer codes (q_w − zp_w) times (q_x − zp_x) accumulated in int32, plus the int32 bias
 *   (scale s_in·s_w), then requantized with the fixed-point multiplier of M = s_in·s_w / s_out (per output
 *   channel when the weights are per channel), plus the output zero point, clamped to [qmin, qmax]; a fused
 *   ReLU is the clamp at the zero point. The requantization rounds twice by default, as TFLite's default build
 *   does; with small accumulators and small right shifts (low-bit weights and activations) this is biased by up
 *   to one code against exact rounding, which is a real difference between deployed and simulated models.
 *   `rounding: 'single'` gives TFLite Micro's single-rounding form instead.
 * - maxPool, flatten and ReLU steps act on the codes directly (the affine map is monotone).
 * - The logits are dequantized at the end.
 */
import { QrobustError } from '../../core/errors.js';
import type { Conv2DStep, DenseStep } from '../../models/graph.js';
import { windowGeometry, type WindowGeometry } from '../../models/window.js';
import type { PreparedGraph, PreparedStep } from '../plan.js';
import type { QuantParams } from '../quantizer.js';
import { recordParams } from '../weights.js';
import { quantizeMultiplier, type RequantRounding } from './fixed-point.js';

/** The float prologue: normalize (optional) then quantize to the input grid. */
export interface QuantizeInputOp {
  readonly op: 'quantizeInput';
  /** Float32 mean and 1/std per channel (length 1 or C), or null when the graph has no normalize step. */
  readonly mean: Float32Array | null;
  readonly invStd: Float32Array | null;
  readonly params: QuantParams;
  readonly size: number;
  readonly channels: number;
}

/** Requantization of an int32 accumulator to the output grid. */
export interface Requant {
  /** Per output channel (length 1 when the weights are per tensor). */
  readonly multiplier: Int32Array;
  readonly shift: Int32Array;
  readonly outZeroPoint: number;
  /** Clamp bounds: [qmin, qmax], or [max(qmin, zp), qmax] with a fused ReLU. */
  readonly lo: number;
  readonly hi: number;
  readonly rounding: RequantRounding;
  /**
   * The float32 multipliers fround(fround(s_in·s_w)/s_out) per output channel, which the 'onnxruntime' rounding
   * uses (in ONNX Runtime's order of operations).
   */
  readonly realMultiplier: Float32Array;
}

/** The real-valued grids of a weight layer, for exporting it (e.g. as ONNX QLinearConv) with its exact parameters. */
export interface OpGrids {
  readonly inputScale: number;
  /** Per output channel (length 1 when the weights are per tensor). */
  readonly weightScale: Float32Array;
  readonly weightZeroPoint: Int32Array;
  readonly outputScale: number;
}

export interface IntDenseOp {
  readonly op: 'dense';
  readonly name: string;
  readonly inSize: number;
  readonly outSize: number;
  /** Weight codes minus their zero point, transposed to [out][in] (small integers held as doubles, for speed). */
  readonly weights: Float64Array;
  readonly bias: Int32Array;
  readonly inZeroPoint: number;
  readonly requant: Requant;
  readonly grids: OpGrids;
}

export interface IntConvOp extends WindowGeometry {
  readonly op: 'conv2d';
  readonly name: string;
  /** Weight codes minus their zero point as [co][kh·kw·ci] (small integers held as doubles, for speed). */
  readonly weights: Float64Array;
  readonly bias: Int32Array;
  readonly inZeroPoint: number;
  readonly requant: Requant;
  readonly grids: OpGrids;
}

/** Max pooling on codes; its window is `pool` (the geometry's `kernel`). */
export interface IntMaxPoolOp extends Omit<WindowGeometry, 'kernel'> {
  readonly op: 'maxPool';
  readonly pool: readonly [number, number];
}

export interface IntReluOp {
  readonly op: 'relu';
  readonly zeroPoint: number;
}

export type IntOp = IntDenseOp | IntConvOp | IntMaxPoolOp | IntReluOp;

export interface IntegerProgram {
  /** The requantization rounding (TFLite's default 'double', 'single' as TFLite Micro builds it, 'onnxruntime', or exact 'half-away'). */
  readonly rounding: RequantRounding;
  readonly inputShape: readonly [number, number, number];
  readonly prologue: QuantizeInputOp;
  readonly ops: readonly IntOp[];
  /** The logits grid, for the final dequantization. */
  readonly output: QuantParams;
  readonly outputSize: number;
}

function notInteger(why: string): QrobustError {
  return new QrobustError('not_integer_executable', `the integer path cannot run this model: ${why}`);
}

export interface CompileOptions {
  /** Requantization rounding (default 'double', TFLite's default build). */
  readonly rounding?: RequantRounding;
}

/**
 * Builds the integer program.
 * @throws QrobustError('not_integer_executable') when a layer keeps float or float16 weights, a weight layer has
 *   no quantized input or output, the input is not quantized, or a normalize step is not the first step.
 */
export function compileIntegerProgram(prep: PreparedGraph, options: CompileOptions = {}): IntegerProgram {
  const g = prep.graph;
  const rounding = options.rounding ?? 'double';
  if (!prep.input) throw notInteger('the input is not quantized (set inputs in the spec)');
  const first = g.steps[0];
  const hasNormalize = first?.kind === 'normalize';
  const channels = g.inputShape[2];
  const prologue: QuantizeInputOp = {
    op: 'quantizeInput',
    mean: hasNormalize ? Float32Array.from(first.mean) : null,
    invStd: hasNormalize ? Float32Array.from(first.std, (s) => 1 / s) : null,
    params: prep.input,
    size: g.inputShape[0] * g.inputShape[1] * channels,
    channels,
  };
  const ops: IntOp[] = [];
  let zeroPoint = prep.input.zeroPoint[0]!;
  let output: QuantParams = prep.input;
  prep.steps.forEach((ps, i) => {
    const s = ps.step;
    switch (s.kind) {
      case 'normalize':
        if (i !== 0) throw notInteger(`normalize step '${s.name}' is not the first step`);
        return;
      case 'flatten':
        return;
      case 'relu':
        ops.push({ op: 'relu', zeroPoint });
        return;
      case 'maxPool': {
        const { kernel, ...g } = windowGeometry(s);
        ops.push({ op: 'maxPool', ...g, pool: kernel });
        return;
      }
      case 'conv2d':
      case 'dense': {
        const op = compileWeightStep(ps, s, rounding);
        ops.push(op);
        output = ps.output!;
        zeroPoint = output.zeroPoint[0]!;
        return;
      }
    }
  });
  // The logits grid is that of the last quantized tensor (a trailing relu, pool or flatten keeps it).
  return { rounding, inputShape: g.inputShape, prologue, ops, output, outputSize: g.outputSize };
}

function compileWeightStep(ps: PreparedStep, s: Conv2DStep | DenseStep, rounding: RequantRounding): IntDenseOp | IntConvOp {
  if (!ps.kernel || !ps.kernel.codes) {
    throw notInteger(`layer '${s.name}' has ${ps.kernel ? 'float16' : 'float'} weights`);
  }
  if (!ps.inputParams) throw notInteger(`the input of layer '${s.name}' is not quantized`);
  if (!ps.output) throw notInteger(`the output of layer '${s.name}' is not quantized`);
  const wp = recordParams(ps.kernel.record)!;
  const co = s.kernelShape[s.kernelShape.length - 1]!;
  const k = s.kernel.length / co;
  // Transpose [k][co] to [co][k], subtracting the weight zero point.
  const weights = new Float64Array(s.kernel.length);
  const codes = ps.kernel.codes;
  const perChannel = wp.scale.length > 1;
  for (let i = 0; i < k; i++) {
    for (let c = 0; c < co; c++) weights[c * k + i] = codes[i * co + c]! - wp.zeroPoint[perChannel ? c : 0]!;
  }
  const sIn = ps.inputParams.scale[0]!;
  const sOut = ps.output.scale[0]!;
  const multiplier = new Int32Array(wp.scale.length);
  const shift = new Int32Array(wp.scale.length);
  const realMultiplier = new Float32Array(wp.scale.length);
  wp.scale.forEach((sw, c) => {
    const m = quantizeMultiplier((sIn * sw) / sOut);
    // Exact fixed-point rounding needs acc · M exact in float64: M a power of two (the Q31 multiplier 2^30).
    if (rounding === 'half-away' && m.multiplier !== 2 ** 30) {
      throw notInteger(`layer '${s.name}': 'half-away' requantization needs s_in·s_w/s_out to be a power of two, got ${(sIn * sw) / sOut}`);
    }
    multiplier[c] = m.multiplier;
    shift[c] = m.shift;
    realMultiplier[c] = Math.fround(Math.fround(sIn * sw) / sOut);
  });
  const outZeroPoint = ps.output.zeroPoint[0]!;
  const requant: Requant = {
    multiplier,
    shift,
    outZeroPoint,
    lo: s.activation === 'relu' ? Math.max(ps.output.qmin, outZeroPoint) : ps.output.qmin,
    hi: ps.output.qmax,
    rounding,
    realMultiplier,
  };
  const bias = ps.biasCodes!;
  const inZeroPoint = ps.inputParams.zeroPoint[0]!;
  const grids: OpGrids = {
    inputScale: sIn,
    weightScale: Float32Array.from(wp.scale),
    weightZeroPoint: Int32Array.from(wp.zeroPoint),
    outputScale: sOut,
  };
  if (s.kind === 'dense') {
    return { op: 'dense', name: s.name, inSize: s.kernelShape[0], outSize: co, weights, bias, inZeroPoint, requant, grids };
  }
  return {
    op: 'conv2d',
    name: s.name,
    ...windowGeometry(s),
    weights,
    bias,
    inZeroPoint,
    requant,
    grids,
  };
}
