/**
 * SMT-LIB 2 text for exact numbers and linear terms. Every float64 is a dyadic rational m·2^e, so it is written
 * exactly as `(/ m 2^k)`; nothing is rounded on the way to the solver.
 */
import { QrobustError } from '../../core/errors.js';

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** A finite float64 as an exact (numerator, denominator = 2^k) pair. */
export function dyadic(x: number): { num: bigint; den: bigint } {
  if (!Number.isFinite(x)) throw new QrobustError('invalid_argument', `SMT encoding: ${x} is not a finite number`);
  if (Number.isInteger(x)) return { num: BigInt(x), den: 1n };
  F64[0] = x;
  const bits = U64[0]!;
  const negative = bits >> 63n === 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  let mant = exp === 0 ? frac : frac | (1n << 52n);
  let e = (exp === 0 ? 1 : exp) - 1075; // x = mant · 2^e
  while (mant % 2n === 0n && e < 0) {
    mant /= 2n;
    e++;
  }
  const num = negative ? -mant : mant;
  return e >= 0 ? { num: num << BigInt(e), den: 1n } : { num, den: 1n << BigInt(-e) };
}

function intText(n: bigint): string {
  return n < 0n ? `(- ${-n})` : `${n}`;
}

/** An exact real literal. */
export function realLit(x: number): string {
  const { num, den } = dyadic(x);
  const mag = num < 0n ? -num : num;
  const body = den === 1n ? `${mag}.0` : `(/ ${mag}.0 ${den}.0)`;
  return num < 0n ? `(- ${body})` : body;
}

/** An integer literal (exact for safe integers and bigints). */
export function intLit(n: number | bigint): string {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) throw new QrobustError('invalid_argument', `SMT encoding: ${n} is not a safe integer`);
  return intText(BigInt(n));
}

/** (+ t1 t2 …) with the empty and one-term cases handled; `zero` is the sort's 0. */
export function sum(terms: readonly string[], zero: string): string {
  if (terms.length === 0) return zero;
  if (terms.length === 1) return terms[0]!;
  return `(+ ${terms.join(' ')})`;
}

/** An exact rational from Z3's (numerator, denominator) as a float64 (nearest, up to one final rounding). */
export function rationalToNumber(num: bigint, den: bigint): number {
  if (den === 1n) return Number(num);
  // Scale so the quotient keeps 64 significant bits, then undo the scaling by exact powers of two.
  const neg = num < 0n;
  const n = neg ? -num : num;
  let shift = Math.max(0, 64 - (n.toString(2).length - den.toString(2).length));
  let v = Number((n << BigInt(shift)) / den);
  while (shift > 0) {
    const step = Math.min(shift, 1000);
    v /= 2 ** step;
    shift -= step;
  }
  return neg ? -v : v;
}
