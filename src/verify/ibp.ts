/**
 * Interval bound propagation (IBP; Gowal et al. 2018, "On the Effectiveness of Interval Bound Propagation for
 * Training Verifiably Robust Models", arXiv 1810.12715): the input box is pushed through the network one step at
 * a time, each step mapping a box to the smallest box (up to rounding) containing its image.
 *
 * - affine: interval arithmetic on W x + b (`bounds/affine.ts`);
 * - relu, maxpool: exact on intervals (max is monotone and computed without rounding);
 * - quantize: monotone, so the ends' plateaus (`bounds/quantize.ts`).
 *
 * Every bound is widened outward by the float64 rounding margin of `bounds/rounding.ts`, so it contains both the
 * exact real-arithmetic value and what `evaluateIR` computes, for every input in the box.
 */
import { QrobustError } from '../core/errors.js';
import { stepInSize, validateIR, type IRStep, type NetworkIR } from './ir.js';
import type { Box, Interval, NetworkBounds } from './property.js';
import { affineInterval } from './bounds/affine.js';
import { quantizeInterval } from './bounds/quantize.js';
import { smoothInterval } from './bounds/smooth.js';
import { dynamicQuantizeInterval } from './bounds/dynamic-quantize.js';

/**
 * Checks that a box fits the network: the right size, finite, lower ≤ upper.
 * @throws QrobustError('invalid_argument') naming the network and the first bad coordinate.
 */
export function checkBox(ir: NetworkIR, box: Box): void {
  if (box.lower.length !== ir.inputSize || box.upper.length !== ir.inputSize) {
    throw new QrobustError('invalid_argument', `${ir.source}: the input box has ${box.lower.length} values, the network expects ${ir.inputSize}`);
  }
  for (let i = 0; i < ir.inputSize; i++) {
    const l = box.lower[i]!;
    const u = box.upper[i]!;
    if (!Number.isFinite(l) || !Number.isFinite(u) || l > u) {
      throw new QrobustError('invalid_argument', `${ir.source}: input ${i} has the bounds [${l}, ${u}] (finite with lower <= upper required)`);
    }
  }
}

/** The interval image of one step. */
export function intervalStep(step: IRStep, x: Interval): Interval {
  switch (step.kind) {
    case 'affine':
      return affineInterval(step.weights, step.bias, x, step.float32);
    case 'relu':
      return { lower: x.lower.map((v) => (v > 0 ? v : 0)), upper: x.upper.map((v) => (v > 0 ? v : 0)) };
    case 'maxpool': {
      const lower = new Float64Array(step.outSize).fill(-Infinity);
      const upper = new Float64Array(step.outSize).fill(-Infinity);
      for (let j = 0; j < step.outSize; j++) {
        for (let k = step.offsets[j]!; k < step.offsets[j + 1]!; k++) {
          const i = step.indices[k]!;
          if (x.lower[i]! > lower[j]!) lower[j] = x.lower[i]!;
          if (x.upper[i]! > upper[j]!) upper[j] = x.upper[i]!;
        }
      }
      return { lower, upper };
    }
    case 'quantize': {
      const lower = new Float64Array(step.size);
      const upper = new Float64Array(step.size);
      for (let i = 0; i < step.size; i++) [lower[i], upper[i]] = quantizeInterval(step, i, x.lower[i]!, x.upper[i]!);
      return { lower, upper };
    }
    case 'smooth':
      return smoothInterval(step, x);
    case 'dynamicQuantize':
      return dynamicQuantizeInterval(step, x);
  }
}

/**
 * IBP bounds of every step's output over the input box.
 * @throws QrobustError('invalid_argument') when the IR is inconsistent or the box does not fit it.
 */
export function intervalBounds(ir: NetworkIR, input: Box): NetworkBounds {
  validateIR(ir);
  checkBox(ir, input);
  const first: Interval = { lower: Float64Array.from(input.lower), upper: Float64Array.from(input.upper) };
  const steps: Interval[] = [];
  let cur = first;
  for (const step of ir.steps) {
    if (stepInSize(step) !== cur.lower.length) throw new QrobustError('invalid_argument', `${ir.source}: step '${step.name}' does not fit its input`);
    cur = intervalStep(step, cur);
    steps.push(cur);
  }
  return { input: first, steps };
}
