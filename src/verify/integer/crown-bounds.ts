/**
 * Tighter bounds for integer programs: CROWN on the program's real relaxation (`relaxation.ts`), turned back
 * into integer facts. For a requantizing op the relaxation bounds v = M·acc + zp + e over every e ∈ [−ν, ν],
 * so M·acc ∈ [vLo − zp + ν, vHi − zp − ν]; the accumulator range is that (rounded inward to integers, after a
 * widening by the bound's own float error) intersected with the exact interval range, and the codes are the
 * exact requantization of it. Op by op, each range is intersected with the interval one, so these bounds are
 * never looser than `integerIntervalBounds` and are sound for every integer execution in the box.
 */
import type { IntegerProgram } from '../../quant/integer/program.js';
import { crownBounds, type CrownOptions } from '../crown.js';
import type { CodeBox } from './input-region.js';
import { convTaps, type IntegerBounds, type OpBounds } from './interval.js';
import { integerRelaxation } from './relaxation.js';
import { requantize, requantMonotoneOn } from './requant.js';

/** Widening before rounding a float bound to an integer (covers the bound's own rounding error). */
function slack(x: number): number {
  return 1e-7 * (1 + Math.abs(x));
}

export function integerCrownBounds(prog: IntegerProgram, codes: CodeBox, options: CrownOptions = {}): IntegerBounds {
  const relax = integerRelaxation(prog, codes);
  const b = crownBounds(relax.ir, relax.box, options);
  let lo: Int32Array = Int32Array.from(codes.lower);
  let hi: Int32Array = Int32Array.from(codes.upper);
  const ops: OpBounds[] = [];
  prog.ops.forEach((op, k) => {
    const cs = b.steps[relax.codeStep[k]!]!;
    if (op.op === 'dense' || op.op === 'conv2d') {
      const r = op.requant;
      const pre = b.steps[relax.preStep[k]!]!;
      const n = op.op === 'dense' ? op.outSize : op.outShape[0] * op.outShape[1] * op.outShape[2];
      const co = op.op === 'dense' ? n : op.outShape[2];
      const lower = new Int32Array(n);
      const upper = new Int32Array(n);
      const accLower = new Float64Array(n);
      const accUpper = new Float64Array(n);
      let wraps = 0;
      for (let j = 0; j < n; j++) {
        const c = op.op === 'dense' ? j : j % co;
        // Exact interval range of the accumulator from the (tightened) input codes.
        let a = op.op === 'dense' ? op.bias[j]! : op.bias[c]!;
        let bb = a;
        const term = (i: number, w: number): void => {
          if (w === 0) return;
          const l = lo[i]! - op.inZeroPoint;
          const h = hi[i]! - op.inZeroPoint;
          a += w > 0 ? w * l : w * h;
          bb += w > 0 ? w * h : w * l;
        };
        if (op.op === 'dense') {
          for (let i = 0; i < op.inSize; i++) term(i, op.weights[j * op.inSize + i]!);
        } else {
          const ow = op.outShape[1];
          const pos = Math.floor(j / co);
          const kk = op.kernel[0] * op.kernel[1] * op.inShape[2];
          convTaps(op, Math.floor(pos / ow), pos % ow, (i, tap) => term(i, op.weights[c * kk + tap]!));
        }
        const lin = relax.linearization[k]!;
        const M = lin.M[j]!;
        const nu = lin.noise[j]!;
        if (M > 0) {
          const vLo = pre.lower[j]! + r.lo;
          const vHi = pre.upper[j]! + r.lo;
          // v = M·acc + zp + e with e ∈ [−ν, ν] free (its noise input feeds nothing else), so every reachable acc
          // has vLo ≤ M·acc + zp − ν and M·acc + zp + ν ≤ vHi, whatever the clamp does afterwards.
          const fromLo = Math.ceil((vLo - r.outZeroPoint + nu) / M - slack((vLo - r.outZeroPoint + nu) / M));
          const fromHi = Math.floor((vHi - r.outZeroPoint - nu) / M + slack((vHi - r.outZeroPoint - nu) / M));
          if (Number.isFinite(fromLo)) a = Math.max(a, fromLo);
          if (Number.isFinite(fromHi)) bb = Math.min(bb, fromHi);
        }
        if (a > bb) a = bb; // cannot happen for sound bounds; keep the range non-empty
        accLower[j] = a;
        accUpper[j] = bb;
        let ql: number;
        let qh: number;
        if (requantMonotoneOn(r, c, a, bb)) {
          ql = requantize(a, c, r);
          qh = requantize(bb, c, r);
        } else {
          wraps++;
          ql = r.lo;
          qh = r.hi;
        }
        lower[j] = Math.max(ql, Math.ceil(cs.lower[j]! - slack(cs.lower[j]!)));
        upper[j] = Math.min(qh, Math.floor(cs.upper[j]! + slack(cs.upper[j]!)));
        if (lower[j]! > upper[j]!) lower[j] = upper[j]!;
      }
      ops.push({ lower, upper, accLower, accUpper, wraps });
      lo = lower;
      hi = upper;
      return;
    }
    if (op.op === 'relu') {
      const lower = lo.map((v, j) => Math.max(v, op.zeroPoint, Math.ceil(cs.lower[j]! - slack(cs.lower[j]!))));
      const upper = hi.map((v, j) => Math.min(Math.max(v, op.zeroPoint), Math.floor(cs.upper[j]! + slack(cs.upper[j]!))));
      ops.push({ lower, upper });
      lo = lower;
      hi = upper;
      return;
    }
    // maxPool: the interval rule on the current bounds, intersected with the relaxation's.
    const [h, w, ch] = op.inShape;
    const [oh, ow] = op.outShape;
    const n = oh * ow * ch;
    const lower = new Int32Array(n).fill(-32768);
    const upper = new Int32Array(n).fill(-32768);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let c = 0; c < ch; c++) {
          const o = (oy * ow + ox) * ch + c;
          for (let ky = 0; ky < op.pool[0]; ky++) {
            const iy = oy * op.strides[0] - op.padTop + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < op.pool[1]; kx++) {
              const ix = ox * op.strides[1] - op.padLeft + kx;
              if (ix < 0 || ix >= w) continue;
              const i = (iy * w + ix) * ch + c;
              lower[o] = Math.max(lower[o]!, lo[i]!);
              upper[o] = Math.max(upper[o]!, hi[i]!);
            }
          }
          lower[o] = Math.max(lower[o]!, Math.ceil(cs.lower[o]! - slack(cs.lower[o]!)));
          upper[o] = Math.min(upper[o]!, Math.floor(cs.upper[o]! + slack(cs.upper[o]!)));
        }
      }
    }
    ops.push({ lower, upper });
    lo = lower;
    hi = upper;
  });
  return { input: codes, ops };
}
