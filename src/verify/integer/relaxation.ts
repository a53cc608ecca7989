/**
 * A real-valued over-approximation of an integer program, written as a NetworkIR so that the linear bound
 * propagation of `crown.ts` applies to deployed integer networks. Requantization stays within ν codes of the
 * exact real product: |R(acc) − (M·acc + zp)| ≤ ν before the clamp (`requantLinearization`: ν = 1/2 for single
 * rounding, 1/2 + 2^−right/2 for TFLite's double rounding, and ONNX Runtime's float32 form adds its float32
 * rounding). So each requantized code is
 *
 *     code = clamp(M·acc + zp + e, lo, hi),   e ∈ [−ν, ν],
 *
 * and the clamp is lo + relu(v − lo) − relu(v − hi). This holds only where the int32 accumulator cannot wrap
 * around (the kernels take it modulo 2^32); an output whose interval accumulator range leaves int32 gets a free
 * code in [lo, hi] instead. The noise terms e become extra inputs of the IR (carried
 * as ẽ = e + ν ∈ [0, 2ν] so that ReLU steps pass them unchanged); a ReLU on codes is zp + relu(code − zp) and
 * max-pooling stays max-pooling. Every integer execution is one point of this IR's input box, so bounds the IR
 * proves hold for the integer program; they are only as loose as the ±ν noise and the linear relaxations.
 */
import { QrobustError } from '../../core/errors.js';
import type { IntegerProgram } from '../../quant/integer/program.js';
import { CsrBuilder } from '../bounds/matrix.js';
import type { IRStep, NetworkIR } from '../ir.js';
import type { Box } from '../property.js';
import type { CodeBox } from './input-region.js';
import { convTaps } from './interval.js';
import { integerIntervalBounds } from './interval.js';
import { requantLinearization, requantMonotoneOn } from './requant.js';

export interface IntegerRelaxation {
  readonly ir: NetworkIR;
  /** The input box: the code box, then [0, 2ν] for every noise term. */
  readonly box: Box;
  /** Per integer op: the IR step whose output starts with the op's codes. */
  readonly codeStep: readonly number[];
  /** Per requantizing op: the IR step whose output starts with v − lo, v = M·acc + zp + e (else null). */
  readonly preStep: readonly (number | null)[];
  /**
   * Per requantizing op and output: M and ν of `requantLinearization`; M = 0 (and ν = (hi − lo)/2) for an
   * output whose accumulator may wrap around in int32, whose code the relaxation leaves free in [lo, hi].
   */
  readonly linearization: readonly ({ readonly M: Float64Array; readonly noise: Float64Array } | null)[];
}

function opOutSize(op: IntegerProgram['ops'][number], inSize: number): number {
  if (op.op === 'dense') return op.outSize;
  if (op.op === 'conv2d' || op.op === 'maxPool') return op.outShape[0] * op.outShape[1] * op.outShape[2];
  return inSize;
}

export function integerRelaxation(prog: IntegerProgram, codes: CodeBox): IntegerRelaxation {
  const n0 = prog.prologue.size;
  let size = n0;
  const noiseSizes: number[] = [];
  for (const op of prog.ops) {
    const out = opOutSize(op, size);
    noiseSizes.push(op.op === 'dense' || op.op === 'conv2d' ? out : 0);
    size = out;
  }
  let pending = noiseSizes.reduce((a, b) => a + b, 0);
  const inputSize = n0 + pending;
  const lower = new Float64Array(inputSize);
  const upper = new Float64Array(inputSize);
  for (let i = 0; i < n0; i++) {
    lower[i] = codes.lower[i]!;
    upper[i] = codes.upper[i]!;
  }
  const interval = integerIntervalBounds(prog, codes);
  const steps: IRStep[] = [];
  const codeStep: number[] = [];
  const preStep: (number | null)[] = [];
  const linearization: ({ M: Float64Array; noise: Float64Array } | null)[] = [];
  let noiseAt = n0;
  let cur = n0;
  const add = (s: IRStep): number => {
    steps.push(s);
    return steps.length - 1;
  };
  /** Appends identity rows for the noise block (columns cur..cur+count). */
  const passNoise = (b: CsrBuilder, from: number, count: number): void => {
    for (let r = 0; r < count; r++) {
      b.add(from + r, 1);
      b.endRow();
    }
  };
  prog.ops.forEach((op, k) => {
    const name = `op${k}:${op.op}`;
    if (op.op === 'dense' || op.op === 'conv2d') {
      const m = noiseSizes[k]!;
      const rest = pending - m;
      // Step A: [v − lo (m), v − hi (m), remaining noise], v_j = M_j·acc_j + zp − ν_j + ẽ_j.
      const a = new CsrBuilder(cur + pending);
      const bias = new Float64Array(2 * m + rest);
      const rowTerms: { col: number; w: number }[][] = [];
      const accConst: number[] = [];
      const channels: number[] = [];
      if (op.op === 'dense') {
        for (let o = 0; o < op.outSize; o++) {
          const terms: { col: number; w: number }[] = [];
          let wsum = 0;
          for (let i = 0; i < op.inSize; i++) {
            const w = op.weights[o * op.inSize + i]!;
            if (w !== 0) {
              terms.push({ col: i, w });
              wsum += w;
            }
          }
          rowTerms.push(terms);
          accConst.push(op.bias[o]! - op.inZeroPoint * wsum);
          channels.push(o);
        }
      } else {
        const [oh, ow, co] = op.outShape;
        const kk = op.kernel[0] * op.kernel[1] * op.inShape[2];
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            for (let c = 0; c < co; c++) {
              const acc = new Map<number, number>();
              let wsum = 0;
              convTaps(op, oy, ox, (i, tap) => {
                const w = op.weights[c * kk + tap]!;
                if (w === 0) return;
                acc.set(i, (acc.get(i) ?? 0) + w);
                wsum += w;
              });
              rowTerms.push([...acc.entries()].sort((x, y) => x[0] - y[0]).map(([col, w]) => ({ col, w })));
              accConst.push(op.bias[c]! - op.inZeroPoint * wsum);
              channels.push(c);
            }
          }
        }
      }
      const r = op.requant;
      const ib = interval.ops[k]!;
      const Ms = new Float64Array(m);
      const nus = new Float64Array(m);
      // An output whose accumulator may wrap around in int32 over the box (`requantMonotoneOn`) is not
      // clamp(M·acc + zp + e): the kernel takes acc modulo 2^32 first. Its code is then a free value of
      // [lo, hi] (M = 0, v = lo + ẽ with ẽ ∈ [0, hi − lo]), which every execution satisfies.
      const free = new Uint8Array(m);
      for (let j = 0; j < m; j++) {
        if (!requantMonotoneOn(r, channels[j]!, ib.accLower![j]!, ib.accUpper![j]!)) {
          free[j] = 1;
          Ms[j] = 0;
          nus[j] = (r.hi - r.lo) / 2;
          upper[noiseAt + j] = r.hi - r.lo;
          continue;
        }
        const maxAbs = Math.max(Math.abs(ib.accLower![j]!), Math.abs(ib.accUpper![j]!));
        const { M, noise } = requantLinearization(r, channels[j]!, maxAbs);
        Ms[j] = M;
        nus[j] = noise;
        upper[noiseAt + j] = 2 * noise;
      }
      noiseAt += m;
      linearization.push({ M: Ms, noise: nus });
      for (const edge of [r.lo, r.hi]) {
        for (let j = 0; j < m; j++) {
          const M = Ms[j]!;
          if (!free[j]) for (const t of rowTerms[j]!) a.add(t.col, M * t.w);
          a.add(cur + j, 1); // ẽ_j
          a.endRow();
          bias[(edge === r.lo ? 0 : m) + j] = free[j] ? r.lo - edge : M * accConst[j]! + r.outZeroPoint - nus[j]! - edge;
        }
      }
      passNoise(a, cur + m, rest);
      const aStep = add({ kind: 'affine', name: `${name} pre`, inSize: cur + pending, outSize: 2 * m + rest, weights: a.finish(), bias, float32: null });
      add({ kind: 'relu', name: `${name} clamp`, size: 2 * m + rest });
      // Step C: code = lo + relu(v − lo) − relu(v − hi).
      const c = new CsrBuilder(2 * m + rest);
      const cb = new Float64Array(m + rest);
      for (let j = 0; j < m; j++) {
        c.add(j, 1);
        c.add(m + j, -1);
        c.endRow();
        cb[j] = r.lo;
      }
      passNoise(c, 2 * m, rest);
      codeStep.push(add({ kind: 'affine', name: `${name} codes`, inSize: 2 * m + rest, outSize: m + rest, weights: c.finish(), bias: cb, float32: null }));
      preStep.push(aStep);
      cur = m;
      pending = rest;
      return;
    }
    if (op.op === 'relu') {
      const shiftDown = new CsrBuilder(cur + pending);
      const b1 = new Float64Array(cur + pending);
      for (let j = 0; j < cur; j++) {
        shiftDown.add(j, 1);
        shiftDown.endRow();
        b1[j] = -op.zeroPoint;
      }
      passNoise(shiftDown, cur, pending);
      add({ kind: 'affine', name: `${name} shift`, inSize: cur + pending, outSize: cur + pending, weights: shiftDown.finish(), bias: b1, float32: null });
      add({ kind: 'relu', name, size: cur + pending });
      const shiftUp = new CsrBuilder(cur + pending);
      const b2 = new Float64Array(cur + pending);
      for (let j = 0; j < cur; j++) {
        shiftUp.add(j, 1);
        shiftUp.endRow();
        b2[j] = op.zeroPoint;
      }
      passNoise(shiftUp, cur, pending);
      codeStep.push(add({ kind: 'affine', name: `${name} unshift`, inSize: cur + pending, outSize: cur + pending, weights: shiftUp.finish(), bias: b2, float32: null }));
      preStep.push(null);
      linearization.push(null);
      return;
    }
    // maxPool on codes, noise passed through singleton groups.
    const [h, w, ch] = op.inShape;
    const [oh, ow] = op.outShape;
    const offsets: number[] = [0];
    const indices: number[] = [];
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let c = 0; c < ch; c++) {
          for (let ky = 0; ky < op.pool[0]; ky++) {
            const iy = oy * op.strides[0] - op.padTop + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < op.pool[1]; kx++) {
              const ix = ox * op.strides[1] - op.padLeft + kx;
              if (ix >= 0 && ix < w) indices.push((iy * w + ix) * ch + c);
            }
          }
          offsets.push(indices.length);
        }
      }
    }
    for (let r = 0; r < pending; r++) {
      indices.push(cur + r);
      offsets.push(indices.length);
    }
    const out = oh * ow * ch;
    codeStep.push(add({ kind: 'maxpool', name, inSize: cur + pending, outSize: out + pending, offsets: Int32Array.from(offsets), indices: Int32Array.from(indices) }));
    preStep.push(null);
    linearization.push(null);
    cur = out;
  });
  if (pending !== 0 || cur !== prog.outputSize) throw new QrobustError('invalid_argument', 'integer relaxation: internal size mismatch');
  if (steps.length === 0) {
    throw new QrobustError('invalid_argument', 'integer relaxation: the integer program has no ops');
  }
  const ir: NetworkIR = { inputSize, inputShape: [inputSize], outputSize: cur, steps, source: 'integer program (relaxation)' };
  return { ir, box: { lower, upper }, codeStep, preStep, linearization };
}
