/** Hand-built networks with answers known exactly, and seeded random ones, for the complete verifiers' tests. */
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { evaluateIR, stepOutSize, type AffineStep, type IRStep, type NetworkIR, type QuantizeStep } from '../../src/verify/ir.js';
import { inBox, isUnsafe, type Box, type LinearConstraint, type VerificationCase } from '../../src/verify/property.js';

/** A `sat` answer's counterexample: present, inside the box, its reported output the float64 one, and unsafe. */
export function assertCounterexample(ir: NetworkIR, c: VerificationCase, ce: { input: Float64Array; output: Float64Array } | undefined): void {
  assert.ok(ce, 'a sat verdict carries a counterexample');
  assert.ok(inBox(c.input, ce.input), 'the counterexample lies in the box');
  const y = evaluateIR(ir, ce.input);
  assert.deepEqual(Array.from(y), Array.from(ce.output), 'the reported output is the float64 forward pass');
  assert.ok(isUnsafe(c.unsafe, y), `the float64 output ${Array.from(y)} satisfies the unsafe condition`);
}

export function dense(name: string, rows: number[][], bias: number[]): AffineStep {
  const outSize = rows.length;
  const inSize = rows[0]!.length;
  return {
    kind: 'affine',
    name,
    inSize,
    outSize,
    weights: { format: 'dense', rows: outSize, cols: inSize, data: Float64Array.from(rows.flat()) },
    bias: Float64Array.from(bias),
  };
}

export function relu(name: string, size: number): IRStep {
  return { kind: 'relu', name, size };
}

export function quantize(name: string, size: number, scale: number, zeroPoint: number, qmin: number, qmax: number): QuantizeStep {
  return { kind: 'quantize', name, size, scale: Float64Array.of(scale), zeroPoint: Float64Array.of(zeroPoint), qmin, qmax };
}

export function network(inputSize: number, steps: IRStep[], source = 'hand-built'): NetworkIR {
  const last = steps[steps.length - 1]!;
  const outputSize = stepOutSize(last);
  return { inputSize, inputShape: [inputSize], outputSize, steps, source };
}

export function box(lower: number[], upper: number[]): Box {
  return { lower: Float64Array.from(lower), upper: Float64Array.from(upper) };
}

/** coeffs·y + offset ≤ 0. */
export function le(coeffs: number[], offset: number): LinearConstraint {
  return { coeffs: Float64Array.from(coeffs), offset };
}

export function vcase(input: Box, disjuncts: LinearConstraint[][]): VerificationCase {
  return { input, unsafe: { disjuncts } };
}

/**
 * y0 = relu(x0 + x1) + relu(x0 − x1), y1 = 0, on x ∈ [−1, 1]²: max y0 = 2 (at x0 = 1), min y0 = 0. Interval
 * bounds give y0 ≤ 4, so "y0 ≥ c" for 2 < c ≤ 4 needs a complete method.
 */
export const VEE = network(2, [dense('fc1', [[1, 1], [1, -1]], [0, 0]), relu('relu1', 2), dense('fc2', [[1, 1], [0, 0]], [0, 0])]);
export const VEE_BOX = box([-1, -1], [1, 1]);

/**
 * h = x0 + x1 on x ∈ [0, 0.3]², quantized on the grid s = 0.25 (codes 0..qmax), y = [q(h), c]. The float
 * network reaches h = 0.6; the quantized one only 0.5 (qmax ≥ 2) or 0.25 (qmax = 1, the clamp binds).
 */
export function roundingNet(qmax: number, c: number): NetworkIR {
  return network(2, [dense('sum', [[1, 1]], [0]), quantize('q', 1, 0.25, 0, 0, qmax), dense('out', [[1], [0]], [0, c])]);
}

/**
 * A seeded random fully connected ReLU network with `sizes` = [in, hidden…, out]. With `grid`, weights and
 * biases are rounded to multiples of 1/grid (short dyadic rationals keep exact real arithmetic cheap).
 */
export function randomNet(rng: Rng, sizes: number[], grid?: number): NetworkIR {
  const steps: IRStep[] = [];
  const r = (v: number): number => (grid ? Math.round(v * grid) / grid : v);
  for (let l = 0; l + 1 < sizes.length; l++) {
    const rows = Array.from({ length: sizes[l + 1]! }, () => Array.from({ length: sizes[l]! }, () => r(rng.normal() / Math.sqrt(sizes[l]!))));
    steps.push(dense(`fc${l}`, rows, Array.from({ length: sizes[l + 1]! }, () => r(0.1 * rng.normal()))));
    if (l + 2 < sizes.length) steps.push(relu(`relu${l}`, sizes[l + 1]!));
  }
  return network(sizes[0]!, steps, `random ${sizes.join('-')}`);
}

/** "Output `label` is not strictly the largest" on a box of radius eps around x (VNN-COMP's robustness form). */
export function robustnessCase(x: number[], eps: number, label: number, classes: number): VerificationCase {
  const disjuncts: LinearConstraint[][] = [];
  for (let j = 0; j < classes; j++) {
    if (j === label) continue;
    const c = new Array<number>(classes).fill(0);
    c[label] = 1;
    c[j] = -1;
    disjuncts.push([le(c, 0)]);
  }
  return vcase(box(x.map((v) => v - eps), x.map((v) => v + eps)), disjuncts);
}
