/**
 * Strict comparisons in VNN-LIB: `(< a b)` and `(> a b)` are not `<=`/`>=`. A tie satisfies the non-strict
 * property and not the strict one, so on a network whose outputs are tied everywhere the two must get opposite
 * answers: no method may answer sat for the strict one, and the exact ones must answer unsat. The reference here is the definition itself: the outputs are constant (or a known
 * affine function), so the exact answer is known by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyProblemAuto } from '../../src/verify/auto.js';
import { checkCounterexample, float32InBox } from '../../src/verify/counterexample.js';
import { evaluateIR } from '../../src/verify/ir.js';
import { inBox, isUnsafe } from '../../src/verify/property.js';
import { methodOptions, VERIFY_METHODS } from '../../src/verify/methods.js';
import { parseVnnlib } from '../../src/verify/vnnlib.js';
import { releaseZ3 } from '../../src/verify/smt/z3-runtime.js';
import { dense, network } from './tiny-nets.js';

test.after(releaseZ3);

/** y = [0.5, 0.5] for every x: zero weights, equal biases. */
const TIED = network(1, [dense('const', [[0], [0]], [0.5, 0.5])]);
/** y = [x, 0.5]. */
const IDENTITY = network(1, [dense('id', [[1], [0]], [0, 0.5])]);

const header = '(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n';

test('a tie is a counterexample of (<= Y_0 Y_1) but not of (< Y_0 Y_1): every method agrees with the definition', async () => {
  const strict = parseVnnlib(`${header}(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (< Y_0 Y_1))\n`, 'strict.vnnlib');
  const loose = parseVnnlib(`${header}(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (<= Y_0 Y_1))\n`, 'loose.vnnlib');
  const y = evaluateIR(TIED, Float64Array.of(0.3));
  assert.equal(y[0], y[1], 'the outputs are tied');
  assert.equal(isUnsafe(strict.cases[0]!.unsafe, y), false, 'a tie does not satisfy Y_0 < Y_1');
  assert.equal(isUnsafe(loose.cases[0]!.unsafe, y), true, 'a tie satisfies Y_0 <= Y_1');
  for (const method of VERIFY_METHODS) {
    // Only exact arithmetic can prove a tie is the best there is (bounds carry rounding margins, MILP has
    // tolerances): SMT and auto (which falls back to SMT) must say unsat, the others must at least not say sat.
    const s = await verifyProblemAuto(TIED, strict, { timeLimit: 10, ...methodOptions(method) });
    if (method === 'smt' || method === 'auto') assert.equal(s.verdict, 'unsat', `${method} on (< Y_0 Y_1): ${s.verdict} (${s.method})`);
    else assert.ok(s.verdict === 'unsat' || s.verdict === 'unknown', `${method} on (< Y_0 Y_1): ${s.verdict} (${s.method})`);
    if (method === 'ibp' || method === 'crown') continue; // bounds alone never answer sat
    const l = await verifyProblemAuto(TIED, loose, { timeLimit: 10, ...methodOptions(method) });
    assert.equal(l.verdict, 'sat', `${method} on (<= Y_0 Y_1): ${l.verdict} (${l.method})`);
  }
});

test('(> Y_0 Y_1) is read as Y_1 − Y_0 < 0, and its re-check rejects a tie and accepts a strict win', () => {
  const p = parseVnnlib(`${header}(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (> Y_0 Y_1))\n`, 'gt.vnnlib');
  const c = p.cases[0]!;
  const tie = checkCounterexample(IDENTITY, c, Float64Array.of(0.5));
  assert.equal(tie, null, 'x = 0.5 gives y0 = y1, not y0 > y1');
  const win = checkCounterexample(IDENTITY, c, Float64Array.of(0.75));
  assert.ok(win, 'x = 0.75 gives y0 > y1');
});

test('a strict input bound excludes its end point: x = 0.5 is no counterexample of X_0 < 0.5', async () => {
  // y0 = x ≥ y1 = 0.5 holds only at x = 0.5, which (< X_0 0.5) excludes: the exact answer is unsat.
  const p = parseVnnlib(`${header}(assert (>= X_0 0))\n(assert (< X_0 0.5))\n(assert (>= Y_0 Y_1))\n`, 'open.vnnlib');
  const c = p.cases[0]!;
  assert.equal(inBox(c.input, [0.5]), false, 'the open end is outside the region');
  assert.equal(inBox(c.input, [0.25]), true);
  assert.equal(checkCounterexample(IDENTITY, c, Float64Array.of(0.5)), null);
  const snapped = float32InBox(c.input, Float64Array.of(0.5));
  assert.ok(snapped && snapped[0]! < 0.5, `snapping to float32 stays inside the open end, got ${snapped?.[0]}`);
  for (const method of VERIFY_METHODS) {
    const r = await verifyProblemAuto(IDENTITY, p, { timeLimit: 10, ...methodOptions(method) });
    assert.notEqual(r.verdict, 'sat', `${method} answered sat at the excluded end point`);
    if (method === 'smt' || method === 'auto') assert.equal(r.verdict, 'unsat', `${method}: exact SMT decides it, got ${r.verdict} (${r.method})`);
  }
});

test('X_0 >= 0.5 with X_0 < 0.5 is an empty region, not the point 0.5', () => {
  assert.throws(
    () => parseVnnlib(`${header}(assert (>= X_0 0.5))\n(assert (< X_0 0.5))\n(assert (>= Y_0 Y_1))\n`, 'empty.vnnlib'),
    (e: Error & { code?: string }) => e.code === 'invalid_argument' && /empty\.vnnlib/.test(e.message) && /X_0/.test(e.message) && /empty/.test(e.message),
  );
});
