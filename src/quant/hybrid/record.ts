/**
 * The dynamic-range record (`SourceQuantization`, import/types.ts) as stored in a model directory's
 * `qrobust.json` under `sourceQuantization`, and its pairing with the directory's layer graph: every recorded
 * layer names a dense step (by its position among the graph's weight steps) whose float kernel holds the
 * dequantized weights; the integer codes are recovered from it and must reproduce it exactly.
 */
import { QrobustError } from '../../core/errors.js';
import { DYNAMIC_INPUT_QUANTIZATIONS, type DynamicRangeLayer, type FullIntegerLayer, type SourceQuantization, type TensorGrid } from '../../import/types.js';
import { isWeightStep, type Conv2DStep, type DenseStep, type LayerGraph } from '../../models/graph.js';
import { windowGeometry } from '../../models/window.js';
import type { ModelMetadata } from '../../models/metadata.js';
import { roundHalfAway } from '../rounding.js';
import type { HybridConvLayer } from './hybrid-conv.js';
import type { HybridActivation, HybridDenseLayer } from './hybrid-dense.js';

/** The `qrobust.json` field that holds a source's run-time quantization. */
export const SOURCE_QUANTIZATION_FIELD = 'sourceQuantization';

function bad(where: string, why: string): QrobustError {
  return new QrobustError('not_a_model', `${where}: invalid ${SOURCE_QUANTIZATION_FIELD} (${why})`);
}

function numbers(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function checkScales(l: { weightScale?: unknown }, i: number, where: string): void {
  if (!numbers(l.weightScale) || l.weightScale.length === 0 || !l.weightScale.every((s) => s > 0)) throw bad(where, `layer ${i}: weightScale must be positive numbers`);
}

function checkCommon(l: { node?: unknown; weightIndex?: unknown; weightBits?: unknown }, i: number, where: string): void {
  if (typeof l.node !== 'string' || !Number.isInteger(l.weightIndex) || (l.weightIndex as number) < 0) throw bad(where, `layer ${i} needs node and weightIndex`);
  if (l.weightBits !== 8) throw bad(where, `layer ${i}: only 8-bit weights are supported`);
}

function checkDynamicLayer(l: Partial<DynamicRangeLayer>, i: number, where: string): DynamicRangeLayer {
  checkCommon(l, i, where);
  checkScales(l, i, where);
  if (l.inputBits !== 8) throw bad(where, `layer ${i}: only 8-bit inputs are supported`);
  if (!numbers(l.weightZeroPoint) || l.weightZeroPoint.length !== l.weightScale!.length) throw bad(where, `layer ${i}: weightZeroPoint must match weightScale`);
  if (!DYNAMIC_INPUT_QUANTIZATIONS.includes(l.inputQuantization!)) throw bad(where, `layer ${i}: inputQuantization must be one of ${DYNAMIC_INPUT_QUANTIZATIONS.join(', ')}`);
  return l as DynamicRangeLayer;
}

function checkGrid(g: Partial<TensorGrid> | undefined, what: string, where: string): TensorGrid {
  if (!g || g.bits !== 8 || !(typeof g.scale === 'number' && g.scale > 0) || !Number.isInteger(g.zeroPoint) || g.zeroPoint! < -128 || g.zeroPoint! > 127) {
    throw bad(where, `${what} must be an 8-bit grid with a positive scale and an int8 zero point`);
  }
  return g as TensorGrid;
}

function checkIntegerLayer(l: Partial<FullIntegerLayer>, i: number, where: string): FullIntegerLayer {
  checkCommon(l, i, where);
  checkScales(l, i, where);
  checkGrid(l.output, `layer ${i} output`, where);
  return l as FullIntegerLayer;
}

/**
 * Validates a stored record.
 * @throws QrobustError('not_a_model') naming `where` and the first problem.
 */
export function parseSourceQuantization(value: unknown, where: string): SourceQuantization {
  const v = value as { kind?: unknown; version?: unknown; runtime?: unknown; layers?: unknown; input?: Partial<TensorGrid> } | null;
  if (typeof v !== 'object' || v === null) throw bad(where, 'not an object');
  if ((v.kind !== 'dynamic-range' && v.kind !== 'full-integer') || v.version !== 1) {
    throw bad(where, `kind ${JSON.stringify(v.kind)} version ${JSON.stringify(v.version)}; expected dynamic-range or full-integer, version 1`);
  }
  if (typeof v.runtime !== 'string' || !Array.isArray(v.layers)) throw bad(where, 'needs runtime and layers');
  if (v.kind === 'dynamic-range') {
    const layers = v.layers.map((l, i) => checkDynamicLayer(l as Partial<DynamicRangeLayer>, i, where));
    return { kind: 'dynamic-range', version: 1, runtime: v.runtime, layers };
  }
  const layers = v.layers.map((l, i) => checkIntegerLayer(l as Partial<FullIntegerLayer>, i, where));
  return { kind: 'full-integer', version: 1, runtime: v.runtime, input: checkGrid(v.input, 'input', where), layers };
}

/** The record of a model directory, or undefined when it has none. */
export function sourceQuantizationOf(meta: ModelMetadata, where = 'qrobust.json'): SourceQuantization | undefined {
  const v = meta[SOURCE_QUANTIZATION_FIELD];
  return v === undefined ? undefined : parseSourceQuantization(v, where);
}

/** The recorded layer of each weight step of `graph` (undefined: the step computes in float). */
export function layersByStep<L extends { readonly node: string; readonly weightIndex: number }>(graph: LayerGraph, layers: readonly L[]): Map<number, L> {
  const weightSteps = graph.steps.map((s, i) => (isWeightStep(s) ? i : -1)).filter((i) => i >= 0);
  const out = new Map<number, L>();
  for (const l of layers) {
    const step = weightSteps[l.weightIndex];
    if (step === undefined) throw new QrobustError('weights_mismatch', `recorded layer '${l.node}' is weight layer ${l.weightIndex}, the model has ${weightSteps.length}`);
    out.set(step, l);
  }
  return out;
}

/**
 * A weight kernel `[..., out]` (output channel last) as integer codes minus their zero point, `[out][rest]`:
 * `round(w / scale)` must give back every float weight exactly (`(q − zp) · scale` in float32), and the code
 * `q` must fit in int8. TFLite's hybrid weights are symmetric (zero point 0); ONNX Runtime's may have one.
 * @throws QrobustError('weights_mismatch') when a weight is not on the recorded grid,
 *   QrobustError('not_integer_executable') for a nonzero zero point in a TFLite record.
 */
function weightOffsets(kernel: Float32Array, units: number, l: DynamicRangeLayer, step: string): { weights: Int16Array; weightScale: Float32Array } {
  const channels = l.weightScale.length;
  if (channels !== 1 && channels !== units) throw new QrobustError('weights_mismatch', `hybrid layer '${l.node}': ${channels} weight scales for ${units} output units`);
  if (l.inputQuantization !== 'dynamic-quantize-linear' && l.weightZeroPoint.some((z) => z !== 0)) {
    throw new QrobustError('not_integer_executable', `hybrid layer '${l.node}': weight zero points must be 0 (symmetric int8 weights)`);
  }
  const weightScale = Float32Array.from(l.weightScale);
  const rest = kernel.length / units;
  const weights = new Int16Array(kernel.length);
  for (let i = 0; i < rest; i++) {
    for (let o = 0; o < units; o++) {
      const w = kernel[i * units + o]!;
      const c = channels === 1 ? 0 : o;
      const s = weightScale[c]!;
      const offset = roundHalfAway(w / s);
      const code = offset + l.weightZeroPoint[c]!;
      if (code < -128 || code > 127 || Math.fround(offset * s) !== w) {
        throw new QrobustError('weights_mismatch', `hybrid layer '${l.node}' (step '${step}'): weight [${i},${o}] = ${w} is not on the int8 grid of scale ${s}`);
      }
      weights[o * rest + i] = offset;
    }
  }
  return { weights, weightScale };
}

function hybridActivation(step: DenseStep | Conv2DStep): HybridActivation {
  return step.activation === 'relu' ? { kind: 'relu' } : { kind: 'linear' };
}

/**
 * The integer form of a dense step (see `weightOffsets`).
 * @throws like `weightOffsets`.
 */
export function hybridDenseLayer(step: DenseStep, l: DynamicRangeLayer): HybridDenseLayer {
  const [inSize, units] = step.kernelShape;
  const { weights, weightScale } = weightOffsets(step.kernel, units, l, step.name);
  return { inSize, units, weights, weightScale, bias: step.bias, activation: hybridActivation(step), inputQuantization: l.inputQuantization };
}

/**
 * The integer form of a conv2d step (ONNX Runtime's ConvInteger, TFLite's hybrid CONV_2D: `hybrid-conv.ts`).
 * @throws like `weightOffsets`.
 */
export function hybridConvLayer(step: Conv2DStep, l: DynamicRangeLayer): HybridConvLayer {
  const { weights, weightScale } = weightOffsets(step.kernel, step.kernelShape[3], l, step.name);
  return {
    ...windowGeometry(step),
    weights,
    weightScale,
    bias: step.bias,
    activation: hybridActivation(step),
    inputQuantization: l.inputQuantization,
  };
}
