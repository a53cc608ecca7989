/**
 * Exact real-arithmetic evaluation of a NetworkIR on one input, for re-checking counterexamples without any
 * rounding: every float64 weight, bias and input is a dyadic rational m·2^e, and affine maps, ReLU, max-pooling
 * and the fake-quant step (rounding half away from zero of x / s, then clamping) map dyadic vectors to dyadic
 * vectors, so BigInt mantissas with one shared exponent per vector represent every value exactly. The unsafe
 * condition is then decided by the exact sign of each constraint (strict ones included).
 *
 * This is the semantics the SMT verifier decides (real arithmetic on the IR's stored parameters), and the one a
 * counterexample falls back on when the model itself (onnxruntime) cannot run it.
 */
import { QrobustError } from '../core/errors.js';
import type { IRStep, Matrix, NetworkIR } from './ir.js';
import type { LinearConstraint, VerificationCase } from './property.js';

/** A vector of values m[i]·2^exp. */
interface DyadicVector {
  readonly m: bigint[];
  readonly exp: number;
}

const VIEW = new DataView(new ArrayBuffer(8));

/** v = mantissa·2^exponent exactly, for a finite double (mantissa 0 for ±0). */
function decompose(v: number): [bigint, number] {
  if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  if (v === 0) return [0n, 0];
  VIEW.setFloat64(0, v);
  const hi = VIEW.getUint32(0);
  const lo = VIEW.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (biased === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = biased - 1075;
  }
  while ((mant & 1n) === 0n) {
    mant >>= 1n;
    e++;
  }
  return [v < 0 ? -mant : mant, e];
}

/** Values as one dyadic vector (the smallest exponent among the non-zero ones). */
function fromDoubles(values: ArrayLike<number>): DyadicVector {
  const parts = Array.from({ length: values.length }, (_, i) => decompose(values[i]!));
  let exp = Infinity;
  for (const [m, e] of parts) if (m !== 0n && e < exp) exp = e;
  if (exp === Infinity) exp = 0;
  return { m: parts.map(([m, e]) => (m === 0n ? 0n : m << BigInt(e - exp))), exp };
}

/** The same values at a smaller (or equal) exponent. */
function rescale(v: DyadicVector, exp: number): bigint[] {
  const k = BigInt(v.exp - exp);
  return k === 0n ? v.m : v.m.map((x) => x << k);
}

function matrixDyadic(w: Matrix): { m: bigint[]; exp: number } {
  return fromDoubles(w.format === 'dense' ? w.data : w.values);
}

function affine(step: Extract<IRStep, { kind: 'affine' }>, x: DyadicVector): DyadicVector {
  const w = matrixDyadic(step.weights);
  const b = fromDoubles(step.bias);
  const prodExp = w.exp + x.exp;
  const exp = Math.min(prodExp, b.exp);
  const shiftProd = BigInt(prodExp - exp);
  const bias = rescale(b, exp);
  const out: bigint[] = new Array<bigint>(step.outSize);
  const m = step.weights;
  for (let i = 0; i < m.rows; i++) {
    let s = 0n;
    if (m.format === 'dense') {
      const row = i * m.cols;
      for (let j = 0; j < m.cols; j++) {
        const a = w.m[row + j]!;
        if (a !== 0n) s += a * x.m[j]!;
      }
    } else {
      for (let k = m.rowPtr[i]!; k < m.rowPtr[i + 1]!; k++) s += w.m[k]! * x.m[m.colIdx[k]!]!;
    }
    out[i] = (s << shiftProd) + bias[i]!;
  }
  return { m: out, exp };
}

/** roundHalfAway(num / den) for den > 0. */
function roundHalfAway(num: bigint, den: bigint): bigint {
  const a = num < 0n ? -num : num;
  const q = (2n * a + den) / (2n * den);
  return num < 0n ? -q : q;
}

function quantize(step: Extract<IRStep, { kind: 'quantize' }>, x: DyadicVector): DyadicVector {
  const n = step.size;
  const scales = Array.from({ length: n }, (_, i) => decompose(step.scale.length === 1 ? step.scale[0]! : step.scale[i]!));
  const codes: bigint[] = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    const [sm, se] = scales[i]!;
    if (sm <= 0n) throw new RangeError(`step '${step.name}': scale must be > 0`);
    const z = BigInt(step.zeroPoint.length === 1 ? step.zeroPoint[0]! : step.zeroPoint[i]!);
    // x / s = (xm / sm)·2^(x.exp − se)
    const d = x.exp - se;
    const num = d >= 0 ? x.m[i]! << BigInt(d) : x.m[i]!;
    const den = d >= 0 ? sm : sm << BigInt(-d);
    let q = roundHalfAway(num, den) + z;
    if (q < BigInt(step.qmin)) q = BigInt(step.qmin);
    if (q > BigInt(step.qmax)) q = BigInt(step.qmax);
    codes[i] = q - z;
  }
  // y_i = codes_i · sm_i · 2^se_i
  let exp = Infinity;
  for (const [, se] of scales) exp = Math.min(exp, se);
  return { m: codes.map((c, i) => c * scales[i]![0] << BigInt(scales[i]![1] - exp)), exp };
}

function applyExact(step: IRStep, x: DyadicVector): DyadicVector {
  switch (step.kind) {
    case 'affine':
      return affine(step, x);
    case 'relu':
      return { m: x.m.map((v) => (v > 0n ? v : 0n)), exp: x.exp };
    case 'maxpool': {
      const out: bigint[] = new Array<bigint>(step.outSize);
      for (let j = 0; j < step.outSize; j++) {
        let best = x.m[step.indices[step.offsets[j]!]!]!;
        for (let k = step.offsets[j]! + 1; k < step.offsets[j + 1]!; k++) if (x.m[step.indices[k]!]! > best) best = x.m[step.indices[k]!]!;
        out[j] = best;
      }
      return { m: out, exp: x.exp };
    }
    case 'quantize':
      return quantize(step, x);
    case 'smooth':
      throw new QrobustError('unsupported_layer', `step '${step.name}' (${step.fn}): exact dyadic arithmetic holds piecewise-linear networks only`);
    case 'dynamicQuantize':
      throw new QrobustError('unsupported_layer', `step '${step.name}' (a run-time input quantizer): exact dyadic arithmetic holds piecewise-linear networks only`);
  }
}

/** The exact output of the IR on x as a dyadic vector (mantissas and a shared exponent). */
export function evaluateExact(ir: NetworkIR, x: ArrayLike<number>): { readonly m: readonly bigint[]; readonly exp: number } {
  let v = fromDoubles(x);
  for (const step of ir.steps) v = applyExact(step, v);
  return v;
}

/** The exact sign (−1, 0, 1) of coeffs·y + offset for an exact output y. */
function constraintSign(c: LinearConstraint, y: DyadicVector): number {
  const w = fromDoubles(c.coeffs);
  const o = decompose(c.offset);
  const prodExp = w.exp + y.exp;
  const exp = Math.min(prodExp, o[0] === 0n ? prodExp : o[1]);
  let s = 0n;
  for (let i = 0; i < w.m.length; i++) if (w.m[i] !== 0n) s += w.m[i]! * y.m[i]!;
  s <<= BigInt(prodExp - exp);
  if (o[0] !== 0n) s += o[0] << BigInt(o[1] - exp);
  return s > 0n ? 1 : s < 0n ? -1 : 0;
}

/**
 * Whether x is a counterexample of the case in exact real arithmetic: inside the box (open ends excluded) and
 * the exact output meets some disjunct of the unsafe condition (a strict constraint needs a negative value).
 * Non-finite inputs or parameters are never a counterexample.
 */
export function exactlyUnsafe(ir: NetworkIR, vcase: VerificationCase, x: ArrayLike<number>): boolean {
  const b = vcase.input;
  for (let i = 0; i < b.lower.length; i++) {
    const v = x[i]!;
    if (!(b.openLower?.[i] ? v > b.lower[i]! : v >= b.lower[i]!) || !(b.openUpper?.[i] ? v < b.upper[i]! : v <= b.upper[i]!)) return false;
  }
  let y: DyadicVector;
  try {
    y = evaluateExact(ir, x) as DyadicVector;
  } catch (e) {
    if (e instanceof RangeError) return false;
    throw e;
  }
  return vcase.unsafe.disjuncts.some((conj) => conj.every((c) => {
    const s = constraintSign(c, y);
    return c.strict ? s < 0 : s <= 0;
  }));
}
