/**
 * Bit-precise SMT encoding of a deployed integer program (Henzinger, Lechner, Žikelić 2021, "Scalable
 * Verification of Quantized Neural Networks", AAAI, arXiv 2012.08185), in linear integer arithmetic. Input
 * codes are integer constants bounded by the code box; a dense/conv op's int32 accumulator is an exact integer
 * sum; requantization is encoded in one of two exact forms:
 *
 * - `arithmetic`: TFLite's fixed-point arithmetic written out: the left shift, the 64-bit product with the Q31
 *   multiplier, SaturatingRoundingDoublingHighMul's nudge and truncation toward zero (a case split on the sign),
 *   RoundingDivideByPOT's floor, remainder and sign-dependent threshold (`div`/`mod` by powers of two), or the
 *   single-rounding form `(x·M0 + 2^(s−1)) div 2^s`; then the zero point and the clamp.
 *   (ONNX Runtime's float32 requantization has no such integer form: use `threshold`.)
 * - `threshold`: the same function tabulated exactly on the accumulator's reachable range: it is monotone, so
 *   it equals base + Σ_k [acc ≥ t_k] with thresholds t_k found by binary search on the integer kernel itself
 *   (`requantThresholds`).
 *
 * Both are exact on every integer accumulator in range; int32 wrap-around is excluded beforehand by the
 * interval bounds (an op where it cannot be excluded is refused). Interval bounds also remove work: an output
 * whose code is fixed over the box is a constant, and a ReLU on codes that cannot clamp is the identity.
 * Henzinger et al. bit-blast to bit-vectors; linear integer arithmetic states the same integer semantics and
 * lets Z3's arithmetic solver use the bounds directly.
 */
import { QrobustError } from '../../core/errors.js';
import type { IntConvOp, IntDenseOp, Requant } from '../../quant/integer/program.js';
import type { IntegerVerificationCase } from '../integer/integer-case.js';
import { convTaps, integerIntervalBounds, type IntegerBounds } from '../integer/interval.js';
import { channelMultiplier, requantMonotoneOn, requantThresholds } from '../integer/requant.js';
import { intLit, realLit, sum } from './smtlib.js';

export type RequantEncoding = 'arithmetic' | 'threshold';

export interface IntegerEncoding {
  readonly script: string;
  /** SMT names of the input codes. */
  readonly inputNames: readonly string[];
  readonly bounds: IntegerBounds;
}

const TWO30 = 2n ** 30n;
const TWO31 = 2n ** 31n;

/** The requantized code of the accumulator term `acc` (an Int term), as an Int term. */
export function requantTerm(acc: string, r: Requant, c: number, accLo: number, accHi: number, mode: RequantEncoding, name: string, lines: string[]): string {
  if (mode === 'arithmetic' && (r.rounding === 'onnxruntime' || r.rounding === 'half-away')) {
    throw new QrobustError('invalid_option', `the 'arithmetic' SMT encoding covers TFLite's fixed-point requantization; use 'threshold' for the '${r.rounding}' rounding`);
  }
  if (mode === 'threshold') {
    const { base, thresholds } = requantThresholds(r, c, accLo, accHi);
    return sum([intLit(base), ...thresholds.map((t) => `(ite (>= ${acc} ${intLit(t)}) 1 0)`)], '0');
  }
  const { multiplier, shift } = channelMultiplier(r, c);
  const decl = (n: string, term: string): string => {
    lines.push(`(declare-const ${n} Int)`, `(assert (= ${n} ${term}))`);
    return n;
  };
  let v: string;
  if (r.rounding === 'single') {
    const total = BigInt(31 - shift);
    v = `(div (+ (* ${intLit(multiplier)} ${acc}) ${intLit(1n << (total - 1n))}) ${intLit(1n << total)})`;
  } else {
    const left = shift > 0 ? shift : 0;
    const right = shift > 0 ? 0 : -shift;
    const x = left > 0 ? `(* ${intLit(2 ** left)} ${acc})` : acc;
    const p = decl(`${name}_p`, `(* ${intLit(multiplier)} ${x})`);
    // SaturatingRoundingDoublingHighMul: (p + nudge) / 2^31 truncated toward zero.
    const high = decl(`${name}_h`, `(ite (>= ${p} 0) (div (+ ${p} ${intLit(TWO30)}) ${intLit(TWO31)}) (- (div (- ${intLit(TWO30 - 1n)} ${p}) ${intLit(TWO31)})))`);
    if (right === 0) {
      v = high;
    } else {
      // RoundingDivideByPOT: floor(x / 2^e) + [remainder > (mask >> 1) + (x < 0)].
      const d = intLit(2n ** BigInt(right));
      const threshold = (2 ** right - 1) >> 1;
      v = `(+ (div ${high} ${d}) (ite (> (mod ${high} ${d}) (+ ${intLit(threshold)} (ite (< ${high} 0) 1 0))) 1 0))`;
    }
  }
  const shifted = `(+ ${v} ${intLit(r.outZeroPoint)})`;
  return `(let ((v ${shifted})) (ite (< v ${intLit(r.lo)}) ${intLit(r.lo)} (ite (> v ${intLit(r.hi)}) ${intLit(r.hi)} v)))`;
}

function accumulatorTerm(terms: [number, string][], bias: number): string {
  const parts = terms.filter(([w]) => w !== 0).map(([w, t]) => (w === 1 ? t : `(* ${intLit(w)} ${t})`));
  if (bias !== 0) parts.push(intLit(bias));
  return sum(parts, '0');
}

/**
 * Encodes the integer program and the case's unsafe condition on the dequantized logits. `bounds` (default: the
 * interval bounds) must be sound for the case's code box; tighter ones (`integerCrownBounds`) mean fewer
 * threshold terms and case splits.
 */
export function encodeIntegerProgram(icase: IntegerVerificationCase, mode: RequantEncoding = 'threshold', given?: IntegerBounds): IntegerEncoding {
  const prog = icase.program;
  const bounds = given ?? integerIntervalBounds(prog, icase.codes);
  const lines: string[] = ['(set-logic QF_LIRA)'];
  const inputNames: string[] = [];
  let cur: string[] = [];
  for (let i = 0; i < prog.prologue.size; i++) {
    const n = `c_${i}`;
    inputNames.push(n);
    const lo = icase.codes.lower[i]!;
    const hi = icase.codes.upper[i]!;
    if (lo === hi) {
      lines.push(`(declare-const ${n} Int)`, `(assert (= ${n} ${intLit(lo)}))`);
    } else {
      lines.push(`(declare-const ${n} Int)`, `(assert (<= ${intLit(lo)} ${n} ${intLit(hi)}))`);
    }
    cur.push(n);
  }
  prog.ops.forEach((op, k) => {
    const b = bounds.ops[k]!;
    const outs: string[] = [];
    const weighted = (o: number, accTerm: () => string, channel: number, rq: IntDenseOp | IntConvOp): string => {
      const a = b.accLower![o]!;
      const h = b.accUpper![o]!;
      // Checked before the constant shortcut: bounds that ignored the wrap-around could have fixed the code.
      if (!requantMonotoneOn(rq.requant, channel, a, h)) {
        throw new QrobustError('invalid_argument', `integer op ${k} output ${o}: the accumulator range [${a}, ${h}] may wrap around in int32; the exact encoding does not model overflow`);
      }
      if (b.lower[o] === b.upper[o]) return intLit(b.lower[o]!);
      const accName = `acc${k}_${o}`;
      lines.push(`(declare-const ${accName} Int)`, `(assert (= ${accName} ${accTerm()}))`, `(assert (<= ${intLit(a)} ${accName} ${intLit(h)}))`);
      const out = `o${k}_${o}`;
      const term = requantTerm(accName, rq.requant, channel, a, h, mode, `rq${k}_${o}`, lines);
      lines.push(`(declare-const ${out} Int)`, `(assert (= ${out} ${term}))`, `(assert (<= ${intLit(b.lower[o]!)} ${out} ${intLit(b.upper[o]!)}))`);
      return out;
    };
    switch (op.op) {
      case 'dense': {
        // Σ w·(x − zp) + bias = Σ w·x + (bias − zp·Σw).
        for (let o = 0; o < op.outSize; o++) {
          outs.push(
            weighted(
              o,
              () => {
                const terms: [number, string][] = [];
                let wsum = 0;
                for (let i = 0; i < op.inSize; i++) {
                  const w = op.weights[o * op.inSize + i]!;
                  if (w === 0) continue;
                  wsum += w;
                  terms.push([w, cur[i]!]);
                }
                return accumulatorTerm(terms, op.bias[o]! - op.inZeroPoint * wsum);
              },
              o,
              op,
            ),
          );
        }
        break;
      }
      case 'conv2d': {
        const [oh, ow, co] = op.outShape;
        const kk = op.kernel[0] * op.kernel[1] * op.inShape[2];
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            for (let c = 0; c < co; c++) {
              const o = (oy * ow + ox) * co + c;
              outs.push(
                weighted(
                  o,
                  () => {
                    const terms: [number, string][] = [];
                    let wsum = 0;
                    convTaps(op, oy, ox, (i, tap) => {
                      const w = op.weights[c * kk + tap]!;
                      if (w === 0) return;
                      wsum += w;
                      terms.push([w, cur[i]!]);
                    });
                    return accumulatorTerm(terms, op.bias[c]! - op.inZeroPoint * wsum);
                  },
                  c,
                  op,
                ),
              );
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
              if (b.lower[o] === b.upper[o]) {
                outs.push(intLit(b.lower[o]!));
                continue;
              }
              let acc: string | null = null;
              for (let ky = 0; ky < op.pool[0]; ky++) {
                const iy = oy * op.strides[0] - op.padTop + ky;
                if (iy < 0 || iy >= h) continue;
                for (let kx = 0; kx < op.pool[1]; kx++) {
                  const ix = ox * op.strides[1] - op.padLeft + kx;
                  if (ix < 0 || ix >= w) continue;
                  const v = cur[(iy * w + ix) * c + ch]!;
                  acc = acc === null ? v : `(ite (>= ${v} ${acc}) ${v} ${acc})`;
                }
              }
              const n = `mp${k}_${o}`;
              lines.push(`(declare-const ${n} Int)`, `(assert (= ${n} ${acc!}))`);
              outs.push(n);
            }
          }
        }
        break;
      }
      case 'relu': {
        const prevLo = k === 0 ? icase.codes.lower : bounds.ops[k - 1]!.lower;
        cur.forEach((v, o) => {
          if (prevLo[o]! >= op.zeroPoint) outs.push(v);
          else if (b.upper[o] === op.zeroPoint) outs.push(intLit(op.zeroPoint));
          else {
            const n = `re${k}_${o}`;
            lines.push(`(declare-const ${n} Int)`, `(assert (= ${n} (ite (< ${v} ${intLit(op.zeroPoint)}) ${intLit(op.zeroPoint)} ${v})))`);
            outs.push(n);
          }
        });
        break;
      }
    }
    cur = outs;
  });
  // Unsafe condition on y_j = s·(q_j − zp): Σ c_j·s·q_j + (offset − s·zp·Σ c_j) ≤ 0, in exact reals.
  const s = prog.output.scale[0]!;
  const zp = prog.output.zeroPoint[0]!;
  const disjuncts = icase.unsafe.disjuncts.map((conj) => {
    const cs = conj.map((c) => {
      const terms: string[] = [];
      c.coeffs.forEach((w, j) => {
        if (w !== 0) terms.push(`(* ${realLit(w)} ${realLit(s)} (to_real ${cur[j]!}))`);
        if (w !== 0 && zp !== 0) terms.push(`(- (* ${realLit(w)} ${realLit(s)} ${realLit(zp)}))`);
      });
      if (c.offset !== 0) terms.push(realLit(c.offset));
      return `(${c.strict ? '<' : '<='} ${sum(terms, '0.0')} 0.0)`;
    });
    return cs.length === 1 ? cs[0]! : `(and ${cs.join(' ')})`;
  });
  lines.push(`(assert ${disjuncts.length === 1 ? disjuncts[0]! : `(or ${disjuncts.join(' ')})`})`);
  return { script: lines.join('\n'), inputNames, bounds };
}

