/**
 * Interval propagation through an integer program, in exact integer arithmetic. Over a box of input codes:
 *
 * - a dense or conv op's int32 accumulator Σ w·(x − zp) + bias has the exact range bias + Σ w·(lo or hi − zp)
 *   (each weight picks the end that minimizes or maximizes its term; the box makes every corner reachable);
 * - requantization is the exact fixed-point function, monotone in the accumulator (`requantMonotoneOn`), so the
 *   output codes are [R(accLo), R(accHi)]; where a wrap-around in int32 cannot be excluded the full clamp
 *   range is used instead and the op is flagged;
 * - ReLU on codes is max(zp, ·) and max-pooling the max of each window, both monotone.
 *
 * Each op's bounds are exact for that op given its input box (every value inside is attained when the inputs
 * vary independently); through several layers they over-approximate, as any interval method does. They are
 * sound for every input in the box: no rounding is involved.
 */
import { QrobustError } from '../../core/errors.js';
import type { IntConvOp, IntDenseOp, IntegerProgram } from '../../quant/integer/program.js';
import type { CodeBox } from './input-region.js';
import { requantize, requantMonotoneOn } from './requant.js';

export interface OpBounds {
  /** Output codes. */
  readonly lower: Int32Array;
  readonly upper: Int32Array;
  /** For dense/conv: the accumulator range (bias included) per output element. */
  readonly accLower?: Float64Array;
  readonly accUpper?: Float64Array;
  /** For dense/conv: output elements where int32 wrap-around could not be ruled out (bounds are the clamp range). */
  readonly wraps?: number;
}

export interface IntegerBounds {
  readonly input: CodeBox;
  readonly ops: readonly OpBounds[];
}

/** Accumulator range of output `o` of a dense op. */
function denseAcc(op: IntDenseOp, lo: Int32Array, hi: Int32Array, o: number): [number, number] {
  let a = op.bias[o]!;
  let b = a;
  const base = o * op.inSize;
  for (let i = 0; i < op.inSize; i++) {
    const w = op.weights[base + i]!;
    if (w === 0) continue;
    const l = lo[i]! - op.inZeroPoint;
    const h = hi[i]! - op.inZeroPoint;
    if (w > 0) {
      a += w * l;
      b += w * h;
    } else {
      a += w * h;
      b += w * l;
    }
  }
  return [a, b];
}

/** Calls `term(inputIndex, kernelIndex)` for every in-image tap of conv output (oy, ox); padding contributes 0. */
export function convTaps(op: IntConvOp, oy: number, ox: number, term: (input: number, k: number) => void): void {
  const [h, w, ci] = op.inShape;
  const [kh, kw] = op.kernel;
  for (let ky = 0; ky < kh; ky++) {
    const iy = oy * op.strides[0] - op.padTop + ky;
    if (iy < 0 || iy >= h) continue;
    for (let kx = 0; kx < kw; kx++) {
      const ix = ox * op.strides[1] - op.padLeft + kx;
      if (ix < 0 || ix >= w) continue;
      for (let c = 0; c < ci; c++) term((iy * w + ix) * ci + c, (ky * kw + kx) * ci + c);
    }
  }
}

function requantBounds(op: IntDenseOp | IntConvOp, acc: [number, number][], channelOf: (j: number) => number): OpBounds {
  const n = acc.length;
  const lower = new Int32Array(n);
  const upper = new Int32Array(n);
  const accLower = new Float64Array(n);
  const accUpper = new Float64Array(n);
  let wraps = 0;
  for (let j = 0; j < n; j++) {
    const [a, b] = acc[j]!;
    accLower[j] = a;
    accUpper[j] = b;
    const c = channelOf(j);
    if (requantMonotoneOn(op.requant, c, a, b)) {
      lower[j] = requantize(a, c, op.requant);
      upper[j] = requantize(b, c, op.requant);
    } else {
      wraps++;
      lower[j] = op.requant.lo;
      upper[j] = op.requant.hi;
    }
  }
  return { lower, upper, accLower, accUpper, wraps };
}

/** Sound, per-op exact interval bounds of every op's output codes over a box of input codes. */
export function integerIntervalBounds(prog: IntegerProgram, input: CodeBox): IntegerBounds {
  if (input.lower.length !== prog.prologue.size) {
    throw new QrobustError('invalid_argument', `the code box has ${input.lower.length} values, the integer program takes ${prog.prologue.size}`);
  }
  let lo = input.lower;
  let hi = input.upper;
  const ops: OpBounds[] = [];
  for (const op of prog.ops) {
    let b: OpBounds;
    switch (op.op) {
      case 'dense': {
        const acc = Array.from({ length: op.outSize }, (_, o) => denseAcc(op, lo, hi, o));
        b = requantBounds(op, acc, (j) => j);
        break;
      }
      case 'conv2d': {
        const [oh, ow, co] = op.outShape;
        const k = op.kernel[0] * op.kernel[1] * op.inShape[2];
        const acc: [number, number][] = [];
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            for (let c = 0; c < co; c++) {
              let a = op.bias[c]!;
              let bb = a;
              convTaps(op, oy, ox, (i, kk) => {
                const w = op.weights[c * k + kk]!;
                const l = lo[i]! - op.inZeroPoint;
                const h = hi[i]! - op.inZeroPoint;
                if (w > 0) {
                  a += w * l;
                  bb += w * h;
                } else if (w < 0) {
                  a += w * h;
                  bb += w * l;
                }
              });
              acc.push([a, bb]);
            }
          }
        }
        b = requantBounds(op, acc, (j) => j % co);
        break;
      }
      case 'maxPool': {
        const [h, w, c] = op.inShape;
        const [oh, ow] = op.outShape;
        const lower = new Int32Array(oh * ow * c).fill(-32768);
        const upper = new Int32Array(oh * ow * c).fill(-32768);
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            for (let ch = 0; ch < c; ch++) {
              const o = (oy * ow + ox) * c + ch;
              for (let ky = 0; ky < op.pool[0]; ky++) {
                const iy = oy * op.strides[0] - op.padTop + ky;
                if (iy < 0 || iy >= h) continue;
                for (let kx = 0; kx < op.pool[1]; kx++) {
                  const ix = ox * op.strides[1] - op.padLeft + kx;
                  if (ix < 0 || ix >= w) continue;
                  const i = (iy * w + ix) * c + ch;
                  if (lo[i]! > lower[o]!) lower[o] = lo[i]!;
                  if (hi[i]! > upper[o]!) upper[o] = hi[i]!;
                }
              }
            }
          }
        }
        b = { lower, upper };
        break;
      }
      case 'relu':
        b = { lower: lo.map((v) => Math.max(v, op.zeroPoint)), upper: hi.map((v) => Math.max(v, op.zeroPoint)) };
        break;
    }
    ops.push(b);
    lo = b.lower;
    hi = b.upper;
  }
  return { input, ops };
}
