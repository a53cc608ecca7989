/**
 * SMT-LIB encoding of a float NetworkIR in exact rational arithmetic (QF_LIRA); by default ('evaluated', see
 * `RealSemantics`) every affine output and fake-quant quotient may deviate from its exact value by its
 * evaluation margin, so that `unsat` covers float64 and float32 evaluation too. Inputs are real constants bounded by
 * the box, affine steps are exact linear equalities over the dyadic weights, a ReLU is `ite(z ≥ 0, z, 0)`, a
 * max-pool a chain of `ite`s, and a fake-quant step is exact too: its code is an integer
 * q = clamp(r + z, qmin, qmax) with r = round-half-away(x/s) written with `to_int` (floor). The unsafe condition
 * is asserted as one disjunction, so one check decides the whole case. Where sound bounds are given, ReLUs
 * that are stable over the box are encoded without a case split and unstable pre-activations get their bounds
 * as extra (redundant) assertions, which helps the solver prune.
 */
import { QrobustError } from '../../core/errors.js';
import type { IRStep, NetworkIR } from '../ir.js';
import type { NetworkBounds, VerificationCase } from '../property.js';
import { affineEvalMargins } from '../bounds/evaluation.js';
import { NUDGE } from '../bounds/quantize.js';
import { intervalBounds } from '../ibp.js';
import { intLit, realLit, sum } from './smtlib.js';

export interface RealEncoding {
  readonly script: string;
  /** The SMT names of the input variables. */
  readonly inputNames: readonly string[];
  readonly unstableRelus: number;
}

/**
 * 'exact': the IR in exact rational arithmetic. 'evaluated': each affine output a_j is only pinned to within its
 * float32 evaluation margin m_j of the exact value (`bounds/evaluation.ts`, which also covers float64), so an
 * `unsat` holds for every float64 or float32 evaluation as well.
 */
export type RealSemantics = 'exact' | 'evaluated';

export function encodeRealNetwork(ir: NetworkIR, vcase: VerificationCase, bounds?: NetworkBounds, semantics: RealSemantics = 'evaluated'): RealEncoding {
  if (vcase.input.lower.length !== ir.inputSize) {
    throw new QrobustError('invalid_argument', `${ir.source}: the input box has ${vcase.input.lower.length} values, the network expects ${ir.inputSize}`);
  }
  // The margins need bounds on every step's input: the given ones, else interval bounds.
  const marginBounds = semantics === 'evaluated' ? (bounds ?? intervalBounds(ir, vcase.input)) : null;
  const lines: string[] = ['(set-logic QF_LIRA)'];
  const inputNames: string[] = [];
  let cur: string[] = [];
  for (let i = 0; i < ir.inputSize; i++) {
    const n = `x_${i}`;
    inputNames.push(n);
    const b = vcase.input;
    lines.push(`(declare-const ${n} Real)`, `(assert (and (${b.openLower?.[i] ? '<' : '<='} ${realLit(b.lower[i]!)} ${n}) (${b.openUpper?.[i] ? '<' : '<='} ${n} ${realLit(b.upper[i]!)})))`);
    cur.push(n);
  }
  let unstable = 0;
  ir.steps.forEach((step, s) => {
    const pre = s === 0 ? bounds?.input : bounds?.steps[s - 1];
    let margins: Float64Array | null = null;
    if (marginBounds && (step.kind === 'affine' || step.kind === 'quantize')) {
      const x = s === 0 ? marginBounds.input : marginBounds.steps[s - 1]!;
      const absMax = x.lower.map((l, j) => Math.max(Math.abs(l), Math.abs(x.upper[j]!)));
      // A fake-quant step rounds the evaluated quotient fl(x/s): within NUDGE relative of the exact one.
      margins =
        step.kind === 'affine'
          ? affineEvalMargins(step, absMax)
          : absMax.map((a, j) => (2 * NUDGE * a) / Math.abs(step.scale.length > 1 ? step.scale[j]! : step.scale[0]!) + Number.MIN_VALUE);
    }
    const r = encodeStep(step, s, cur, lines, pre, margins);
    unstable += r.unstable;
    cur = r.outputs;
  });
  const disjuncts = vcase.unsafe.disjuncts.map((conj) => {
    const cs = conj.map((c) => {
      const terms: string[] = [];
      c.coeffs.forEach((w, j) => {
        if (w !== 0) terms.push(`(* ${realLit(w)} ${cur[j]!})`);
      });
      if (c.offset !== 0) terms.push(realLit(c.offset));
      return `(${c.strict ? '<' : '<='} ${sum(terms, '0.0')} 0.0)`;
    });
    return cs.length === 1 ? cs[0]! : `(and ${cs.join(' ')})`;
  });
  lines.push(`(assert ${disjuncts.length === 1 ? disjuncts[0]! : `(or ${disjuncts.join(' ')})`})`);
  return { script: lines.join('\n'), inputNames, unstableRelus: unstable };
}

function encodeStep(
  step: IRStep,
  s: number,
  x: string[],
  lines: string[],
  pre: { lower: Float64Array; upper: Float64Array } | undefined,
  margins: Float64Array | null = null,
): { outputs: string[]; unstable: number } {
  const outputs: string[] = [];
  let unstable = 0;
  switch (step.kind) {
    case 'affine': {
      const m = step.weights;
      for (let j = 0; j < step.outSize; j++) {
        const terms: string[] = [];
        if (m.format === 'dense') {
          for (let i = 0; i < m.cols; i++) {
            const w = m.data[j * m.cols + i]!;
            if (w !== 0) terms.push(`(* ${realLit(w)} ${x[i]!})`);
          }
        } else {
          for (let k = m.rowPtr[j]!; k < m.rowPtr[j + 1]!; k++) terms.push(`(* ${realLit(m.values[k]!)} ${x[m.colIdx[k]!]!})`);
        }
        if (step.bias[j] !== 0) terms.push(realLit(step.bias[j]!));
        const n = `a${s}_${j}`;
        const slack = margins ? margins[j]! : 0;
        if (!Number.isFinite(slack)) throw new QrobustError('invalid_argument', `step '${step.name}' output ${j}: its float32 evaluation may overflow`);
        if (slack > 0) {
          const e = sum(terms, '0.0');
          lines.push(`(declare-const ${n} Real)`, `(assert (<= (- ${e} ${realLit(slack)}) ${n} (+ ${e} ${realLit(slack)})))`);
        } else lines.push(`(declare-const ${n} Real)`, `(assert (= ${n} ${sum(terms, '0.0')}))`);
        outputs.push(n);
      }
      break;
    }
    case 'relu':
      for (let j = 0; j < step.size; j++) {
        if (pre && pre.upper[j]! <= 0) {
          outputs.push('0.0');
          continue;
        }
        if (pre && pre.lower[j]! >= 0) {
          outputs.push(x[j]!);
          continue;
        }
        unstable++;
        const n = `r${s}_${j}`;
        lines.push(`(declare-const ${n} Real)`, `(assert (= ${n} (ite (>= ${x[j]!} 0.0) ${x[j]!} 0.0)))`);
        if (pre) lines.push(`(assert (<= ${realLit(pre.lower[j]!)} ${x[j]!} ${realLit(pre.upper[j]!)}))`);
        outputs.push(n);
      }
      break;
    case 'maxpool':
      for (let j = 0; j < step.outSize; j++) {
        let acc = x[step.indices[step.offsets[j]!]!]!;
        for (let k = step.offsets[j]! + 1; k < step.offsets[j + 1]!; k++) {
          const v = x[step.indices[k]!]!;
          acc = `(ite (>= ${v} ${acc}) ${v} ${acc})`;
        }
        const n = `m${s}_${j}`;
        lines.push(`(declare-const ${n} Real)`, `(assert (= ${n} ${acc}))`);
        outputs.push(n);
      }
      break;
    case 'quantize': {
      const per = step.scale.length > 1;
      for (let j = 0; j < step.size; j++) {
        const sc = per ? step.scale[j]! : step.scale[0]!;
        const z = per ? step.zeroPoint[j]! : step.zeroPoint[0]!;
        let t = `(/ ${x[j]!} ${realLit(sc)})`;
        if (margins) {
          // The evaluated quotient, anywhere within its rounding margin of the exact one.
          const tv = `t${s}_${j}`;
          const m = realLit(margins[j]!);
          lines.push(`(declare-const ${tv} Real)`, `(assert (<= (- ${t} ${m}) ${tv} (+ ${t} ${m})))`);
          t = tv;
        }
        const q = `q${s}_${j}`;
        const zl = intLit(z);
        const lo = intLit(step.qmin);
        const hi = intLit(step.qmax);
        const r = `(+ (ite (>= ${t} 0.0) (to_int (+ ${t} 0.5)) (- (to_int (+ (- ${t}) 0.5)))) ${zl})`;
        lines.push(`(declare-const ${q} Int)`, `(assert (= ${q} (let ((r ${r})) (ite (< r ${lo}) ${lo} (ite (> r ${hi}) ${hi} r)))))`);
        outputs.push(`(* ${realLit(sc)} (to_real (- ${q} ${zl})))`);
      }
      break;
    }
    case 'smooth':
      throw new QrobustError('unsupported_layer', `step '${step.name}' (${step.fn}): the real-arithmetic SMT encoding holds piecewise-linear networks only`);
    case 'dynamicQuantize':
      throw new QrobustError('unsupported_layer', `step '${step.name}': a run-time input quantizer gets bounds, not an SMT encoding`);
  }
  return { outputs, unstable };
}
