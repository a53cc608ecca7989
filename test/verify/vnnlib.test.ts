import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { QrobustError } from '../../src/core/errors.js';
import { inBox, isUnsafe, type VerificationProblem } from '../../src/verify/property.js';
import { formatCounterexample, parseVnnlib, readVnnlib } from '../../src/verify/vnnlib.js';
import { MNISTFC, NEEDS_MNISTFC, parseWitness } from './fixtures.js';

/** Each mnistfc property parsed once per test file. */
const cache = new Map<string, Promise<VerificationProblem>>();
function parsed(file: string): Promise<VerificationProblem> {
  if (!cache.has(file)) cache.set(file, readVnnlib(join(MNISTFC!, file)));
  return cache.get(file)!;
}

test('all 30 mnistfc properties parse: 784 inputs in a box of width ≤ 2ε inside [0, 1], "some other class ≥ label"', { skip: NEEDS_MNISTFC }, async () => {
  const files = (await readdir(MNISTFC!)).filter((f) => f.endsWith('.vnnlib') || f.endsWith('.vnnlib.gz'));
  assert.equal(files.length, 30);
  for (const f of files) {
    const text = await readFile(join(MNISTFC!, f), 'utf8');
    const label = Number(/label: (\d+)/.exec(text)![1]);
    const eps = Number(/_(0\.\d+)\.vnnlib/.exec(f)![1]);
    const p = await parsed(f);
    assert.equal(p.inputSize, 784);
    assert.equal(p.outputSize, 10);
    assert.equal(p.cases.length, 1, f);
    const { input, unsafe } = p.cases[0]!;
    let widest = 0;
    for (let i = 0; i < 784; i++) {
      assert.ok(0 <= input.lower[i]! && input.lower[i]! <= input.upper[i]! && input.upper[i]! <= 1, `${f}: X_${i}`);
      widest = Math.max(widest, input.upper[i]! - input.lower[i]!);
    }
    assert.ok(widest <= 2 * eps + 1e-6 && widest > eps, `${f}: widest interval ${widest}`);
    // Nine disjuncts, one per other class j: Y_label − Y_j ≤ 0.
    assert.equal(unsafe.disjuncts.length, 9);
    const others = unsafe.disjuncts.map((conj) => {
      assert.equal(conj.length, 1);
      const c = conj[0]!;
      assert.equal(c.offset, 0);
      assert.equal(c.coeffs[label], 1);
      const j = c.coeffs.findIndex((v) => v === -1);
      assert.equal(c.coeffs.filter((v) => v !== 0).length, 2);
      return j;
    });
    assert.deepEqual(others.sort((a, b) => a - b), [...Array(10).keys()].filter((j) => j !== label));
  }
});

test('every stored mnistfc witness lies in its box and satisfies the parsed unsafe condition', { skip: NEEDS_MNISTFC }, async () => {
  const dir = join(MNISTFC!, 'witnesses');
  const files = await readdir(dir);
  assert.ok(files.length >= 20);
  for (const f of files) {
    const prop = /(prop_\d+_0\.\d+)/.exec(f)![1]!;
    const p = await parsed(`${prop}.vnnlib`);
    const w = parseWitness(await readFile(join(dir, f), 'utf8'));
    assert.ok(inBox(p.cases[0]!.input, w.x), `${f}: outside the box`);
    assert.ok(isUnsafe(p.cases[0]!.unsafe, w.y), `${f}: the recorded outputs do not meet the unsafe condition`);
  }
});

test('a gzipped property reads the same as the plain file, and the published .vnnlib.gz files of another benchmark parse', { skip: NEEDS_MNISTFC }, async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'qrobust-vnnlib-'));
  try {
    const src = join(MNISTFC!, 'prop_3_0.05.vnnlib');
    const gz = join(tmp, 'prop_3_0.05.vnnlib.gz');
    await writeFile(gz, gzipSync(await readFile(src)));
    const a = await readVnnlib(src);
    const b = await readVnnlib(gz);
    assert.deepEqual(b.cases, a.cases);
    assert.equal(b.source, gz);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const bnn = join(dirname(MNISTFC!), 'traffic_signs_recognition', 'vnnlib');
  const gzFiles = (await readdir(bnn).catch(() => [] as string[])).filter((f) => f.endsWith('.vnnlib.gz')).slice(0, 2);
  for (const f of gzFiles) {
    const p = await readVnnlib(join(bnn, f));
    assert.equal(p.outputSize, 43);
    assert.equal(p.cases.length, 1);
    assert.equal(p.cases[0]!.unsafe.disjuncts.length, 42);
  }
});

test('linear terms, constants on either side and strict comparisons', () => {
  const p = parseVnnlib(
    `(declare-const X_0 Real)
     (declare-const X_1 Real)
     (declare-const Y_0 Real) (declare-const Y_1 Real) (declare-const Y_2 Real)
     (assert (>= X_0 -0.5)) (assert (<= X_0 0.5))
     (assert (<= -1 X_1)) (assert (< X_1 (* 2 1.5)))
     ; 2·Y0 − Y1 + 3 ≥ Y2 / 4  ⇔  −2·Y0 + Y1 + 0.25·Y2 − 3 ≤ 0
     (assert (>= (+ (* 2 Y_0) (- Y_1) 3) (/ Y_2 4)))
     (check-sat)`,
    'inline',
  );
  assert.equal(p.cases.length, 1);
  assert.deepEqual([...p.cases[0]!.input.lower], [-0.5, -1]);
  assert.deepEqual([...p.cases[0]!.input.upper], [0.5, 3]);
  const c = p.cases[0]!.unsafe.disjuncts[0]![0]!;
  assert.deepEqual([...c.coeffs], [-2, 1, 0.25]);
  assert.equal(c.offset, -3);
});

test('an ACAS-style disjunction over input boxes becomes one case per box; equal boxes share a case', () => {
  const p = parseVnnlib(
    `(declare-const X_0 Real) (declare-const Y_0 Real) (declare-const Y_1 Real)
     (assert (or
       (and (>= X_0 0) (<= X_0 1) (>= Y_0 Y_1))
       (and (>= X_0 2) (<= X_0 3) (<= Y_0 5) (>= Y_1 1))
       (and (>= X_0 0) (<= X_0 1) (<= Y_1 -7))
       (and (>= X_0 5) (<= X_0 4) (>= Y_0 0))))`,
    'acas-like',
  );
  assert.equal(p.cases.length, 2, 'the empty box [5, 4] is dropped');
  assert.equal(p.notes?.length, 1, 'and the drop is reported');
  assert.match(p.notes![0]!, /acas-like: 1 of 4 disjuncts have an empty input box \(first X_0: lower bound 5 > upper bound 4\)/);
  const first = p.cases.find((c) => c.input.lower[0] === 0)!;
  const second = p.cases.find((c) => c.input.lower[0] === 2)!;
  assert.equal(first.unsafe.disjuncts.length, 2);
  assert.equal(second.unsafe.disjuncts.length, 1);
  assert.equal(second.unsafe.disjuncts[0]!.length, 2);
  assert.ok(isUnsafe(second.unsafe, [4, 1]));
  assert.ok(!isUnsafe(second.unsafe, [6, 1]));
  assert.ok(isUnsafe(first.unsafe, [0, -8]) && isUnsafe(first.unsafe, [2, 1]) && !isUnsafe(first.unsafe, [0, 1]));
});

test('malformed properties are rejected with the file, the line and the problem', () => {
  const header = '(declare-const X_0 Real)\n(declare-const Y_0 Real)\n';
  const box = '(assert (>= X_0 0))\n(assert (<= X_0 1))\n';
  const cases: [string, RegExp][] = [
    [`${header}${box}(assert (>= Y_0 0)`, /bad\.vnnlib:5: '\(' is never closed/],
    [`${header}${box}(assert (>= Y_0 0)))`, /bad\.vnnlib:5: unbalanced '\)'/],
    [`${header}${box}(assert (>= Y_1 0))`, /bad\.vnnlib:5: variable 'Y_1' is used before it is declared/],
    [`${header}${box}(assert (>= (* Y_0 Y_0) 0))`, /bad\.vnnlib:5: product of two variable terms is not linear/],
    [`${header}${box}(assert (>= (exp Y_0) 0))`, /bad\.vnnlib:5: unsupported operator 'exp'/],
    [`${header}${box}(assert (xor (>= Y_0 0) (<= Y_0 1)))`, /bad\.vnnlib:5: unsupported operator 'xor' in an assertion/],
    [`${header}${box}(assert (>= (+ X_0 Y_0) 0))`, /bad\.vnnlib:5: a constraint mixing inputs and outputs/],
    [`${header}(assert (>= X_0 0))\n(assert (>= Y_0 0))`, /bad\.vnnlib: input X_0 has no finite upper bound/],
    [`(declare-const X_1 Real)\n${header}${box}(assert (>= X_1 0))\n(assert (<= (+ X_0 X_1) 1))\n(assert (>= Y_0 0))`, /bad\.vnnlib:7: only bounds on a single input/],
    [`(declare-const X_0 Int)\n(declare-const Y_0 Real)\n${box}(assert (>= Y_0 0))`, /bad\.vnnlib:1: variable 'X_0' has sort Int; only Real/],
    [`${header}(declare-const Y_0 Real)\n${box}(assert (>= Y_0 0))`, /bad\.vnnlib:3: variable 'Y_0' is declared twice/],
    [`${header}${box}`, /bad\.vnnlib: no assertion constrains the outputs/],
    [`${header}(declare-const Z Real)`, /bad\.vnnlib:3: variable 'Z' is not named X_<i> or Y_<i>/],
    [`(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(assert (>= X_1 0))`, /bad\.vnnlib: X_0 is not declared but X_1 is/],
    [`${header}${box}(assert (>= Y_0 1e))`, /bad\.vnnlib:5: '1e' is neither a number nor an X_<i>\/Y_<i> variable/],
    [`${header}${box}(define-fun f () Real 0)`, /bad\.vnnlib:5: unsupported command 'define-fun'/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseVnnlib(text, 'bad.vnnlib'), (e: unknown) => e instanceof QrobustError && message.test(e.message), `expected ${message}`);
  }
});

test('a missing file is an io_error naming the path', async () => {
  await assert.rejects(readVnnlib('/nonexistent/prop.vnnlib'), (e: unknown) => e instanceof QrobustError && e.code === 'io_error' && e.message.includes('/nonexistent/prop.vnnlib'));
});

test('counterexamples are written in the VNN-COMP format and read back to the same float64 values', { skip: NEEDS_MNISTFC }, async () => {
  const text = await readFile(join(MNISTFC!, 'witnesses', 'mnist-net_256x2_prop_0_0.05.counterexample'), 'utf8');
  const w = parseWitness(text);
  const out = formatCounterexample(w.x, w.y);
  assert.ok(out.startsWith('((X_0 ') && out.endsWith(`(Y_9 ${w.y[9]}))\n`));
  assert.equal(out.split('\n').length, 784 + 10 + 1);
  // The stored file prints 17 significant digits, qrobust the shortest decimal that reads back the same.
  assert.deepEqual(parseWitness(out), w);
  const tiny = formatCounterexample(Float32Array.of(1e-7, -0), [Math.fround(0.1)]);
  assert.equal(tiny, `((X_0 ${Math.fround(1e-7)})\n(X_1 0)\n(Y_0 ${Math.fround(0.1)}))\n`);
  assert.throws(() => formatCounterexample([NaN], [0]), QrobustError);
});
