/**
 * A small builder for mixed-integer linear programs in the form HiGHS takes them: columns with bounds, cost and
 * integrality, and rows `lower ≤ Σ a_j x_j ≤ upper` stored as compressed sparse rows. The network encoders add
 * variables and constraints through it; `toModelData` hands the result to `highs` without any text format in
 * between (CPLEX LP text would print coefficients in decimal and lose bits).
 */
import { QrobustError } from '../../core/errors.js';

/** A linear expression Σ coef·x[var] + constant over the builder's columns. */
export interface LinExpr {
  readonly vars: readonly number[];
  readonly coefs: readonly number[];
  readonly constant: number;
}

export function constExpr(c: number): LinExpr {
  return { vars: [], coefs: [], constant: c };
}

export function varExpr(v: number, coef = 1, constant = 0): LinExpr {
  return { vars: [v], coefs: [coef], constant };
}

/** Σ w_i·e_i + c, merging repeated columns (HiGHS rejects duplicate indices in a row). */
export function combine(terms: readonly { readonly expr: LinExpr; readonly weight: number }[], constant = 0): LinExpr {
  const acc = new Map<number, number>();
  let c = constant;
  for (const { expr, weight } of terms) {
    if (weight === 0) continue;
    c += weight * expr.constant;
    for (let k = 0; k < expr.vars.length; k++) {
      const v = expr.vars[k]!;
      acc.set(v, (acc.get(v) ?? 0) + weight * expr.coefs[k]!);
    }
  }
  const vars: number[] = [];
  const coefs: number[] = [];
  for (const [v, a] of acc) {
    if (a !== 0) {
      vars.push(v);
      coefs.push(a);
    }
  }
  return { vars, coefs, constant: c };
}

/** The data HiGHS' `createModel` takes (a structural subset of its `ModelData`). */
export interface MilpData {
  readonly numCols: number;
  readonly numRows: number;
  readonly offset: number;
  readonly colCost: Float64Array;
  readonly colLower: Float64Array;
  readonly colUpper: Float64Array;
  readonly rowLower: Float64Array;
  readonly rowUpper: Float64Array;
  readonly matrix: {
    readonly format: 'csr';
    readonly numRows: number;
    readonly numCols: number;
    readonly starts: Int32Array;
    readonly indices: Int32Array;
    readonly values: Float64Array;
  };
  readonly integrality: Int32Array;
}

/** Growable typed arrays. */
class F64List {
  data = new Float64Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

class I32List {
  data = new Int32Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

export class MilpBuilder {
  private readonly lower = new F64List();
  private readonly upper = new F64List();
  private readonly cost = new F64List();
  private readonly integer = new I32List();
  private readonly rowLower = new F64List();
  private readonly rowUpper = new F64List();
  private readonly starts = new I32List();
  private readonly indices = new I32List();
  private readonly values = new F64List();
  private objectiveOffset = 0;
  /** Columns declared integer (binaries included) and binaries, counted for reports. */
  integerCount = 0;
  binaryCount = 0;

  constructor() {
    this.starts.push(0);
  }

  get numCols(): number {
    return this.lower.length;
  }

  get numRows(): number {
    return this.rowLower.length;
  }

  /** Adds a column with bounds [lo, hi] (±Infinity allowed) and returns its index. */
  addVar(lo: number, hi: number, integer = false): number {
    if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) {
      throw new QrobustError('invalid_argument', `MILP encoding: variable bounds [${lo}, ${hi}] are empty or not numbers`);
    }
    this.lower.push(lo);
    this.upper.push(hi);
    this.cost.push(0);
    this.integer.push(integer ? 1 : 0);
    if (integer) this.integerCount++;
    return this.lower.length - 1;
  }

  /** Adds a binary column. */
  addBinary(): number {
    this.binaryCount++;
    return this.addVar(0, 1, true);
  }

  /** lo ≤ expr ≤ hi (the expression's constant is moved to the bounds). */
  addRow(expr: LinExpr, lo: number, hi: number): void {
    const merged = expr.vars.length > 1 ? combine([{ expr, weight: 1 }]) : expr;
    if (merged.vars.length === 0) {
      // A constant constraint: check it here, HiGHS would accept an empty row silently.
      if (merged.constant < lo - 1e-9 || merged.constant > hi + 1e-9) {
        throw new QrobustError('invalid_argument', `MILP encoding: constant constraint ${lo} ≤ ${merged.constant} ≤ ${hi} is infeasible`);
      }
      return;
    }
    for (let k = 0; k < merged.vars.length; k++) {
      this.indices.push(merged.vars[k]!);
      this.values.push(merged.coefs[k]!);
    }
    this.starts.push(this.indices.length);
    this.rowLower.push(lo - merged.constant);
    this.rowUpper.push(hi - merged.constant);
  }

  /** expr ≤ 0. */
  addLe(expr: LinExpr): void {
    this.addRow(expr, -Infinity, 0);
  }

  /** expr = 0. */
  addEq(expr: LinExpr): void {
    this.addRow(expr, 0, 0);
  }

  /** Sets the objective to `expr` (minimized); replaces any earlier objective. */
  setObjective(expr: LinExpr): void {
    this.cost.data.fill(0, 0, this.cost.length);
    for (let k = 0; k < expr.vars.length; k++) this.cost.data[expr.vars[k]!] = (this.cost.data[expr.vars[k]!] ?? 0) + expr.coefs[k]!;
    this.objectiveOffset = expr.constant;
  }

  /** Current bounds of a column. */
  bounds(v: number): [number, number] {
    return [this.lower.data[v]!, this.upper.data[v]!];
  }

  toModelData(infinity: number): MilpData {
    const clampInf = (a: Float64Array): Float64Array => a.map((v) => (v === Infinity ? infinity : v === -Infinity ? -infinity : v));
    const numCols = this.numCols;
    const numRows = this.numRows;
    return {
      numCols,
      numRows,
      offset: this.objectiveOffset,
      colCost: this.cost.view(),
      colLower: clampInf(this.lower.view()),
      colUpper: clampInf(this.upper.view()),
      rowLower: clampInf(this.rowLower.view()),
      rowUpper: clampInf(this.rowUpper.view()),
      matrix: { format: 'csr', numRows, numCols, starts: this.starts.view(), indices: this.indices.view(), values: this.values.view() },
      integrality: this.integer.view(),
    };
  }
}
