/**
 * The Neumaier–Shcherbina bound of `milp/safe-bound.ts`: for any dual vector it is ≤ the objective at every
 * feasible point (weak duality, checked on a feasible point the LP is built around), and with HiGHS's duals it
 * is the LP optimum up to the tolerances.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { highsRuntime } from '../../src/verify/milp/highs-runtime.js';
import type { MilpData } from '../../src/verify/milp/lp-builder.js';
import { safeLpLowerBound } from '../../src/verify/milp/safe-bound.js';

/** A random bounded LP with rows l ≤ Ax ≤ u built around the feasible point x0 (some rows equalities). */
function randomLp(rng: Rng, n: number, m: number): { data: MilpData; x0: Float64Array } {
  const x0 = Float64Array.from({ length: n }, () => rng.normal());
  const starts = [0];
  const indices: number[] = [];
  const values: number[] = [];
  const rowLower: number[] = [];
  const rowUpper: number[] = [];
  for (let i = 0; i < m; i++) {
    let ax = 0;
    for (let j = 0; j < n; j++) {
      if (rng.next() < 0.5) continue;
      const a = rng.normal() * 10 ** rng.int(3);
      indices.push(j);
      values.push(a);
      ax += a * x0[j]!;
    }
    starts.push(indices.length);
    const eq = rng.next() < 0.3;
    rowLower.push(eq ? ax : ax - rng.next());
    rowUpper.push(eq ? ax : rng.next() < 0.5 ? Infinity : ax + rng.next());
  }
  const data: MilpData = {
    numCols: n,
    numRows: m,
    offset: rng.normal(),
    colCost: Float64Array.from({ length: n }, () => rng.normal()),
    colLower: x0.map((v) => v - 1 - rng.next()),
    colUpper: x0.map((v) => v + 1 + rng.next()),
    rowLower: Float64Array.from(rowLower),
    rowUpper: Float64Array.from(rowUpper),
    matrix: { format: 'csr', numRows: m, numCols: n, starts: Int32Array.from(starts), indices: Int32Array.from(indices), values: Float64Array.from(values) },
    integrality: new Int32Array(n),
  };
  return { data, x0 };
}

test('safe LP bound: below the objective at a feasible point for random duals; the optimum for HiGHS duals', async () => {
  const rng = new Rng(2);
  const highs = await highsRuntime.get();
  for (let t = 0; t < 20; t++) {
    const { data, x0 } = randomLp(rng, 8, 6);
    const at = data.offset + data.colCost.reduce((a, c, j) => a + c * x0[j]!, 0);
    for (let k = 0; k < 20; k++) {
      const y = Float64Array.from({ length: data.numRows }, () => rng.normal() * 10 ** (rng.int(5) - 2));
      assert.ok(safeLpLowerBound(data, y) <= at, `LP ${t}, dual ${k}`);
    }
    const withInf = { ...data, rowUpper: data.rowUpper.map((v) => (v === Infinity ? highs.infinity : v)) };
    const { opt, dual } = await highsRuntime.withModel(withInf, (model) => {
      model.options.set({ output_flag: false });
      model.run();
      return { opt: model.getObjectiveValue(), dual: model.getSolution().rowDual };
    });
    const safe = safeLpLowerBound(withInf, dual);
    assert.ok(safe <= opt + 1e-9 * (1 + Math.abs(opt)) && safe >= opt - 1e-5 * (1 + Math.abs(opt)), `LP ${t}: safe ${safe}, optimum ${opt}`);
    assert.ok(safe <= at, `LP ${t}: below the feasible point`);
  }
});
