/**
 * The dynamic-range ("hybrid") TFLite CNN of the hybrid-convolution tests (no tests in here): float input
 * [1, 8, 8, 2] → CONV_2D (int8 weights, per tensor or per output channel, float bias, RELU, SAME) →
 * MAX_POOL_2D 2×2 → RESHAPE [1, 48] → hybrid FULLY_CONNECTED (int8 per tensor) → [1, 4], and its seeded inputs.
 * `scripts/crosscheck/tflite-hybrid-conv-reference.ts` runs the same files in TFLite's own interpreter.
 */
import { Rng } from '../../src/core/rng.js';
import { buildTflite, type ModelSpec } from './tflite-builder.js';
import { randomArray, randomInts } from './tflite-fixtures.js';

export const CONV_IMAGE: readonly [number, number, number] = [8, 8, 2];
export const CONV_CLASSES = 4;

export function hybridConvSpec(perChannel: boolean): ModelSpec {
  const rng = new Rng(perChannel ? 71 : 72);
  const convScale = perChannel ? [0.011, 0.02, 0.0053] : [0.013];
  const fcScale = [0.009];
  return {
    tensors: [
      { shape: [1, 8, 8, 2], type: 'FLOAT32' }, // 0 input
      { shape: [3, 3, 3, 2], type: 'INT8', values: randomInts(rng, 3 * 3 * 3 * 2, -127, 127), quant: { scale: convScale, zeroPoint: convScale.map(() => 0), dim: 0 } }, // 1
      { shape: [3], type: 'FLOAT32', values: randomArray(rng, 3, 0.2) }, // 2
      { shape: [1, 8, 8, 3], type: 'FLOAT32' }, // 3
      { shape: [1, 4, 4, 3], type: 'FLOAT32' }, // 4
      { shape: [1, 48], type: 'FLOAT32' }, // 5
      { shape: [4, 48], type: 'INT8', values: randomInts(rng, 4 * 48, -127, 127), quant: { scale: fcScale, zeroPoint: [0], dim: 0 } }, // 6
      { shape: [4], type: 'FLOAT32', values: randomArray(rng, 4, 0.1) }, // 7
      { shape: [1, 4], type: 'FLOAT32' }, // 8
    ],
    ops: [
      { op: 'CONV_2D', inputs: [0, 1, 2], outputs: [3], options: { kind: 'conv', act: 'RELU', padding: 'SAME', stride: [1, 1] } },
      { op: 'MAX_POOL_2D', inputs: [3], outputs: [4], options: { kind: 'pool', act: 'NONE', padding: 'VALID', stride: [2, 2], filter: [2, 2] } },
      { op: 'RESHAPE', inputs: [4], outputs: [5], options: { kind: 'reshape', shape: [1, 48] } },
      { op: 'FULLY_CONNECTED', inputs: [5, 6, 7], outputs: [8], options: { kind: 'fc', act: 'NONE' } },
    ],
    inputs: [0],
    outputs: [8],
  };
}

export function hybridConvModel(perChannel: boolean): Uint8Array {
  return buildTflite(hybridConvSpec(perChannel));
}

/** `count` seeded NHWC inputs in [0, 1] (as pixels), every other one sparse (half the values 0). */
export function hybridConvInputs(count: number): Float32Array[] {
  const rng = new Rng(73);
  return Array.from({ length: count }, (_, k) => Float32Array.from({ length: 8 * 8 * 2 }, () => (k % 2 === 1 && rng.next() < 0.5 ? 0 : rng.next())));
}
