/**
 * A small full-integer TFLite network for the tests (no tests in here), seeded: float input [1,4,4,2] →
 * QUANTIZE → CONV_2D (int8 per-channel weights, int32 biases, RELU, SAME) → MAX_POOL_2D → RESHAPE →
 * FULLY_CONNECTED (int8 per-tensor) → DEQUANTIZE, and the float inputs it is run on. TFLite's own outputs on
 * these inputs are in fixtures/int8-tflite-reference.json (scripts/crosscheck/tflite_run.mjs).
 */
import { Rng } from '../../src/core/rng.js';
import type { ModelSpec } from './tflite-builder.js';

export const INT8_IMAGE: readonly [number, number, number] = [4, 4, 2];
export const INT8_CLASSES = 5;

export function int8ModelSpec(): ModelSpec {
  const rng = new Rng(31);
  const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + rng.int(hi - lo + 1));
  const sIn = 1 / 255;
  const convScale = [0.004, 0.006, 0.005];
  const sConv = 4 / 255;
  const sFc = 0.003;
  const sOut = 8 / 255;
  return {
    tensors: [
      { shape: [1, 4, 4, 2], type: 'FLOAT32' }, // 0
      { shape: [1, 4, 4, 2], type: 'INT8', quant: { scale: [sIn], zeroPoint: [-128], dim: 0 } }, // 1
      { shape: [3, 3, 3, 2], type: 'INT8', values: ints(54, -127, 127), quant: { scale: convScale, zeroPoint: [0, 0, 0], dim: 0 } }, // 2
      { shape: [3], type: 'INT32', values: ints(3, -3000, 3000), quant: { scale: convScale.map((s) => Math.fround(sIn) * Math.fround(s)), zeroPoint: [0, 0, 0], dim: 0 } }, // 3
      { shape: [1, 4, 4, 3], type: 'INT8', quant: { scale: [sConv], zeroPoint: [-128], dim: 0 } }, // 4
      { shape: [1, 2, 2, 3], type: 'INT8', quant: { scale: [sConv], zeroPoint: [-128], dim: 0 } }, // 5
      { shape: [1, 12], type: 'INT8', quant: { scale: [sConv], zeroPoint: [-128], dim: 0 } }, // 6
      { shape: [5, 12], type: 'INT8', values: ints(60, -127, 127), quant: { scale: [sFc], zeroPoint: [0], dim: 0 } }, // 7
      { shape: [5], type: 'INT32', values: ints(5, -2000, 2000), quant: { scale: [Math.fround(sConv) * Math.fround(sFc)], zeroPoint: [0], dim: 0 } }, // 8
      { shape: [1, 5], type: 'INT8', quant: { scale: [sOut], zeroPoint: [3], dim: 0 } }, // 9
      { shape: [1, 5], type: 'FLOAT32' }, // 10
    ],
    ops: [
      { op: 'QUANTIZE', inputs: [0], outputs: [1] },
      { op: 'CONV_2D', inputs: [1, 2, 3], outputs: [4], options: { kind: 'conv', act: 'RELU', padding: 'SAME', stride: [1, 1] } },
      { op: 'MAX_POOL_2D', inputs: [4], outputs: [5], options: { kind: 'pool', act: 'NONE', padding: 'VALID', stride: [2, 2], filter: [2, 2] } },
      { op: 'RESHAPE', inputs: [5], outputs: [6], options: { kind: 'reshape', shape: [1, 12] } },
      { op: 'FULLY_CONNECTED', inputs: [6, 7, 8], outputs: [9], options: { kind: 'fc', act: 'NONE' } },
      { op: 'DEQUANTIZE', inputs: [9], outputs: [10] },
    ],
    inputs: [0],
    outputs: [10],
  };
}

/** `count` seeded images in [0, 1], NHWC, flattened one after another (multiples of 1/255, like pixels). */
export function int8Inputs(count: number): Float32Array {
  const rng = new Rng(32);
  return Float32Array.from({ length: count * 32 }, () => rng.int(256) / 255);
}
