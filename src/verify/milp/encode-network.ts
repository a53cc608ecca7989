/**
 * Mixed-integer encoding of a NetworkIR over an input box (Tjeng, Xiao, Tedrake 2019, "Evaluating Robustness
 * of Neural Networks with Mixed Integer Programming", arXiv 1711.07356):
 *
 * - affine steps are rows −d ≤ z − (W x + b) ≤ d, d the float32 evaluation margin of the row
 *   (`bounds/evaluation.ts`), one continuous column per output with the bounds it is known to stay in;
 * - a ReLU whose input bounds [l, u] are one-signed is exact without any integer (identity or 0); an unstable
 *   one gets one binary δ and the big-M rows a ≥ z, a ≤ z − l(1 − δ), a ≤ u·δ, a ≥ 0 with M taken from the
 *   tightest bounds supplied (CROWN's, else IBP's), so the relaxation is as tight as those bounds allow;
 * - a max-pool group is exact when one input's lower bound dominates every other upper bound, otherwise one
 *   binary per candidate input (y ≥ x_k, y ≤ x_k + (U − l_k)(1 − δ_k), Σδ = 1);
 * - a fake-quant step y = (clamp(round(x/s) + z, qmin, qmax) − z)·s gets one integer column q for its code
 *   with (q − z − ½)s − δ ≤ x ≤ (q − z + ½)s + δ, relaxed by a binary where the clamp can bind. δ, a few
 *   relative ulps of |x|, covers the sliver where the evaluated quotient fl(x/s) lies on the other side of an
 *   edge than the exact one: there both neighbouring codes are feasible (a superset of the true graph and of
 *   the evaluated one, so `unsat` stays sound; a `sat` candidate is re-checked anyway).
 *
 * Bounds are widened by a tiny relative margin before use: bounds computed in float64 can be off by rounding,
 * and a too-tight big-M constant would cut off real behaviour. Widening only loosens the relaxation.
 */
import { QrobustError } from '../../core/errors.js';
import { roundHalfAway } from '../../quant/rounding.js';
import { stepInSize, type IRStep, type NetworkIR } from '../ir.js';
import type { Box, Interval, NetworkBounds } from '../property.js';
import { affineEvalMargins } from '../bounds/evaluation.js';
import { NUDGE } from '../bounds/quantize.js';
import { combine, constExpr, MilpBuilder, varExpr, type LinExpr } from './lp-builder.js';

export interface NetworkEncoding {
  readonly builder: MilpBuilder;
  /** The input columns, in input order. */
  readonly inputVars: readonly number[];
  /** The network's outputs as linear expressions over the columns. */
  readonly outputs: readonly LinExpr[];
  readonly stats: EncodingStats;
}

export interface EncodingStats {
  readonly unstableRelus: number;
  readonly stableRelus: number;
  readonly binaries: number;
  readonly integers: number;
}

/** Relative and absolute widening of bounds before they become big-M constants. */
const WIDEN = 1e-9;

function widen(lo: number, hi: number): [number, number] {
  return [lo - WIDEN * (1 + Math.abs(lo)), hi + WIDEN * (1 + Math.abs(hi))];
}

/**
 * Encodes the IR into `builder` (a fresh one by default). `bounds` must be sound bounds for this IR over
 * `input` (e.g. from `intervalBounds` or `crownBounds`).
 * @throws QrobustError when the bounds do not match the IR or are not finite.
 */
export function encodeNetwork(ir: NetworkIR, input: Box, bounds: NetworkBounds, builder = new MilpBuilder()): NetworkEncoding {
  if (bounds.steps.length !== ir.steps.length) {
    throw new QrobustError('invalid_argument', `${ir.source}: bounds cover ${bounds.steps.length} steps, the IR has ${ir.steps.length}`);
  }
  if (input.lower.length !== ir.inputSize) {
    throw new QrobustError('invalid_argument', `${ir.source}: the input box has ${input.lower.length} values, the network expects ${ir.inputSize}`);
  }
  const inputVars: number[] = [];
  let exprs: LinExpr[] = [];
  for (let i = 0; i < ir.inputSize; i++) {
    const v = builder.addVar(input.lower[i]!, input.upper[i]!);
    inputVars.push(v);
    exprs.push(varExpr(v));
  }
  let preBounds: Interval = input;
  const counts = { unstable: 0, stable: 0 };
  ir.steps.forEach((step, s) => {
    const out = bounds.steps[s]!;
    checkFinite(ir, step, out);
    exprs = encodeStep(builder, step, exprs, preBounds, out, counts);
    preBounds = out;
  });
  return {
    builder,
    inputVars,
    outputs: exprs,
    stats: {
      unstableRelus: counts.unstable,
      stableRelus: counts.stable,
      binaries: builder.binaryCount,
      integers: builder.integerCount,
    },
  };
}

function checkFinite(ir: NetworkIR, step: IRStep, b: Interval): void {
  for (let i = 0; i < b.lower.length; i++) {
    if (!Number.isFinite(b.lower[i]!) || !Number.isFinite(b.upper[i]!)) {
      throw new QrobustError('invalid_argument', `${ir.source}: bounds of step '${step.name}' are not finite (output ${i}); the MILP needs finite big-M constants`);
    }
  }
}

function encodeStep(b: MilpBuilder, step: IRStep, x: LinExpr[], pre: Interval, post: Interval, counts: { unstable: number; stable: number }): LinExpr[] {
  if (x.length !== stepInSize(step)) throw new QrobustError('invalid_argument', `step '${step.name}': ${x.length} inputs, expected ${stepInSize(step)}`);
  switch (step.kind) {
    case 'affine': {
      const out: LinExpr[] = [];
      const m = step.weights;
      // Each output may lie anywhere within its float32 evaluation margin of W x + b (`bounds/evaluation.ts`),
      // so the model contains every float64 and float32 evaluation, not only the exact one.
      const slack = affineEvalMargins(step, pre.lower.map((l, i) => Math.max(Math.abs(l), Math.abs(pre.upper[i]!))));
      for (let j = 0; j < step.outSize; j++) {
        const terms: { expr: LinExpr; weight: number }[] = [];
        if (m.format === 'dense') {
          const row = j * m.cols;
          for (let i = 0; i < m.cols; i++) {
            const w = m.data[row + i]!;
            if (w !== 0) terms.push({ expr: x[i]!, weight: w });
          }
        } else {
          for (let k = m.rowPtr[j]!; k < m.rowPtr[j + 1]!; k++) terms.push({ expr: x[m.colIdx[k]!]!, weight: m.values[k]! });
        }
        const e = combine(terms, step.bias[j]!);
        const d = slack[j]!;
        if (!Number.isFinite(d)) throw new QrobustError('invalid_argument', `step '${step.name}' output ${j}: its float32 evaluation may overflow`);
        if (e.vars.length === 0 && d === 0) {
          out.push(constExpr(e.constant));
          continue;
        }
        const [lo, hi] = widen(Math.min(post.lower[j]!, e.vars.length ? Infinity : e.constant - d), Math.max(post.upper[j]!, e.vars.length ? -Infinity : e.constant + d));
        const z = b.addVar(lo, hi);
        // −d ≤ z − Σ w·x − b ≤ d
        if (e.vars.length) b.addRow(combine([{ expr: varExpr(z), weight: 1 }, { expr: e, weight: -1 }]), -d, d);
        out.push(varExpr(z));
      }
      return out;
    }
    case 'relu':
      return x.map((e, j) => {
        const [l, u] = widen(pre.lower[j]!, pre.upper[j]!);
        if (pre.upper[j]! <= 0) {
          counts.stable++;
          return constExpr(0);
        }
        if (pre.lower[j]! >= 0) {
          counts.stable++;
          return e;
        }
        counts.unstable++;
        const a = b.addVar(0, u);
        const d = b.addBinary();
        const av = varExpr(a);
        // a ≥ z
        b.addLe(combine([{ expr: e, weight: 1 }, { expr: av, weight: -1 }]));
        // a ≤ z − l(1 − δ)  ⇔  a − z − l·δ + l ≤ 0
        b.addLe(combine([{ expr: av, weight: 1 }, { expr: e, weight: -1 }, { expr: varExpr(d), weight: -l }], l));
        // a ≤ u·δ
        b.addLe(combine([{ expr: av, weight: 1 }, { expr: varExpr(d), weight: -u }]));
        return av;
      });
    case 'maxpool': {
      const out: LinExpr[] = [];
      for (let j = 0; j < step.outSize; j++) {
        const group: number[] = [];
        for (let k = step.offsets[j]!; k < step.offsets[j + 1]!; k++) group.push(step.indices[k]!);
        const maxLower = Math.max(...group.map((i) => pre.lower[i]!));
        const candidates = group.filter((i) => pre.upper[i]! >= maxLower);
        if (candidates.length === 1) {
          out.push(x[candidates[0]!]!);
          continue;
        }
        const [lo, hi] = widen(maxLower, Math.max(...candidates.map((i) => pre.upper[i]!)));
        const y = b.addVar(lo, hi);
        const yv = varExpr(y);
        const deltas: LinExpr[] = [];
        for (const i of candidates) {
          const [li] = widen(pre.lower[i]!, pre.upper[i]!);
          const d = b.addBinary();
          deltas.push(varExpr(d));
          // y ≥ x_i
          b.addLe(combine([{ expr: x[i]!, weight: 1 }, { expr: yv, weight: -1 }]));
          // y ≤ x_i + (U − l_i)(1 − δ_i)  ⇔  y − x_i + (U − l_i)δ_i − (U − l_i) ≤ 0
          const big = hi - li;
          b.addLe(combine([{ expr: yv, weight: 1 }, { expr: x[i]!, weight: -1 }, { expr: varExpr(d), weight: big }], -big));
        }
        b.addEq(combine(deltas.map((expr) => ({ expr, weight: 1 })), -1));
        out.push(yv);
      }
      return out;
    }
    case 'quantize':
      return x.map((e, j) => encodeQuantize(b, step, j, e, pre));
    case 'smooth':
      throw new QrobustError('unsupported_layer', `step '${step.name}' (${step.fn}): MILP encodes piecewise-linear networks only; sigmoid and tanh get bounds, not a complete answer`);
    case 'dynamicQuantize':
      throw new QrobustError('unsupported_layer', `step '${step.name}': a run-time input quantizer (its scale depends on the whole input) gets bounds, not a MILP encoding`);
  }
}

/** One fake-quant element: an integer code column tied to its input by the rounding inequalities. */
function encodeQuantize(b: MilpBuilder, step: Extract<IRStep, { kind: 'quantize' }>, j: number, e: LinExpr, pre: Interval): LinExpr {
  const per = step.scale.length > 1;
  const s = per ? step.scale[j]! : step.scale[0]!;
  const z = per ? step.zeroPoint[j]! : step.zeroPoint[0]!;
  const [l, u] = widen(pre.lower[j]!, pre.upper[j]!);
  const code = (v: number): number => Math.min(step.qmax, Math.max(step.qmin, roundHalfAway(v / s) + z));
  const qlo = code(l);
  const qhi = code(u);
  if (qlo === qhi) return constExpr((qlo - z) * s);
  const q = b.addVar(qlo, qhi, true);
  const qv = varExpr(q);
  // The IR rounds the computed quotient fl(x/s), which can sit on an edge while x/s is a hair below it: each
  // edge is moved outward by the plateaus' widening (`plateau` in bounds/quantize.ts), so that on the
  // sliver both codes are feasible and every evaluated execution stays in the model.
  const sliver = 2 * NUDGE * Math.max(Math.abs(l), Math.abs(u)) + Number.MIN_VALUE;
  // Lower rounding edge x ≥ (q − z − ½)s holds for every code above qmin; at q = qmin (clamped from below) it
  // must be switched off. It binds only if x can lie below the lowest interior edge, i.e. l < (qmin − z + ½)s.
  const lowEdge = combine([{ expr: qv, weight: s }, { expr: e, weight: -1 }], (-z - 0.5) * s - sliver); // (q − z − ½)s − x ≤ δ
  if (qlo > step.qmin || l >= (step.qmin - z - 0.5) * s) {
    b.addLe(lowEdge);
  } else {
    // β = 1 ⇔ q = qmin: q ≥ qmin + 1 − β, q ≤ qmin + (qhi − qmin)(1 − β); edge relaxed by M·β.
    const beta = b.addBinary();
    b.addLe(combine([{ expr: qv, weight: -1 }, { expr: varExpr(beta), weight: -1 }], step.qmin + 1));
    b.addLe(combine([{ expr: qv, weight: 1 }, { expr: varExpr(beta), weight: qhi - step.qmin }], -qhi));
    const big = Math.max(0, (step.qmin - z - 0.5) * s - l);
    b.addLe(combine([{ expr: lowEdge, weight: 1 }, { expr: varExpr(beta), weight: -big }]));
  }
  const highEdge = combine([{ expr: e, weight: 1 }, { expr: qv, weight: -s }], (z - 0.5) * s - sliver); // x − (q − z + ½)s ≤ δ
  if (qhi < step.qmax || u <= (step.qmax - z + 0.5) * s) {
    b.addLe(highEdge);
  } else {
    // γ = 1 ⇔ q = qmax.
    const gamma = b.addBinary();
    b.addLe(combine([{ expr: qv, weight: 1 }, { expr: varExpr(gamma), weight: -1 }], -(step.qmax - 1)));
    b.addLe(combine([{ expr: qv, weight: -1 }, { expr: varExpr(gamma), weight: step.qmax - qlo }], qlo));
    const big = Math.max(0, u - (step.qmax - z + 0.5) * s);
    b.addLe(combine([{ expr: highEdge, weight: 1 }, { expr: varExpr(gamma), weight: -big }]));
  }
  return varExpr(q, s, -z * s);
}
