/**
 * The dynamic-range record (`SourceQuantization`, import/types.ts) as stored in a model directory's
 * `qrobust.json` under `sourceQuantization`, and its pairing with the directory's layer graph: every recorded
 * layer names a dense step (by its position among the graph's weight steps) whose float kernel holds the
 * dequantized weights; the integer codes are recovered from it and must reproduce it exactly.
 */
import { QrobustError } from '../../core/errors.js';
import type { DynamicRangeLayer, FullIntegerLayer, SourceQuantization, TensorGrid } from '../../import/types.js';
import { isWeightStep, type DenseStep, type LayerGraph } from '../../models/graph.js';
import type { ModelMetadata } from '../../models/metadata.js';
import { roundHalfAway } from '../rounding.js';
import type { HybridDenseLayer } from './hybrid-dense.js';

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
  if (l.inputQuantization !== 'symmetric' && l.inputQuantization !== 'asymmetric') throw bad(where, `layer ${i}: inputQuantization must be symmetric or asymmetric`);
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
 * The integer form of a dense step: codes `round(w / scale) + zp`, which must give back every float weight
 * exactly (`(q − zp) · scale` in float32) and fit in int8.
 * @throws QrobustError('weights_mismatch') when the float weights are not on the recorded grid,
 *   QrobustError('not_integer_executable') for a nonzero weight zero point (TFLite's int8 hybrid weights are symmetric).
 */
export function hybridDenseLayer(step: DenseStep, l: DynamicRangeLayer): HybridDenseLayer {
  const [inSize, units] = step.kernelShape;
  const channels = l.weightScale.length;
  if (channels !== 1 && channels !== units) throw new QrobustError('weights_mismatch', `hybrid layer '${l.node}': ${channels} weight scales for ${units} output units`);
  if (l.weightZeroPoint.some((z) => z !== 0)) throw new QrobustError('not_integer_executable', `hybrid layer '${l.node}': weight zero points must be 0 (symmetric int8 weights)`);
  const weightScale = Float32Array.from(l.weightScale);
  const weights = new Int8Array(inSize * units);
  for (let i = 0; i < inSize; i++) {
    for (let o = 0; o < units; o++) {
      const w = step.kernel[i * units + o]!;
      const s = weightScale[channels === 1 ? 0 : o]!;
      const q = roundHalfAway(w / s);
      if (q < -128 || q > 127 || Math.fround(q * s) !== w) {
        throw new QrobustError('weights_mismatch', `hybrid layer '${l.node}' (step '${step.name}'): weight [${i},${o}] = ${w} is not on the int8 grid of scale ${s}`);
      }
      weights[o * inSize + i] = q;
    }
  }
  const activation = step.activation === 'relu' ? ({ kind: 'relu' } as const) : ({ kind: 'linear' } as const);
  return { inSize, units, weights, weightScale, bias: step.bias, activation, inputQuantization: l.inputQuantization };
}
