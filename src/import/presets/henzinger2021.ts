/**
 * `--preset henzinger2021`: the fixed-point semantics of Henzinger, Lechner and Žikelić, "Scalable Verification
 * of Quantized Neural Networks" (AAAI 2021), for their MNIST/Fashion-MNIST MLPs (weights-only Keras files,
 * 784 → 64 → 32, ReLU between, the label the argmax over all 32 outputs), as their code defines it:
 *
 * - input: the 8-bit pixel p read as p/256 (unsigned, 8 fraction bits): the declared preprocessing scales
 *   pixels by 255/256 and the input grid is 1/256 with codes 0..255;
 * - weights: 6-bit signed, 5 fraction bits (1/32, codes −32..31); biases: 6-bit signed, 4 fraction bits (1/16);
 * - the hidden layer's output: 6-bit unsigned, 4 fraction bits (1/16, codes 0..63); the output layer's:
 *   6-bit signed, 4 fraction bits;
 * - quantizing a value: clip to the format's range, multiply by 2^frac, round half away from zero; every layer
 *   computes exactly in integers and rounds its output so (`RequantRounding` 'half-away': the multipliers are
 *   powers of two).
 *
 * The file's float (latent) weights are put on their grids here; the quantization record holds the grids, so
 * the integer program is exactly this fixed-point network.
 */
import { QrobustError } from '../../core/errors.js';
import type { ModelGraph } from '../../graph/model-graph.js';
import { isWeightStep, type LayerGraph } from '../../models/graph.js';
import type { LayerQuantParams, QuantPlan } from '../../quant/plan.js';
import type { QuantParams } from '../../quant/quantizer.js';
import { roundHalfAway } from '../../quant/rounding.js';
import type { QuantSpec } from '../../quant/spec.js';
import type { DeclaredPreprocessing } from '../types.js';

export const HENZINGER_ARCH = 'dense:64,32';
export const HENZINGER_PREPROCESSING: DeclaredPreprocessing = { scale: 255 / 256, mean: [0], std: [1] };

/** A signed or unsigned fixed-point format of `bits` bits with `frac` fraction bits. */
interface FixedPoint {
  readonly bits: number;
  readonly frac: number;
  readonly signed: boolean;
}

const WEIGHT: FixedPoint = { bits: 6, frac: 5, signed: true };
const BIAS: FixedPoint = { bits: 6, frac: 4, signed: true };
const HIDDEN: FixedPoint = { bits: 6, frac: 4, signed: false };
const OUTPUT: FixedPoint = { bits: 6, frac: 4, signed: true };
const INPUT: FixedPoint = { bits: 8, frac: 8, signed: false };

function codeRange(f: FixedPoint): [number, number] {
  return f.signed ? [-(2 ** (f.bits - 1)), 2 ** (f.bits - 1) - 1] : [0, 2 ** f.bits - 1];
}

/** The value of `x` in format `f`: clip, scale by 2^frac, round half away from zero, scale back (exact). */
export function toFixedPoint(x: number, f: FixedPoint): number {
  const [lo, hi] = codeRange(f);
  const scaled = Math.min(hi / 2 ** f.frac, Math.max(lo / 2 ** f.frac, x)) * 2 ** f.frac;
  return roundHalfAway(scaled) / 2 ** f.frac;
}

/** The format as a grid in qrobust's int8 convention (an unsigned format is the signed one shifted by its zero point). */
function grid(f: FixedPoint): QuantParams {
  const half = 2 ** (f.bits - 1);
  return {
    bits: f.bits,
    scheme: 'affine',
    qmin: -half,
    qmax: half - 1,
    scale: [2 ** -f.frac],
    zeroPoint: [f.signed ? 0 : -half],
    granularity: 'per-tensor',
  };
}

/**
 * The graph with its dense weights and biases on the fixed-point grids.
 * @throws QrobustError('unsupported_layer') for anything but two dense layers with a ReLU between them.
 */
export function henzingerGraph(graph: ModelGraph, file: string): ModelGraph {
  const dense = graph.nodes.filter((n) => n.op.kind === 'dense');
  const weighted = graph.nodes.filter((n) => n.op.kind === 'dense' || n.op.kind === 'conv2d');
  if (dense.length !== 2 || weighted.length !== 2) throw new QrobustError('unsupported_layer', `${file}: --preset henzinger2021 needs two dense layers (784-64-32), the file has ${weighted.length} weight layers`);
  return {
    ...graph,
    nodes: graph.nodes.map((n) => {
      if (n.op.kind !== 'dense') return n;
      return { ...n, op: { ...n.op, kernel: n.op.kernel.map((w) => toFixedPoint(w, WEIGHT)), bias: n.op.bias.map((b) => toFixedPoint(b, BIAS)) } };
    }),
  };
}

/**
 * The quantization plan of the layer graph built from `henzingerGraph`: input, weight and output grids.
 * @throws QrobustError('unsupported_layer') when the layer graph is not input → dense (ReLU) → dense.
 */
export function henzingerPlan(graph: LayerGraph, file: string): { plan: QuantPlan; spec: QuantSpec; label: string } {
  const steps = graph.steps.flatMap((s, i) => (isWeightStep(s) ? [{ s, i }] : []));
  if (steps.length !== 2 || steps.some(({ s }) => s.kind !== 'dense') || steps[0]!.s.activation !== 'relu' || steps[1]!.s.activation === 'relu') {
    throw new QrobustError('unsupported_layer', `${file}: --preset henzinger2021 needs dense (ReLU) → dense`);
  }
  const layers: LayerQuantParams[] = steps.map(({ s, i }, k) => ({
    step: i,
    name: s.name,
    weights: { kind: 'uniform', params: grid(WEIGHT) },
    output: grid(k === 0 ? HIDDEN : OUTPUT),
  }));
  const spec: QuantSpec = {
    weights: { bits: 6, scheme: 'affine', granularity: 'per-tensor', kind: 'uniform' },
    activations: { bits: 6, scheme: 'affine', calibration: { method: 'minmax' } },
    inputs: { bits: 8 },
    rounding: 'nearest',
    firstLast: 'same',
  };
  return { plan: { input: grid(INPUT), layers }, spec, label: 'henzinger2021-w6-a6-in8' };
}
