import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { quantizeMultiplier, type RequantRounding } from '../../src/quant/integer/fixed-point.js';
import { quantizeInput, runIntegerProgram } from '../../src/quant/integer/kernels.js';
import type { IntDenseOp, IntegerProgram, QuantizeInputOp, Requant } from '../../src/quant/integer/program.js';
import { verifyIntegerCaseAuto } from '../../src/verify/auto.js';
import { integerCrownBounds } from '../../src/verify/integer/crown-bounds.js';
import { dequantizeCodes, runOnCodes, traceIntegerProgram } from '../../src/verify/integer/evaluate.js';
import { codeBox, inputCode, pixelsForCodes } from '../../src/verify/integer/input-region.js';
import { integerCase } from '../../src/verify/integer/integer-case.js';
import { integerIntervalBounds } from '../../src/verify/integer/interval.js';
import { requantize, requantLinearization, requantThresholds } from '../../src/verify/integer/requant.js';
import { verifyIntegerCaseMilp } from '../../src/verify/milp/verify-integer-milp.js';
import { isUnsafe, localRobustnessCase, type VerificationCase } from '../../src/verify/property.js';
import { requantTerm } from '../../src/verify/smt/encode-integer.js';
import { intLit } from '../../src/verify/smt/smtlib.js';
import { verifyIntegerCaseSmt } from '../../src/verify/smt/verify-smt.js';
import { releaseZ3, z3 } from '../../src/verify/smt/z3-runtime.js';
import { box, le, vcase } from './tiny-nets.js';

after(releaseZ3);

const PIXEL_GRID: QuantizeInputOp = {
  op: 'quantizeInput',
  mean: null,
  invStd: null,
  params: { bits: 8, scheme: 'affine', qmin: -128, qmax: 127, scale: [Math.fround(1 / 255)], zeroPoint: [-128], granularity: 'per-tensor' },
  size: 0,
  channels: 1,
};

function requant(m: number, rounding: RequantRounding, outZeroPoint: number, lo: number, hi: number): Requant {
  const q = quantizeMultiplier(m);
  return { multiplier: Int32Array.of(q.multiplier), shift: Int32Array.of(q.shift), outZeroPoint, lo, hi, rounding, realMultiplier: Float32Array.of(Math.fround(m)) };
}

function dense(name: string, inSize: number, outSize: number, weights: number[], bias: number[], inZeroPoint: number, r: Requant): IntDenseOp {
  return {
    op: 'dense',
    name,
    inSize,
    outSize,
    weights: Float64Array.from(weights),
    bias: Int32Array.from(bias),
    inZeroPoint,
    requant: r,
    grids: { inputScale: 1, weightScale: Float32Array.of(1), weightZeroPoint: Int32Array.of(0), outputScale: 1 },
  };
}

function program(size: number, ops: IntDenseOp[], rounding: RequantRounding, outScale = 1): IntegerProgram {
  return {
    rounding,
    inputShape: [1, 1, size],
    prologue: { ...PIXEL_GRID, size },
    ops,
    output: { bits: 8, scheme: 'affine', qmin: -128, qmax: 127, scale: [outScale], zeroPoint: [0], granularity: 'per-tensor' },
    outputSize: ops[ops.length - 1]!.outSize,
  };
}

/** Pixels whose input codes (scale 1/255, zero point −128) are exactly `codes`. */
function pixelBoxForCodes(lo: number[], hi: number[]) {
  return box(lo.map((c) => (c + 128) / 255), hi.map((c) => (c + 128) / 255));
}

/**
 * One input code in [−128, −126] (accumulator 0..2 with weight 1 and input zero point −128), requantized with
 * M = 3/16: at acc = 2 the exact product is 0.375, which TFLite's double rounding takes to 1 (the high-mul rounds
 * 0.375·2^−2… up, then the shift rounds again) while single rounding gives 0. Output 1 is the constant
 * requantize(5) = 1. "Output 1 is not strictly above output 0" is therefore sat under double rounding (a tie at
 * acc = 2) and unsat under single rounding.
 */
function roundingFlip(rounding: RequantRounding): IntegerProgram {
  return program(1, [dense('fc', 1, 2, [1, 0], [0, 5], -128, requant(0.1875, rounding, 0, -128, 127))], rounding);
}

test('requantization: the rounding mode flips a property (double rounding reaches code 1, single does not)', async () => {
  const region = pixelBoxForCodes([-128], [-126]);
  const unsafe = [[le([-1, 1], 0)]]; // y1 − y0 ≤ 0
  for (const rounding of ['double', 'single'] as const) {
    const prog = roundingFlip(rounding);
    const icase = integerCase(prog, vcase(region, unsafe));
    assert.deepEqual([icase.codes.lower[0], icase.codes.upper[0]], [-128, -126]);
    const expected = rounding === 'double' ? 'sat' : 'unsat';
    const results = [
      await verifyIntegerCaseSmt(icase, { encoding: 'arithmetic', timeLimit: 20 }),
      await verifyIntegerCaseSmt(icase, { encoding: 'threshold', timeLimit: 20 }),
      await verifyIntegerCaseMilp(icase, { timeLimit: 20 }),
    ];
    for (const r of results) {
      assert.equal(r.verdict, expected, `${rounding} rounding, ${r.method}: ${r.verdict} (${r.reason ?? ''})`);
      if (r.verdict === 'sat') {
        const pixels = Float32Array.from(r.counterexample!.input);
        const codes = runIntegerProgram(prog, pixels, 1);
        assert.deepEqual(Array.from(codes), [1, 1], 'the deployed program itself ties at code 1');
      }
    }
  }
});

test('threshold tables equal the integer kernel on every accumulator (double, single and ONNX Runtime rounding)', () => {
  const rng = new Rng(5);
  for (const rounding of ['double', 'single', 'onnxruntime'] as const) {
    for (const m of [0.1875, 0.0123, 0.7, 1.9, 3.3]) {
      const r = requant(m, rounding, Math.floor(rng.next() * 20) - 10, -128, 127);
      const lo = -3000 + Math.floor(rng.next() * 100);
      const hi = 3000;
      const { base, thresholds } = requantThresholds(r, 0, lo, hi);
      let k = 0;
      for (let acc = lo; acc <= hi; acc++) {
        while (k < thresholds.length && thresholds[k]! <= acc) k++;
        assert.equal(base + k, requantize(acc, 0, r), `${rounding} M=${m} acc=${acc}`);
      }
    }
  }
});

test('requantization stays within ν of the real product M·acc + zp on every accumulator, and ν is tight', () => {
  for (const rounding of ['double', 'single', 'onnxruntime'] as const) {
    for (const m of [0.1875, 0.0123, 0.00071, 0.7, 1.9, 3.3]) {
      const r = requant(m, rounding, 0, -1_000_000, 1_000_000);
      const maxAbs = 20000;
      const { M, noise } = requantLinearization(r, 0, maxAbs);
      let worst = 0;
      for (let acc = -maxAbs; acc <= maxAbs; acc++) worst = Math.max(worst, Math.abs(requantize(acc, 0, r) - M * acc));
      assert.ok(worst <= noise, `${rounding} M=${m}: error ${worst} > ν ${noise}`);
      // Rounding to an integer reaches (almost) half a unit; with a right shift (M < 1/2) ν is at most 3/4.
      assert.ok(worst >= 0.49, `${rounding} M=${m}: worst ${worst}`);
      if (m < 0.5) assert.ok(noise <= 0.75, `${rounding} M=${m}: ν ${noise}`);
    }
  }
});

test("the SMT 'arithmetic' transcription of TFLite's fixed-point requantization equals the kernel on every accumulator", async () => {
  // One query per (rounding, multiplier) with every accumulator of a range as its own ground instance: Z3 must
  // find the arithmetic term different from the kernel's value for none of them.
  const api = await z3();
  for (const rounding of ['double', 'single'] as const) {
    // 3/16 (right shift; ties at acc ≡ 8 mod 16/3) and 1.9 (left shift).
    for (const m of [0.1875, 1.9]) {
      const r = requant(m, rounding, 3, -128, 127);
      const lines: string[] = [];
      const differs: string[] = [];
      for (let acc = -300; acc <= 300; acc += 1) {
        const a = `a${acc < 0 ? 'm' : ''}${Math.abs(acc)}`;
        lines.push(`(declare-const ${a} Int)`, `(assert (= ${a} ${intLit(acc)}))`);
        differs.push(`(not (= ${requantTerm(a, r, 0, acc, acc, 'arithmetic', `${a}x`, lines)} ${intLit(requantize(acc, 0, r))}))`);
      }
      lines.push(`(assert (or ${differs.join(' ')}))`);
      const ctx = new api.Context('main');
      const solver = new ctx.Solver();
      solver.fromString(lines.join('\n'));
      assert.equal(await solver.check(), 'unsat', `${rounding} M=${m}: some accumulator in [−300, 300] differs`);
      solver.release();
    }
  }
});

test('input codes: the code box of a pixel box, and float32 pixels for every code in it, match quantizeInput', () => {
  const op: QuantizeInputOp = {
    op: 'quantizeInput',
    mean: Float32Array.of(0.1307),
    invStd: Float32Array.of(Math.fround(1 / 0.3081)),
    params: { bits: 8, scheme: 'affine', qmin: -128, qmax: 127, scale: [0.012728233821690083], zeroPoint: [-117], granularity: 'per-tensor' },
    size: 5,
    channels: 1,
  };
  const pixels = box([0, Math.fround(0.1), 0.5, 0.97, 0.3], [0.05, Math.fround(0.1), 0.53, 1, 0.4]);
  const codes = codeBox(op, pixels);
  const out = new Int16Array(5);
  for (let i = 0; i < 5; i++) {
    for (let c = codes.lower[i]!; c <= codes.upper[i]!; c++) {
      const target = Array.from(codes.lower);
      target[i] = c;
      const p = pixelsForCodes(op, target, pixels)!;
      assert.ok(p, `code ${c} of element ${i} has a pixel`);
      assert.ok(p[i]! >= pixels.lower[i]! && p[i]! <= pixels.upper[i]!);
      quantizeInput(op, p, 0, out);
      assert.deepEqual(Array.from(out), target, 'the kernel gives the requested codes');
      assert.equal(inputCode(op, i, p[i]!), c);
    }
  }
  assert.equal(codes.lower[1], codes.upper[1], 'a degenerate pixel interval has one code');
});

/** A random two-layer integer program with small weights (ReLU by clamping at the zero point). */
function randomProgram(rng: Rng, sizes: [number, number, number], rounding: RequantRounding): IntegerProgram {
  const w = (n: number): number[] => Array.from({ length: n }, () => Math.round((rng.next() - 0.5) * 14));
  const hiddenZp = -128 + Math.floor(rng.next() * 20);
  const fc1 = dense('fc1', sizes[0], sizes[1], w(sizes[0] * sizes[1]), w(sizes[1]).map((b) => b * 20), -128, requant(0.02 + 0.1 * rng.next(), rounding, hiddenZp, hiddenZp, 127));
  const fc2 = dense('fc2', sizes[1], sizes[2], w(sizes[1] * sizes[2]), w(sizes[2]).map((b) => b * 20), hiddenZp, requant(0.02 + 0.1 * rng.next(), rounding, 0, -128, 127));
  return program(sizes[0], [fc1, fc2], rounding, 0.05);
}

test('bit-precise verifiers agree with exhaustive enumeration of the input codes on random integer programs', async () => {
  const rng = new Rng(11);
  const seen = { sat: 0, unsat: 0 };
  for (let k = 0; k < 6; k++) {
    const rounding: RequantRounding = k % 3 === 0 ? 'double' : k % 3 === 1 ? 'single' : 'onnxruntime';
    const prog = randomProgram(rng, [4, 6, 3], rounding);
    const lo = Array.from({ length: 4 }, () => -128 + Math.floor(rng.next() * 200));
    const hi = lo.map((c) => Math.min(127, c + Math.floor(rng.next() * 5)));
    const centre = lo.map((c, i) => Math.round((c + hi[i]!) / 2));
    const y0 = dequantizeCodes(prog, runOnCodes(prog, centre));
    const label = y0.indexOf(Math.max(...y0));
    const c: VerificationCase = { input: pixelBoxForCodes(lo, hi), unsafe: localRobustnessCase([0, 0, 0], label, 0, 3).unsafe };
    const icase = integerCase(prog, c);
    // Ground truth: every code vector of the box through the integer program.
    let truth = 'unsat' as 'sat' | 'unsat';
    const codes = [...lo];
    const visit = (i: number): void => {
      if (truth === 'sat') return;
      if (i === 4) {
        if (isUnsafe(c.unsafe, dequantizeCodes(prog, runOnCodes(prog, codes)))) truth = 'sat';
        return;
      }
      for (let v = lo[i]!; v <= hi[i]!; v++) {
        codes[i] = v;
        visit(i + 1);
      }
    };
    visit(0);
    seen[truth]++;
    const answers = [
      await verifyIntegerCaseSmt(icase, { encoding: 'threshold', timeLimit: 20 }),
      await verifyIntegerCaseMilp(icase, { timeLimit: 20 }),
      await verifyIntegerCaseAuto(icase, { timeLimit: 20 }),
    ];
    if (rounding !== 'onnxruntime') answers.push(await verifyIntegerCaseSmt(icase, { encoding: 'arithmetic', timeLimit: 20 }));
    for (const r of answers) {
      assert.equal(r.verdict, truth, `program ${k} (${rounding}), ${r.method}: ${r.verdict} ${r.reason ?? ''}, enumeration: ${truth}`);
      if (r.verdict === 'sat') {
        const y = dequantizeCodes(prog, runIntegerProgram(prog, Float32Array.from(r.counterexample!.input), 1));
        assert.ok(isUnsafe(c.unsafe, y), 'the counterexample re-runs unsafe on the deployed path');
      }
    }
  }
  assert.ok(seen.sat > 0 && seen.unsat > 0, `both answers occur (${JSON.stringify(seen)})`);
});

test('integer interval and CROWN bounds contain every sampled execution; CROWN is never looser', () => {
  const rng = new Rng(3);
  for (const rounding of ['double', 'onnxruntime'] as const) {
    const prog = randomProgram(rng, [12, 10, 4], rounding);
    const lo = Array.from({ length: 12 }, () => -128 + Math.floor(rng.next() * 180));
    const hi = lo.map((c) => Math.min(127, c + 20));
    const codes = codeBox(prog.prologue, pixelBoxForCodes(lo, hi));
    const ib = integerIntervalBounds(prog, codes);
    const cb = integerCrownBounds(prog, codes);
    let tighter = 0;
    prog.ops.forEach((_, k) => {
      for (let j = 0; j < ib.ops[k]!.lower.length; j++) {
        assert.ok(cb.ops[k]!.lower[j]! >= ib.ops[k]!.lower[j]! && cb.ops[k]!.upper[j]! <= ib.ops[k]!.upper[j]!);
        tighter += cb.ops[k]!.upper[j]! - cb.ops[k]!.lower[j]! < ib.ops[k]!.upper[j]! - ib.ops[k]!.lower[j]! ? 1 : 0;
      }
    });
    for (let s = 0; s < 3000; s++) {
      const x = lo.map((l, i) => l + Math.floor(rng.next() * (hi[i]! - l + 1)));
      const trace = traceIntegerProgram(prog, x);
      trace.forEach((t, k) => {
        for (let j = 0; j < t.length; j++) {
          assert.ok(t[j]! >= cb.ops[k]!.lower[j]! && t[j]! <= cb.ops[k]!.upper[j]!, `${rounding} op ${k} output ${j}: ${t[j]} outside [${cb.ops[k]!.lower[j]}, ${cb.ops[k]!.upper[j]}]`);
        }
      });
    }
    // The first layer's interval bounds are exact: each is attained at a corner of the code box.
    const fc1 = prog.ops[0] as IntDenseOp;
    for (let j = 0; j < fc1.outSize; j++) {
      const corner = lo.map((l, i) => (fc1.weights[j * fc1.inSize + i]! > 0 ? hi[i]! : l));
      assert.equal(traceIntegerProgram(prog, corner)[0]![j], ib.ops[0]!.upper[j]);
    }
    // Past the first layer CROWN's linear relaxation gains on interval arithmetic somewhere.
    assert.ok(tighter > 0, `${rounding}: CROWN is nowhere tighter than interval bounds`);
  }
});
