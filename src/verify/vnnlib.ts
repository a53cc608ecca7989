/**
 * VNN-LIB properties (the SMT-LIB subset VNN-COMP uses, https://www.vnnlib.org): input variables `X_i` and
 * output variables `Y_i` declared `Real`, and assertions built from `<=`, `>=` (`<`, `>` and `=` are accepted
 * too), `and`, `or`, and linear terms (`+`, `-`, `*` and `/` by constants) over constants and variables.
 *
 * The assertions together describe a *counterexample*: an input in the region whose output meets the output
 * condition. They are turned into disjunctive normal form; in every disjunct the constraints on X must be
 * simple bounds `X_i ⋚ c` and form a box (each input bounded on both sides), and the constraints on Y are
 * linear. Disjuncts with the same input box become one `VerificationCase` whose unsafe condition is the OR of
 * their output conjunctions, so a plain robustness property gives one case and an ACAS-style
 * `(or (and X… Y…) (and X… Y…))` gives one case per box. A disjunct whose box is empty (some lower bound above
 * its upper bound) can never be met: it is left out with a note in `notes`, and when every box is empty the file
 * is a QrobustError naming the input (the property would be vacuous, almost always a mistake in the file). Strict comparisons stay strict: `(< a b)` is the constraint a − b < 0 (`strict`), so a tie
 * does not meet it, and a strict bound on an input leaves that end of the box open. Numbers must be finite
 * doubles: a literal such as 1e400 (or 1e-400, which would read as 0), or a term that overflows, is rejected
 * with its line.
 *
 * `(check-sat)`, `(get-model)`, `(exit)`, `(set-logic …)`, `(set-info …)` and `(set-option …)` are accepted
 * and ignored. Anything else is rejected with a QrobustError naming the file, the line and the problem.
 */
import { readFile } from 'node:fs/promises';
import { QrobustError } from '../core/errors.js';
import { maybeGunzip } from '../data/gzip.js';
import type { Box, LinearConstraint, VerificationCase, VerificationProblem } from './property.js';

/** The largest number of DNF disjuncts a file may expand to (guards against an exponential blow-up). */
export const MAX_DISJUNCTS = 100_000;

// ---------------------------------------------------------------------------------------------------------
// S-expressions

interface Atom {
  readonly kind: 'atom';
  readonly text: string;
  readonly line: number;
}

interface List {
  readonly kind: 'list';
  readonly items: readonly SExpr[];
  readonly line: number;
}

type SExpr = Atom | List;

class VnnlibSyntaxError extends QrobustError {
  constructor(source: string, line: number, problem: string) {
    super('invalid_argument', `${source}:${line}: ${problem}`);
  }
}

/** Splits the text into top-level S-expressions, tracking line numbers; `;` starts a comment. */
function parseSExprs(text: string, source: string): SExpr[] {
  const top: SExpr[] = [];
  const stack: { items: SExpr[]; line: number }[] = [];
  let line = 1;
  let i = 0;
  const push = (e: SExpr): void => {
    if (stack.length) stack[stack.length - 1]!.items.push(e);
    else top.push(e);
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\n') {
      line++;
      i++;
    } else if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f') {
      i++;
    } else if (ch === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '(') {
      stack.push({ items: [], line });
      i++;
    } else if (ch === ')') {
      const open = stack.pop();
      if (!open) throw new VnnlibSyntaxError(source, line, "unbalanced ')'");
      push({ kind: 'list', items: open.items, line: open.line });
      i++;
    } else {
      const start = i;
      while (i < text.length && !/[\s();]/.test(text[i]!)) i++;
      const atom = text.slice(start, i);
      if (atom.startsWith('|') || atom.startsWith('"')) throw new VnnlibSyntaxError(source, line, `quoted symbols and strings are not supported ('${atom}')`);
      push({ kind: 'atom', text: atom, line });
    }
  }
  if (stack.length) throw new VnnlibSyntaxError(source, stack[stack.length - 1]!.line, "'(' is never closed");
  return top;
}

function show(e: SExpr): string {
  const s = e.kind === 'atom' ? e.text : `(${e.items.map(show).join(' ')})`;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

// ---------------------------------------------------------------------------------------------------------
// Linear terms and constraints

/** A linear term over the variables: Σ coeff·var + constant. Keys are 'X_3', 'Y_0', … */
interface LinearTerm {
  readonly coeffs: Map<string, number>;
  readonly constant: number;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const VARIABLE = /^([XY])_(0|[1-9]\d*)$/;

/** One comparison `term ≤ 0` (or `term < 0` when strict), on inputs only or on outputs only. */
interface Comparison {
  readonly on: 'X' | 'Y';
  readonly term: LinearTerm;
  readonly strict: boolean;
  readonly line: number;
}

/** A formula in DNF: an OR of ANDs of comparisons. */
type Dnf = Comparison[][];

interface Declarations {
  readonly inputs: Set<number>;
  readonly outputs: Set<number>;
}

class PropertyReader {
  readonly declared: Declarations = { inputs: new Set(), outputs: new Set() };

  constructor(private readonly source: string) {}

  fail(e: SExpr, problem: string): never {
    throw new VnnlibSyntaxError(this.source, e.line, problem);
  }

  declare(cmd: List): void {
    const [, name, sort, ...rest] = cmd.items;
    if (!name || name.kind !== 'atom' || !sort || rest.length) this.fail(cmd, `expected (declare-const NAME Real), got ${show(cmd)}`);
    const m = VARIABLE.exec(name.text);
    if (!m) this.fail(name, `variable '${name.text}' is not named X_<i> or Y_<i>`);
    if (sort.kind !== 'atom' || sort.text !== 'Real') this.fail(sort, `variable '${name.text}' has sort ${show(sort)}; only Real is supported`);
    const set = m[1] === 'X' ? this.declared.inputs : this.declared.outputs;
    const index = Number(m[2]);
    if (set.has(index)) this.fail(name, `variable '${name.text}' is declared twice`);
    set.add(index);
  }

  term(e: SExpr): LinearTerm {
    if (e.kind === 'atom') {
      if (NUMBER.test(e.text)) {
        const v = Number(e.text);
        if (!Number.isFinite(v)) this.fail(e, `the number ${e.text} is outside the range of double precision`);
        if (v === 0 && /[1-9]/.test(e.text.replace(/[eE].*$/, ''))) this.fail(e, `the number ${e.text} is too small for double precision (it would read as 0)`);
        return { coeffs: new Map(), constant: v };
      }
      const m = VARIABLE.exec(e.text);
      if (!m) this.fail(e, `'${e.text}' is neither a number nor an X_<i>/Y_<i> variable`);
      const set = m[1] === 'X' ? this.declared.inputs : this.declared.outputs;
      if (!set.has(Number(m[2]))) this.fail(e, `variable '${e.text}' is used before it is declared`);
      return { coeffs: new Map([[e.text, 1]]), constant: 0 };
    }
    const [head, ...args] = e.items;
    if (!head || head.kind !== 'atom') this.fail(e, `expected an operator, got ${show(e)}`);
    if (args.length === 0) this.fail(e, `'${head.text}' needs at least one argument`);
    const terms = args.map((a) => this.term(a));
    const t = this.combine(head, e, terms);
    if (!Number.isFinite(t.constant) || [...t.coeffs.values()].some((v) => !Number.isFinite(v))) {
      this.fail(e, `the term ${show(e)} evaluates to a value outside the range of double precision`);
    }
    return t;
  }

  private combine(head: Atom, e: List, terms: LinearTerm[]): LinearTerm {
    switch (head.text) {
      case '+':
        return terms.reduce((a, b) => addTerms(a, b, 1));
      case '-':
        return terms.length === 1 ? scaleTerm(terms[0]!, -1) : terms.reduce((a, b) => addTerms(a, b, -1));
      case '*': {
        const variable = terms.filter((t) => t.coeffs.size > 0);
        if (variable.length > 1) this.fail(e, `product of two variable terms is not linear: ${show(e)}`);
        const factor = terms.filter((t) => t.coeffs.size === 0).reduce((p, t) => p * t.constant, 1);
        return variable.length ? scaleTerm(variable[0]!, factor) : { coeffs: new Map(), constant: factor };
      }
      case '/': {
        if (terms.length !== 2 || terms[1]!.coeffs.size > 0) this.fail(e, `division is supported only by a constant: ${show(e)}`);
        if (terms[1]!.constant === 0) this.fail(e, `division by zero: ${show(e)}`);
        return scaleTerm(terms[0]!, 1 / terms[1]!.constant);
      }
      default:
        return this.fail(head, `unsupported operator '${head.text}' in a term`);
    }
  }

  /** A comparison `(op a b)` as one or two constraints `term ≤ 0`. */
  comparison(e: List, op: string): Dnf {
    if (e.items.length !== 3) this.fail(e, `'${op}' needs exactly two arguments, got ${show(e)}`);
    const a = this.term(e.items[1]!);
    const b = this.term(e.items[2]!);
    const aMinusB = addTerms(a, b, -1);
    if (!Number.isFinite(aMinusB.constant) || [...aMinusB.coeffs.values()].some((v) => !Number.isFinite(v))) {
      this.fail(e, `the difference of the two sides of ${show(e)} is outside the range of double precision`);
    }
    const bMinusA = scaleTerm(aMinusB, -1);
    const parts = op === '<=' || op === '<' ? [aMinusB] : op === '>=' || op === '>' ? [bMinusA] : [aMinusB, bMinusA];
    const strict = op === '<' || op === '>';
    return [parts.map((term) => ({ on: this.side(e, term), term, strict, line: e.line }))];
  }

  side(e: SExpr, term: LinearTerm): 'X' | 'Y' {
    const kinds = new Set([...term.coeffs.keys()].map((k) => k[0] as 'X' | 'Y'));
    if (kinds.size === 0) this.fail(e, `comparison of constants only: ${show(e)}`);
    if (kinds.size === 2) this.fail(e, `a constraint mixing inputs and outputs is not supported: ${show(e)}`);
    return [...kinds][0]!;
  }

  formula(e: SExpr): Dnf {
    if (e.kind === 'atom') {
      if (e.text === 'true') return [[]];
      if (e.text === 'false') return [];
      this.fail(e, `expected a formula, got '${e.text}'`);
    }
    const head = e.items[0];
    if (!head || head.kind !== 'atom') this.fail(e, `expected a formula, got ${show(e)}`);
    switch (head.text) {
      case 'and':
        return e.items.slice(1).reduce<Dnf>((acc, f) => this.product(e, acc, this.formula(f)), [[]]);
      case 'or':
        return e.items.slice(1).flatMap((f) => this.formula(f));
      case '<=':
      case '>=':
      case '<':
      case '>':
      case '=':
        return this.comparison(e, head.text);
      default:
        return this.fail(head, `unsupported operator '${head.text}' in an assertion (expected and, or, <=, >=, <, >, =)`);
    }
  }

  product(at: SExpr, a: Dnf, b: Dnf): Dnf {
    if (a.length * b.length > MAX_DISJUNCTS) this.fail(at, `the property expands to more than ${MAX_DISJUNCTS} disjuncts`);
    const out: Dnf = [];
    for (const x of a) for (const y of b) out.push(x.length === 0 ? y : y.length === 0 ? x : [...x, ...y]);
    return out;
  }
}

function addTerms(a: LinearTerm, b: LinearTerm, sign: number): LinearTerm {
  const coeffs = new Map(a.coeffs);
  for (const [k, v] of b.coeffs) coeffs.set(k, (coeffs.get(k) ?? 0) + sign * v);
  return { coeffs, constant: a.constant + sign * b.constant };
}

function scaleTerm(t: LinearTerm, f: number): LinearTerm {
  return { coeffs: new Map([...t.coeffs].map(([k, v]) => [k, v * f])), constant: t.constant * f };
}

/** Checks that declared indices are 0..n−1 and returns n. */
function contiguous(set: Set<number>, letter: string, source: string): number {
  for (let i = 0; i < set.size; i++) {
    if (!set.has(i)) throw new QrobustError('invalid_argument', `${source}: ${letter}_${i} is not declared but ${letter}_${Math.max(...set)} is`);
  }
  return set.size;
}

// ---------------------------------------------------------------------------------------------------------
// From DNF to verification cases

/** A box under construction: bounds and which ends are open (from strict comparisons). */
interface OpenBox {
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  readonly openLower: Uint8Array;
  readonly openUpper: Uint8Array;
}

function copyBox(b: OpenBox): OpenBox {
  return { lower: Float64Array.from(b.lower), upper: Float64Array.from(b.upper), openLower: Uint8Array.from(b.openLower), openUpper: Uint8Array.from(b.openUpper) };
}

/** Narrows a box by the input comparisons of one disjunct; each must bound a single input. */
function applyInputBounds(reader: PropertyReader, box: OpenBox, comparisons: readonly Comparison[]): void {
  for (const c of comparisons) {
    const entries = [...c.term.coeffs].filter(([, v]) => v !== 0);
    if (entries.length !== 1) {
      reader.fail({ kind: 'atom', text: '', line: c.line }, 'only bounds on a single input (X_i <= c, X_i >= c) are supported, not general linear input constraints');
    }
    const [name, coeff] = entries[0]!;
    const i = Number(name.slice(2));
    const bound = -c.term.constant / coeff + 0; // + 0 turns −0 into 0
    // coeff·x + constant ≤ 0  ⇔  x ≤ bound (coeff > 0) or x ≥ bound (coeff < 0); < 0 leaves that end open.
    const open = c.strict ? 1 : 0;
    if (coeff > 0) {
      if (bound < box.upper[i]!) [box.upper[i], box.openUpper[i]] = [bound, open];
      else if (bound === box.upper[i]) box.openUpper[i] = box.openUpper[i]! | open;
    } else if (bound > box.lower[i]!) [box.lower[i], box.openLower[i]] = [bound, open];
    else if (bound === box.lower[i]) box.openLower[i] = box.openLower[i]! | open;
  }
}

/** A finished box: the open-end arrays only where some end is open. */
function finishBox(b: OpenBox): Box {
  const open = b.openLower.some((v) => v === 1) || b.openUpper.some((v) => v === 1);
  return open ? b : { lower: b.lower, upper: b.upper };
}

function outputConstraint(c: Comparison, outputSize: number): LinearConstraint {
  const coeffs = new Float64Array(outputSize);
  for (const [name, v] of c.term.coeffs) coeffs[Number(name.slice(2))] += v;
  return c.strict ? { coeffs, offset: c.term.constant + 0, strict: true } : { coeffs, offset: c.term.constant + 0 };
}

function boxKey(box: OpenBox): string {
  return `${box.lower.join(',')}|${box.upper.join(',')}|${box.openLower.join('')}|${box.openUpper.join('')}`;
}

/**
 * Parses VNN-LIB text into a verification problem (see the module comment for the accepted subset).
 * @param source the file name (or another description) used in error messages and as `source`.
 * @throws QrobustError('invalid_argument') naming `source`, the line and the problem.
 */
export function parseVnnlib(text: string, source: string): VerificationProblem {
  const reader = new PropertyReader(source);
  const assertions: List[] = [];
  for (const cmd of parseSExprs(text, source)) {
    if (cmd.kind !== 'list' || cmd.items[0]?.kind !== 'atom') throw new VnnlibSyntaxError(source, cmd.line, `expected a command such as (assert …), got ${show(cmd)}`);
    const name = (cmd.items[0] as Atom).text;
    if (name === 'declare-const') reader.declare(cmd);
    else if (name === 'assert') {
      if (cmd.items.length !== 2) reader.fail(cmd, `assert takes exactly one formula, got ${cmd.items.length - 1}`);
      assertions.push(cmd);
    } else if (!['check-sat', 'get-model', 'exit', 'set-logic', 'set-info', 'set-option'].includes(name)) {
      reader.fail(cmd, `unsupported command '${name}'`);
    }
  }
  const inputSize = contiguous(reader.declared.inputs, 'X', source);
  const outputSize = contiguous(reader.declared.outputs, 'Y', source);
  if (inputSize === 0) throw new QrobustError('invalid_argument', `${source}: no input variable X_0 … is declared`);
  if (outputSize === 0) throw new QrobustError('invalid_argument', `${source}: no output variable Y_0 … is declared`);

  // Conjunctions of plain comparisons are collected once; only compound assertions are multiplied out.
  const common: Comparison[] = [];
  let dnf: Dnf = [[]];
  for (const a of assertions) {
    const f = reader.formula(a.items[1]!);
    if (f.length === 1) common.push(...f[0]!);
    else dnf = reader.product(a, dnf, f);
  }
  if (![...common, ...dnf.flat()].some((c) => c.on === 'Y')) {
    throw new QrobustError('invalid_argument', `${source}: no assertion constrains the outputs Y_i`);
  }

  const baseBox: OpenBox = {
    lower: new Float64Array(inputSize).fill(-Infinity),
    upper: new Float64Array(inputSize).fill(Infinity),
    openLower: new Uint8Array(inputSize),
    openUpper: new Uint8Array(inputSize),
  };
  applyInputBounds(reader, baseBox, common.filter((c) => c.on === 'X'));
  const baseOutputs = common.filter((c) => c.on === 'Y').map((c) => outputConstraint(c, outputSize));

  const cases = new Map<string, { input: Box; disjuncts: LinearConstraint[][] }>();
  const emptyBoxes: string[] = [];
  for (const conj of dnf) {
    const box = copyBox(baseBox);
    applyInputBounds(reader, box, conj.filter((c) => c.on === 'X'));
    for (let i = 0; i < inputSize; i++) {
      if (!Number.isFinite(box.lower[i]!) || !Number.isFinite(box.upper[i]!)) {
        const side = Number.isFinite(box.lower[i]!) ? 'upper' : 'lower';
        throw new QrobustError('invalid_argument', `${source}: input X_${i} has no finite ${side} bound (every input needs a box)`);
      }
    }
    const empty = box.lower.findIndex((l, i) => l > box.upper[i]! || (l === box.upper[i] && (box.openLower[i] === 1 || box.openUpper[i] === 1)));
    if (empty >= 0) {
      const [l, u] = [box.lower[empty]!, box.upper[empty]!];
      const how = l > u ? `lower bound ${l} > upper bound ${u}` : `${box.openLower[empty] ? '>' : '>='} ${l} and ${box.openUpper[empty] ? '<' : '<='} ${u}`;
      emptyBoxes.push(`X_${empty}: ${how}`);
      continue;
    }
    const outputs = [...baseOutputs, ...conj.filter((c) => c.on === 'Y').map((c) => outputConstraint(c, outputSize))];
    const key = boxKey(box);
    const entry = cases.get(key) ?? { input: finishBox(box), disjuncts: [] };
    entry.disjuncts.push(outputs);
    cases.set(key, entry);
  }
  if (cases.size === 0) {
    const what = emptyBoxes.length === 1 ? `the input region is empty (${emptyBoxes[0]})` : `every one of the ${emptyBoxes.length} input boxes is empty (first ${emptyBoxes[0]})`;
    throw new QrobustError('invalid_argument', `${source}: ${what}, so the property is vacuous; fix the bounds`);
  }
  const list: VerificationCase[] = [...cases.values()].map((c) => ({ input: c.input, unsafe: { disjuncts: c.disjuncts } }));
  const notes = emptyBoxes.length ? [`${source}: ${emptyBoxes.length} of ${dnf.length} disjuncts have an empty input box (first ${emptyBoxes[0]}) and can never be met; they are left out`] : [];
  return { cases: list, inputSize, outputSize, source, ...(notes.length ? { notes } : {}) };
}

/**
 * Reads a `.vnnlib` file, gzipped or not (detected by its magic bytes, so `.vnnlib.gz` works too).
 * @throws QrobustError('io_error') when the file cannot be read, or the errors of `parseVnnlib`.
 */
export async function readVnnlib(path: string): Promise<VerificationProblem> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new QrobustError('io_error', `${path}: cannot read the VNN-LIB file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  const { content } = await maybeGunzip(bytes, path);
  return parseVnnlib(content.toString('utf8'), path);
}

/**
 * A counterexample in the VNN-COMP format: `((X_0 v)` … `(Y_m v))`, one assignment per line, every value
 * printed with the shortest decimal that reads back to the same float64 (so a float32 value is exact).
 */
export function formatCounterexample(input: ArrayLike<number>, output: ArrayLike<number>): string {
  const lines: string[] = [];
  const add = (name: string, v: number): void => {
    if (!Number.isFinite(v)) throw new QrobustError('invalid_argument', `counterexample value ${name} is ${v}`);
    lines.push(`(${name} ${Object.is(v, -0) ? '0' : String(v)})`);
  };
  for (let i = 0; i < input.length; i++) add(`X_${i}`, input[i]!);
  for (let i = 0; i < output.length; i++) add(`Y_${i}`, output[i]!);
  if (lines.length === 0) throw new QrobustError('invalid_argument', 'a counterexample needs at least one value');
  return `(${lines.join('\n')})\n`;
}
