/**
 * Post-training quantization: a float model plus a `QuantSpec` (plus calibration images when activations are
 * quantized) gives a `QuantizedModel`, from which the fake-quant and integer-exact classifiers are built.
 *
 * - Weights: min-max ranges (per tensor or per output channel), binary or ternary codes, or float16; the first
 *   and last weight layers follow `spec.firstLast`.
 * - Input: an affine grid over the image of the model's pixel range under the `Normalize` step (known exactly,
 *   no calibration).
 * - Activations: calibrated on the model with quantized weights and float activations (one pass), by min-max,
 *   percentile or MSE (`calibration.ts`), as TFLite's post-training calibration does on representative data;
 *   DoReFa activations after a ReLU have the fixed range [0, 1] instead.
 */
import { tf } from '../backend/tf.js';
import { QrobustError } from '../core/errors.js';
import { makeBatch, type ImageRecords } from '../models/batch.js';
import { graphFromModel, weightStepIndices, type LayerGraph } from '../models/graph.js';
import type { LoadedModel } from '../models/io.js';
import type { ModelMetadata } from '../models/metadata.js';
import { ActivationObserver, calibratedRange } from './calibration.js';
import { IntegerClassifier } from './integer/integer-classifier.js';
import type { CompileOptions } from './integer/program.js';
import { prepareGraph, type LayerQuantParams, type QuantPlan } from './plan.js';
import { FakeQuantClassifier, type FakeQuantClassifierOptions } from './quantized-classifier.js';
import { paramsFromRanges, type QuantParams } from './quantizer.js';
import { assertInferenceSpec, layerWeightSpec, logitsBits, specLabel, type QuantSpec } from './spec.js';
import { weightRecord } from './weights.js';

/** What calibration ran on (recorded in `qrobust.json`). */
export interface CalibrationRecord {
  readonly method: string;
  readonly percentile?: number;
  /** Number of calibration images. */
  readonly n: number;
  /** Where the images came from, e.g. `{ dataset: 'mnist', split: 'train', seed: 0 }` (set by the caller). */
  readonly source?: Readonly<Record<string, unknown>>;
}

export interface CalibrationOptions {
  /** Images per forward pass (default 100). */
  readonly batchSize?: number;
  /** Values kept per tensor for percentile and MSE (default 2^20). */
  readonly maxSamples?: number;
  /** Reservoir seed (default 0). */
  readonly seed?: number;
  /** Recorded as `calibration.source`. */
  readonly source?: Readonly<Record<string, unknown>>;
}

/** A quantized model: the float graph, the spec, and the resolved quantizer parameters. */
export interface QuantizedModel {
  readonly graph: LayerGraph;
  readonly spec: QuantSpec;
  readonly plan: QuantPlan;
  /** The parent model's metadata. */
  readonly meta: ModelMetadata;
  readonly calibration: CalibrationRecord | null;
  /** A short label such as `w4-pc` or `w8-a8-in8`. */
  readonly label: string;
}

/** The input grid: `inputs.bits` affine over the normalized image of the pixel range (per-tensor). */
export function inputParams(graph: LayerGraph, inputRange: readonly [number, number], bits: number): QuantParams {
  const first = graph.steps[0];
  let lo = inputRange[0];
  let hi = inputRange[1];
  if (first?.kind === 'normalize') {
    // The float32 arithmetic of the normalize step, so the extreme pixels land exactly on the range ends.
    const f = Math.fround;
    const ends = first.mean.flatMap((m, c) => [inputRange[0], inputRange[1]].map((v) => f(f(f(v) - f(m)) * f(1 / first.std[c]!))));
    lo = Math.min(...ends);
    hi = Math.max(...ends);
  }
  return paramsFromRanges([lo], [hi], bits, 'affine', 'per-tensor');
}

/** Quantizes every weight layer of a graph under the spec's first/last policy (no activation quantizers). */
export function weightPlan(graph: LayerGraph, spec: QuantSpec): LayerQuantParams[] {
  const idx = weightStepIndices(graph);
  return idx.map((step, i) => {
    const s = graph.steps[step]!;
    if (s.kind !== 'conv2d' && s.kind !== 'dense') throw new Error('unreachable');
    const ws = layerWeightSpec(spec, { first: i === 0, last: i === idx.length - 1 });
    return { step, name: s.name, weights: ws ? weightRecord(s.kernel, s.kernelShape, ws, `layer '${s.name}'`) : null, output: null };
  });
}

/**
 * The fixed output range of a weight step, when the spec gives it one instead of calibration: [0, 1] for a step
 * with a fused ReLU under DoReFa activations (`q_k(clip(x, 0, 1))`); null otherwise.
 */
export function fixedActivationRange(graph: LayerGraph, step: number, spec: QuantSpec): readonly [number, number] | null {
  const s = graph.steps[step];
  if (spec.activations?.kind !== 'dorefa' || !s || (s.kind !== 'conv2d' && s.kind !== 'dense')) return null;
  return s.activation === 'relu' ? [0, 1] : null;
}

function calibrate(
  graph: LayerGraph,
  spec: QuantSpec,
  base: QuantPlan,
  data: ImageRecords,
  options: CalibrationOptions,
): LayerQuantParams[] {
  const act = spec.activations!;
  const idx = weightStepIndices(graph);
  const last = idx[idx.length - 1];
  const lastBits = logitsBits(spec);
  // Min-max needs only the extremes: no reservoir.
  const samples = act.calibration.method === 'minmax' ? 0 : options.maxSamples;
  const observers = new Map(idx.filter((s) => s !== last || lastBits !== null).map((s) => [s, new ActivationObserver(samples, options.seed)]));
  const classifier = new FakeQuantClassifier(graph, base, { gradient: 'ste' });
  try {
    const batchSize = options.batchSize ?? 100;
    for (let s = 0; s < data.count; s += batchSize) {
      const n = Math.min(batchSize, data.count - s);
      const batch = makeBatch(data, Int32Array.from({ length: n }, (_, i) => s + i));
      tf.tidy(() => {
        classifier.run(batch.x, (step, out) => observers.get(step)?.observe(out.dataSync() as Float32Array));
      });
      tf.dispose([batch.x, batch.labels]);
    }
  } finally {
    classifier.dispose();
  }
  return base.layers.map((l) => {
    const obs = observers.get(l.step);
    if (!obs) return l;
    const bits = l.step === last ? lastBits! : act.bits;
    const fixed = fixedActivationRange(graph, l.step, spec);
    if (fixed) return { ...l, output: paramsFromRanges([fixed[0]], [fixed[1]], bits, act.scheme, 'per-tensor') };
    const r = calibratedRange(obs, act.calibration, bits, act.scheme);
    return { ...l, output: paramsFromRanges([r.min], [r.max], bits, act.scheme, 'per-tensor') };
  });
}

/**
 * Calibrates the activation quantizers of `spec` on a plan that already holds the weight records (and input
 * grid) to calibrate with; quantization-aware training uses it to start from its own weight grids.
 * @throws QrobustError('invalid_quant_spec') when the spec quantizes no activations or no images are given.
 */
export function calibrateActivations(
  graph: LayerGraph,
  spec: QuantSpec,
  base: QuantPlan,
  data: ImageRecords,
  options: CalibrationOptions = {},
): QuantPlan {
  if (!spec.activations) throw new QrobustError('invalid_quant_spec', 'the spec quantizes no activations: nothing to calibrate');
  if (data.count === 0) throw new QrobustError('invalid_quant_spec', 'quantizing activations needs calibration images (none were given)');
  return { input: base.input, layers: calibrate(graph, spec, base, data, options) };
}

/**
 * Post-training quantization of a graph.
 * @param inputRange the model's pixel range (metadata `preprocessing.inputRange`).
 * @param calibrationData images to calibrate activation ranges on; required when `spec.activations` is set.
 * @throws QrobustError('invalid_quant_spec') for a training-only spec or missing calibration data.
 */
export function quantizeGraph(
  graph: LayerGraph,
  inputRange: readonly [number, number],
  spec: QuantSpec,
  calibrationData?: ImageRecords,
  options: CalibrationOptions = {},
): { plan: QuantPlan; calibration: CalibrationRecord | null } {
  assertInferenceSpec(spec);
  const input = spec.inputs ? inputParams(graph, inputRange, spec.inputs.bits) : null;
  const base: QuantPlan = { input, layers: weightPlan(graph, spec) };
  if (!spec.activations) return { plan: base, calibration: null };
  if (!calibrationData || calibrationData.count === 0) {
    throw new QrobustError('invalid_quant_spec', 'quantizing activations needs calibration images (none were given)');
  }
  const layers = calibrate(graph, spec, base, calibrationData, options);
  const c = spec.activations.calibration;
  const calibration: CalibrationRecord = {
    method: c.method,
    ...(c.method === 'percentile' ? { percentile: c.percentile } : {}),
    n: calibrationData.count,
    ...(options.source ? { source: options.source } : {}),
  };
  return { plan: { input, layers }, calibration };
}

/**
 * Post-training quantization of a loaded model (see `quantizeGraph`). The layers model itself is not changed.
 * @example
 *   const qm = quantizeModel(await loadModel(dir), makeQuantSpec({ weights: { bits: 4 } }));
 *   const clf = fakeQuantClassifier(qm, { gradient: 'ste' });
 */
export function quantizeModel(
  loaded: Pick<LoadedModel, 'model' | 'meta'>,
  spec: QuantSpec,
  calibrationData?: ImageRecords,
  options: CalibrationOptions = {},
): QuantizedModel {
  if (loaded.meta['quantization'] !== undefined) {
    throw new QrobustError('invalid_argument', 'this model is already quantized: quantize its parent (the full-precision model) instead');
  }
  const graph = graphFromModel(loaded.model);
  const inputRange = loaded.meta.preprocessing?.inputRange ?? [0, 1];
  const { plan, calibration } = quantizeGraph(graph, inputRange, spec, calibrationData, options);
  return { graph, spec, plan, meta: loaded.meta, calibration, label: specLabel(spec) };
}

/** The model's valid input range. */
export function boundsOf(meta: ModelMetadata): readonly [number, number] {
  return meta.preprocessing?.inputRange ?? [0, 1];
}

/** The fake-quant classifier of a quantized model (gradient default 'ste'). */
export function fakeQuantClassifier(qm: QuantizedModel, options: FakeQuantClassifierOptions = {}): FakeQuantClassifier {
  return new FakeQuantClassifier(qm.graph, qm.plan, {
    bounds: boundsOf(qm.meta),
    description: `${qm.label} fake-quant (${options.gradient ?? 'ste'})`,
    ...options,
  });
}

/**
 * The integer-exact classifier of a quantized model.
 * @throws QrobustError('not_integer_executable') when the spec has no integer form (float or float16 weights,
 *   unquantized input or activations).
 */
export function integerClassifier(qm: QuantizedModel, options: CompileOptions = {}): IntegerClassifier {
  const rounding = options.rounding ?? 'double';
  return new IntegerClassifier(prepareGraph(qm.graph, qm.plan), boundsOf(qm.meta), `${qm.label} integer (${rounding} rounding)`, { rounding });
}

/** Whether the integer path can run a quantized model. */
export function isIntegerExecutable(qm: QuantizedModel): boolean {
  try {
    integerClassifier(qm);
    return true;
  } catch (e) {
    if (e instanceof QrobustError && e.code === 'not_integer_executable') return false;
    throw e;
  }
}
