/**
 * Exact mixed-integer encoding of a deployed integer program over a box of input codes. Input codes are
 * integer columns; a dense/conv accumulator is an exact integer combination of them (one column, an equality
 * row); requantization, which is monotone in the accumulator on its reachable range, is written as its exact
 * step function: code = base + Σ_k δ_k with one binary per code step, δ_k = [acc ≥ t_k] forced by
 * acc ≥ t_k − (t_k − accLo)(1 − δ_k) and acc ≤ t_k − 1 + (accHi − t_k + 1)·δ_k (the accumulator is an
 * integer, so "< t" is "≤ t − 1"). Thresholds come from the integer kernel itself (`requantThresholds`), so
 * the rounding mode, zero point and clamp are all inside them. ReLU and max-pool on codes are the usual big-M
 * encodings; outputs whose code is fixed over the box (interval bounds) are constants.
 *
 * Solver tolerances can only enlarge the feasible set, so `infeasible` stays a proof up to the solver's own
 * arithmetic; a candidate it returns is re-checked on the deployed path before anything is reported.
 */
import { QrobustError } from '../../core/errors.js';
import type { IntConvOp, IntDenseOp } from '../../quant/integer/program.js';
import type { IntegerVerificationCase } from '../integer/integer-case.js';
import { convTaps, integerIntervalBounds, type IntegerBounds } from '../integer/interval.js';
import { requantMonotoneOn, requantThresholds } from '../integer/requant.js';
import { combine, constExpr, MilpBuilder, varExpr, type LinExpr } from './lp-builder.js';

export interface IntegerMilpEncoding {
  readonly builder: MilpBuilder;
  /** Input code columns (−1 where the code is fixed), in input order. */
  readonly inputVars: readonly number[];
  /** Output codes as linear expressions. */
  readonly outputs: readonly LinExpr[];
  readonly bounds: IntegerBounds;
}

/** max(v, floor) for a code expression v in [lo, hi] with lo < floor < hi (one binary). */
function maxWith(b: MilpBuilder, v: LinExpr, lo: number, hi: number, floor: number): LinExpr {
  const a = b.addVar(floor, hi);
  const d = b.addBinary();
  const av = varExpr(a);
  b.addLe(combine([{ expr: v, weight: 1 }, { expr: av, weight: -1 }])); // a ≥ v
  // a ≤ v + (floor − lo)(1 − δ)  ⇔  a − v + (floor − lo)δ − (floor − lo) ≤ 0
  b.addLe(combine([{ expr: av, weight: 1 }, { expr: v, weight: -1 }, { expr: varExpr(d), weight: floor - lo }], -(floor - lo)));
  // a ≤ floor + (hi − floor)δ
  b.addLe(combine([{ expr: av, weight: 1 }, { expr: varExpr(d), weight: -(hi - floor) }], -floor));
  return av;
}

/** `bounds` (default: interval bounds) must be sound for the case's code box; tighter means fewer binaries. */
export function encodeIntegerProgramMilp(icase: IntegerVerificationCase, given?: IntegerBounds, builder = new MilpBuilder()): IntegerMilpEncoding {
  const prog = icase.program;
  const bounds = given ?? integerIntervalBounds(prog, icase.codes);
  const inputVars: number[] = [];
  let cur: LinExpr[] = [];
  for (let i = 0; i < prog.prologue.size; i++) {
    const lo = icase.codes.lower[i]!;
    const hi = icase.codes.upper[i]!;
    if (lo === hi) {
      inputVars.push(-1);
      cur.push(constExpr(lo));
    } else {
      const v = builder.addVar(lo, hi, true);
      inputVars.push(v);
      cur.push(varExpr(v));
    }
  }
  let curLo: ArrayLike<number> = icase.codes.lower;
  let curHi: ArrayLike<number> = icase.codes.upper;
  prog.ops.forEach((op, k) => {
    const ob = bounds.ops[k]!;
    const outs: LinExpr[] = [];
    const requantized = (o: number, channel: number, terms: { expr: LinExpr; weight: number }[], constant: number, rq: IntDenseOp | IntConvOp): LinExpr => {
      const accLo = ob.accLower![o]!;
      const accHi = ob.accUpper![o]!;
      // Checked before the constant shortcut: bounds that ignored the wrap-around could have fixed the code.
      if (!requantMonotoneOn(rq.requant, channel, accLo, accHi)) {
        throw new QrobustError('invalid_argument', `integer op ${k} output ${o}: the accumulator range [${accLo}, ${accHi}] may wrap around in int32; the exact encoding does not model overflow`);
      }
      if (ob.lower[o] === ob.upper[o]) return constExpr(ob.lower[o]!);
      const acc = builder.addVar(accLo, accHi);
      builder.addEq(combine([{ expr: varExpr(acc), weight: 1 }, ...terms.map((t) => ({ expr: t.expr, weight: -t.weight }))], -constant));
      const { base, thresholds } = requantThresholds(rq.requant, channel, accLo, accHi);
      const steps: { expr: LinExpr; weight: number }[] = [];
      let prev: number | null = null;
      for (let i = 0; i < thresholds.length; ) {
        const t = thresholds[i]!;
        let mult = 0;
        while (i < thresholds.length && thresholds[i] === t) {
          mult++;
          i++;
        }
        const d = builder.addBinary();
        // acc ≥ t − (t − accLo)(1 − δ)  ⇔  −acc + (t − accLo)δ + accLo ≤ 0
        builder.addLe(combine([{ expr: varExpr(acc), weight: -1 }, { expr: varExpr(d), weight: t - accLo }], accLo));
        // acc ≤ t − 1 + (accHi − t + 1)δ  ⇔  acc − (accHi − t + 1)δ − t + 1 ≤ 0
        builder.addLe(combine([{ expr: varExpr(acc), weight: 1 }, { expr: varExpr(d), weight: -(accHi - t + 1) }], 1 - t));
        if (prev !== null) builder.addLe(combine([{ expr: varExpr(d), weight: 1 }, { expr: varExpr(prev), weight: -1 }])); // δ_k ≤ δ_{k−1}
        prev = d;
        steps.push({ expr: varExpr(d), weight: mult });
      }
      return combine(steps, base);
    };
    switch (op.op) {
      case 'dense':
        for (let o = 0; o < op.outSize; o++) {
          const terms: { expr: LinExpr; weight: number }[] = [];
          let wsum = 0;
          for (let i = 0; i < op.inSize; i++) {
            const w = op.weights[o * op.inSize + i]!;
            if (w === 0) continue;
            wsum += w;
            terms.push({ expr: cur[i]!, weight: w });
          }
          outs.push(requantized(o, o, terms, op.bias[o]! - op.inZeroPoint * wsum, op));
        }
        break;
      case 'conv2d': {
        const [oh, ow, co] = op.outShape;
        const kk = op.kernel[0] * op.kernel[1] * op.inShape[2];
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            for (let c = 0; c < co; c++) {
              const terms: { expr: LinExpr; weight: number }[] = [];
              let wsum = 0;
              convTaps(op, oy, ox, (i, tap) => {
                const w = op.weights[c * kk + tap]!;
                if (w === 0) return;
                wsum += w;
                terms.push({ expr: cur[i]!, weight: w });
              });
              outs.push(requantized((oy * ow + ox) * co + c, c, terms, op.bias[c]! - op.inZeroPoint * wsum, op));
            }
          }
        }
        break;
      }
      case 'maxPool': {
        const [h, w, c] = op.inShape;
        const [oh, ow] = op.outShape;
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            for (let ch = 0; ch < c; ch++) {
              const o = (oy * ow + ox) * c + ch;
              if (ob.lower[o] === ob.upper[o]) {
                outs.push(constExpr(ob.lower[o]!));
                continue;
              }
              const group: number[] = [];
              for (let ky = 0; ky < op.pool[0]; ky++) {
                const iy = oy * op.strides[0] - op.padTop + ky;
                if (iy < 0 || iy >= h) continue;
                for (let kx = 0; kx < op.pool[1]; kx++) {
                  const ix = ox * op.strides[1] - op.padLeft + kx;
                  if (ix >= 0 && ix < w) group.push((iy * w + ix) * c + ch);
                }
              }
              const maxLo = Math.max(...group.map((i) => curLo[i]!));
              const cands = group.filter((i) => curHi[i]! >= maxLo);
              if (cands.length === 1) {
                outs.push(cur[cands[0]!]!);
                continue;
              }
              const top = Math.max(...cands.map((i) => curHi[i]!));
              const y = builder.addVar(maxLo, top);
              const ds: { expr: LinExpr; weight: number }[] = [];
              for (const i of cands) {
                const d = builder.addBinary();
                ds.push({ expr: varExpr(d), weight: 1 });
                builder.addLe(combine([{ expr: cur[i]!, weight: 1 }, { expr: varExpr(y), weight: -1 }]));
                const big = top - curLo[i]!;
                builder.addLe(combine([{ expr: varExpr(y), weight: 1 }, { expr: cur[i]!, weight: -1 }, { expr: varExpr(d), weight: big }], -big));
              }
              builder.addEq(combine(ds, -1));
              outs.push(varExpr(y));
            }
          }
        }
        break;
      }
      case 'relu':
        cur.forEach((v, o) => {
          const lo = curLo[o]!;
          const hi = curHi[o]!;
          if (lo >= op.zeroPoint) outs.push(v);
          else if (hi <= op.zeroPoint) outs.push(constExpr(op.zeroPoint));
          else outs.push(maxWith(builder, v, lo, hi, op.zeroPoint));
        });
        break;
    }
    cur = outs;
    curLo = ob.lower;
    curHi = ob.upper;
  });
  return { builder, inputVars, outputs: cur, bounds };
}
