/**
 * `QuantSpec`: what is quantized and how, one JSON-serialisable value shared by post-training quantization,
 * the fake-quant and integer paths, the CLI and `qrobust.json`.
 *
 * - **weights** of every conv2d/dense kernel: `uniform` k-bit (1..8) on a symmetric (zero point 0, narrow
 *   range ±(2^(k-1)-1) like TFLite int8 weights) or affine grid, per tensor or per output channel; `binary`
 *   (sign(w) × α, α = mean |w| per output channel, XNOR-Net: Rastegari et al. 2016, arXiv 1603.05279);
 *   `ternary` (TWN: Li et al. 2016, arXiv 1605.04711: Δ = 0.7·mean|w|, α = mean of |w| over |w| > Δ);
 *   `dorefa` k-bit (DoReFa-Net: Zhou et al. 2016, arXiv 1606.06160:
 *   `α · (2·q_k(tanh(w)/(2·max|tanh w|) + 1/2) − 1)`, 2^k levels and no zero level; the scale α = max|w| per
 *   tensor or channel is ours: the original relies on
 *   batch normalization, which the zoo has none of, and with α the quantizer tends to the identity for small
 *   weights as k grows); or `float16`. Biases are never quantized on their own: where the layer input is
 *   quantized, the bias is put on the int32 grid of scale s_in·s_w (Jacob et al. 2018, arXiv 1712.05877).
 * - **activations**: the output of every conv2d/dense step (after its fused activation), including the logits
 *   unless the first/last policy says otherwise; ranges come from calibration (min-max, percentile or MSE).
 *   With `kind: 'dorefa'` the outputs with a fused ReLU are DoReFa's `q_k(clip(x, 0, 1))` instead (a fixed
 *   affine grid over [0, 1], no calibration; 1 bit gives binary {0, 1} activations); the logits, which are
 *   signed, are still calibrated. `kind` is left out of the spec when it is `uniform`.
 * - **inputs**: the network input as the first layer sees it (the output of the `Normalize` step), on an
 *   affine grid over the image of the model's pixel range; no calibration is needed.
 * - **firstLast**: what happens to the first and last weight layers, which low-bit papers (DoReFa: Zhou et al.
 *   2016, arXiv 1606.06160; XNOR-Net) keep at higher precision: `same` (the spec applies everywhere), `8-bit`
 *   (their weights and the logits quantizer use 8 bits) or `keep-float` (their weights and the logits stay
 *   float; such a model has no integer-exact form).
 */
import { QrobustError } from '../core/errors.js';

export type QuantScheme = 'symmetric' | 'affine';
export type Granularity = 'per-tensor' | 'per-channel';
export type WeightKind = 'uniform' | 'binary' | 'ternary' | 'dorefa';
export type ActivationKind = 'uniform' | 'dorefa';
export type Rounding = 'nearest' | 'stochastic';
export type FirstLastPolicy = 'keep-float' | '8-bit' | 'same';
export type WeightBits = number | 'float16';

export type CalibrationSpec =
  | { readonly method: 'minmax' }
  /** Clip to the p-th percentile (and the (100-p)-th below), e.g. 99.99. */
  | { readonly method: 'percentile'; readonly percentile: number }
  /** The range whose fake-quantization has the least mean squared error on the calibration values. */
  | { readonly method: 'mse' };
export type CalibrationMethod = CalibrationSpec['method'];

export interface WeightQuantSpec {
  readonly bits: WeightBits;
  readonly scheme: QuantScheme;
  readonly granularity: Granularity;
  readonly kind: WeightKind;
}

export interface ActivationQuantSpec {
  /** Absent means `uniform` (calibrated ranges); `dorefa`: ReLU outputs on the fixed grid over [0, 1]. */
  readonly kind?: ActivationKind;
  readonly bits: number;
  readonly scheme: QuantScheme;
  readonly calibration: CalibrationSpec;
}

export interface InputQuantSpec {
  readonly bits: number;
}

export interface QuantSpec {
  readonly weights: WeightQuantSpec | null;
  readonly activations: ActivationQuantSpec | null;
  readonly inputs: InputQuantSpec | null;
  /** `stochastic` only for training (QAT); inference and PTQ round to nearest (half away from zero). */
  readonly rounding: Rounding;
  readonly firstLast: FirstLastPolicy;
}

export const WEIGHT_DEFAULTS: WeightQuantSpec = { bits: 8, scheme: 'symmetric', granularity: 'per-tensor', kind: 'uniform' };
export const ACTIVATION_DEFAULTS: ActivationQuantSpec = { bits: 8, scheme: 'affine', calibration: { method: 'minmax' } };
export const QUANT_SPEC_DEFAULTS: QuantSpec = { weights: WEIGHT_DEFAULTS, activations: null, inputs: null, rounding: 'nearest', firstLast: 'same' };

/** Options for `makeQuantSpec`: any part may be left out (defaults above) or set to null (not quantized). */
export interface QuantSpecInit {
  readonly weights?: Partial<WeightQuantSpec> | null;
  readonly activations?: (Partial<Omit<ActivationQuantSpec, 'calibration'>> & { readonly calibration?: CalibrationSpec }) | null;
  readonly inputs?: Partial<InputQuantSpec> | null;
  readonly rounding?: Rounding;
  readonly firstLast?: FirstLastPolicy;
}

function fail(message: string): never {
  throw new QrobustError('invalid_quant_spec', message);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  return fail(`${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
}

function noUnknownKeys(obj: object, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) fail(`unknown field ${field}.${k} (expected ${allowed.join(', ')})`);
}

function isBits(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 8;
}

/** The widest weight grid: weights are held as int32 codes (activations and inputs stay within 8 bits). */
export const MAX_WEIGHT_BITS = 16;

function isWeightBits(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_WEIGHT_BITS;
}

function object(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${field} must be an object or null, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

function validateWeights(v: unknown): WeightQuantSpec {
  const o = object(v, 'weights');
  noUnknownKeys(o, ['bits', 'scheme', 'granularity', 'kind'], 'weights');
  const bits = o['bits'];
  if (bits !== 'float16' && !isWeightBits(bits)) fail(`weights.bits must be an integer from 1 to ${MAX_WEIGHT_BITS} (or float16), got ${JSON.stringify(bits)}`);
  const scheme = oneOf(o['scheme'], ['symmetric', 'affine'] as const, 'weights.scheme');
  const granularity = oneOf(o['granularity'], ['per-tensor', 'per-channel'] as const, 'weights.granularity');
  const kind = oneOf(o['kind'], ['uniform', 'binary', 'ternary', 'dorefa'] as const, 'weights.kind');
  if (bits === 'float16' && kind !== 'uniform') fail(`weights.bits 'float16' needs weights.kind 'uniform', got '${kind}'`);
  if (kind === 'binary' && bits !== 1) fail(`weights.kind 'binary' needs weights.bits 1, got ${JSON.stringify(bits)}`);
  if (kind === 'ternary' && bits !== 2) fail(`weights.kind 'ternary' needs weights.bits 2, got ${JSON.stringify(bits)}`);
  if (kind !== 'uniform' && scheme === 'affine') {
    fail(`weights.kind '${kind}' is symmetric by definition (a scale times a symmetric code); weights.scheme 'affine' is not allowed`);
  }
  if (kind === 'uniform' && bits === 1) {
    fail(`weights.bits 1 needs weights.kind 'binary' (a uniform 1-bit grid has too few levels); use kind 'binary'`);
  }
  return { bits, scheme, granularity, kind };
}

function validateCalibration(v: unknown): CalibrationSpec {
  const o = object(v, 'activations.calibration');
  const method = oneOf(o['method'], ['minmax', 'percentile', 'mse'] as const, 'activations.calibration.method');
  if (method !== 'percentile') {
    noUnknownKeys(o, ['method'], 'activations.calibration');
    return { method };
  }
  noUnknownKeys(o, ['method', 'percentile'], 'activations.calibration');
  const p = o['percentile'];
  if (typeof p !== 'number' || !(p > 50 && p <= 100)) {
    fail(`activations.calibration.percentile must be a number in (50, 100], got ${JSON.stringify(p)}`);
  }
  return { method, percentile: p };
}

function validateActivations(v: unknown): ActivationQuantSpec {
  const o = object(v, 'activations');
  noUnknownKeys(o, ['kind', 'bits', 'scheme', 'calibration'], 'activations');
  const kind = o['kind'] === undefined ? 'uniform' : oneOf(o['kind'], ['uniform', 'dorefa'] as const, 'activations.kind');
  const bits = o['bits'];
  if (!isBits(bits)) fail(`activations.bits must be an integer from 1 to 8, got ${JSON.stringify(bits)}`);
  const scheme = oneOf(o['scheme'], ['symmetric', 'affine'] as const, 'activations.scheme');
  if (scheme === 'symmetric' && bits === 1) fail(`activations.bits 1 needs activations.scheme 'affine' (a symmetric 1-bit grid is {0})`);
  if (kind === 'dorefa' && scheme !== 'affine') fail(`activations.kind 'dorefa' needs activations.scheme 'affine' (its grid is [0, 1])`);
  const calibration = validateCalibration(o['calibration']);
  return kind === 'dorefa' ? { kind, bits, scheme, calibration } : { bits, scheme, calibration };
}

function validateInputs(v: unknown): InputQuantSpec {
  const o = object(v, 'inputs');
  noUnknownKeys(o, ['bits'], 'inputs');
  if (!isBits(o['bits'])) fail(`inputs.bits must be an integer from 1 to 8, got ${JSON.stringify(o['bits'])}`);
  return { bits: o['bits'] };
}

/**
 * Checks a spec read from JSON (or built by hand) and returns it as a `QuantSpec`.
 * @throws QrobustError('invalid_quant_spec') naming the field, what it expects and what it got.
 */
export function validateQuantSpec(value: unknown): QuantSpec {
  const o = object(value, 'quantization spec');
  noUnknownKeys(o, ['weights', 'activations', 'inputs', 'rounding', 'firstLast'], 'spec');
  const spec: QuantSpec = {
    weights: o['weights'] === null ? null : validateWeights(o['weights']),
    activations: o['activations'] === null ? null : validateActivations(o['activations']),
    inputs: o['inputs'] === null ? null : validateInputs(o['inputs']),
    rounding: oneOf(o['rounding'], ['nearest', 'stochastic'] as const, 'rounding'),
    firstLast: oneOf(o['firstLast'], ['keep-float', '8-bit', 'same'] as const, 'firstLast'),
  };
  if (!spec.weights && !spec.activations && !spec.inputs) fail('the spec quantizes nothing: set weights, activations or inputs');
  return spec;
}

/**
 * Fills in a partial weight spec: bits 1 means binary; binary defaults to 1 bit per output channel (XNOR-Net's
 * α per filter), ternary to 2 bits per tensor (TWN's α per layer), uniform to 8 bits symmetric per tensor.
 */
function weightInit(w: Partial<WeightQuantSpec>): WeightQuantSpec {
  const kind = w.kind ?? (w.bits === 1 ? 'binary' : 'uniform');
  const bits = w.bits ?? (kind === 'binary' ? 1 : kind === 'ternary' ? 2 : 8);
  const granularity = w.granularity ?? (kind === 'binary' ? 'per-channel' : 'per-tensor');
  return { ...WEIGHT_DEFAULTS, ...w, kind, bits, granularity };
}

/** A validated spec from partial options, defaults filled in (weights 8-bit symmetric per-tensor, nothing else). */
export function makeQuantSpec(init: QuantSpecInit = {}): QuantSpec {
  const weights = init.weights === null ? null : weightInit(init.weights ?? {});
  const activations =
    init.activations === undefined || init.activations === null ? null : { ...ACTIVATION_DEFAULTS, ...init.activations };
  const inputs = init.inputs === undefined || init.inputs === null ? null : { bits: 8, ...init.inputs };
  return validateQuantSpec({
    weights,
    activations,
    inputs,
    rounding: init.rounding ?? QUANT_SPEC_DEFAULTS.rounding,
    firstLast: init.firstLast ?? QUANT_SPEC_DEFAULTS.firstLast,
  });
}

/**
 * Rejects what post-training quantization and inference cannot use (stochastic rounding is for training).
 * @throws QrobustError('invalid_quant_spec')
 */
export function assertInferenceSpec(spec: QuantSpec): void {
  if (spec.rounding === 'stochastic') {
    fail("rounding 'stochastic' is only for training (QAT); post-training quantization and inference use 'nearest'");
  }
}

/**
 * Parses a CLI list of weight widths such as `8,4,2,1` or `8,float16`, keeping the order.
 * @throws QrobustError('invalid_quant_spec') on an empty list, a repeated width or a width outside 1..16.
 */
export function parseBitsList(text: string, field = 'bits'): WeightBits[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) fail(`--${field}: expected a comma-separated list such as 8,4,2,1, got '${text}'`);
  const out: WeightBits[] = [];
  for (const p of parts) {
    const v: WeightBits = p === 'float16' || p === 'fp16' ? 'float16' : /^\d+$/.test(p) ? Number(p) : NaN;
    if (v !== 'float16' && !isWeightBits(v)) fail(`--${field}: each width must be an integer from 1 to ${MAX_WEIGHT_BITS} (or float16), got '${p}'`);
    if (out.includes(v)) fail(`--${field}: width ${p} is listed twice`);
    out.push(v);
  }
  return out;
}

/** Where a weight layer sits, for the first/last policy. */
export interface LayerPosition {
  readonly first: boolean;
  readonly last: boolean;
}

/** The weight spec a layer gets under the first/last policy, or null when its weights stay float. */
export function layerWeightSpec(spec: QuantSpec, pos: LayerPosition): WeightQuantSpec | null {
  const w = spec.weights;
  if (!w) return null;
  if (!(pos.first || pos.last) || spec.firstLast === 'same') return w;
  if (spec.firstLast === 'keep-float') return null;
  if (w.bits === 'float16') return w;
  return { ...w, bits: 8, kind: 'uniform' };
}

/** The bit width of the logits quantizer under the first/last policy, or null when the logits stay float. */
export function logitsBits(spec: QuantSpec): number | null {
  if (!spec.activations) return null;
  switch (spec.firstLast) {
    case 'same':
      return spec.activations.bits;
    case '8-bit':
      return 8;
    case 'keep-float':
      return null;
  }
}

/** A short label for file names and tables, e.g. `w4-pc`, `wbin`, `w8-a8`, `w2-a2-in8`, `w2dr-a2dr-in8` (DoReFa). */
export function specLabel(spec: QuantSpec): string {
  const parts: string[] = [];
  const w = spec.weights;
  if (w) {
    const bits =
      w.kind === 'binary' ? 'bin' : w.kind === 'ternary' ? 'ter' : w.bits === 'float16' ? 'f16' : `${w.bits}${w.kind === 'dorefa' ? 'dr' : ''}`;
    const perChannel = w.granularity === 'per-channel' && (w.kind === 'uniform' || w.kind === 'dorefa') && w.bits !== 'float16';
    parts.push(`w${bits}${perChannel ? '-pc' : ''}${w.scheme === 'affine' ? '-aff' : ''}`);
  }
  if (spec.activations) parts.push(`a${spec.activations.bits}${spec.activations.kind === 'dorefa' ? 'dr' : ''}`);
  if (spec.inputs) parts.push(`in${spec.inputs.bits}`);
  return parts.join('-');
}
