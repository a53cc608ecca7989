/**
 * `qrobust verify --onnx` reads the network through the model importer, so graphs a chain reader refuses verify
 * too: here a depthwise convolution, a residual Add, an AveragePool and a GlobalAveragePool on an NCHW input
 * whose C order differs from the graph's NHWC. References: ONNX Runtime on the file (outputs, and the
 * counterexample written with --out), brute-force sampling of the box, and the complete methods against each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../src/core/rng.js';
import { evaluateIR } from '../../src/verify/ir.js';
import { irFromOnnxBytes } from '../../src/verify/onnx-network.js';
import { runCliCaptured as cli } from '../fixtures/cli.js';
import { int, ints, node, onnxBytes, weights } from '../import/onnx-fixtures.js';
import { parseWitness } from './fixtures.js';

const SHAPE = [1, 2, 5, 5];
const SIZE = 50;

/** Depthwise 3x3 conv + ReLU, plus the input (residual), 2x2 average pool, 1x1 conv + ReLU, global average, dense. */
function residualNet(): Uint8Array {
  const rng = new Rng(31);
  return onnxBytes({
    nodes: [
      node('Conv', ['x', 'dw', 'db'], ['c1'], [int('group', 2), ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])], 'depthwise'),
      node('Relu', ['c1'], ['r1']),
      node('Add', ['r1', 'x'], ['s'], [], 'residual'),
      node('AveragePool', ['s'], ['p'], [ints('kernel_shape', [2, 2]), ints('strides', [1, 1])], 'average'),
      node('Conv', ['p', 'pw', 'pb'], ['c2'], [], 'pointwise'),
      node('Relu', ['c2'], ['r2']),
      node('GlobalAveragePool', ['r2'], ['g'], [], 'global'),
      node('Flatten', ['g'], ['f']),
      node('Gemm', ['f', 'fw', 'fb'], ['y'], [int('transB', 1)], 'logits'),
    ],
    initializers: [weights(rng, 'dw', [2, 1, 3, 3]), weights(rng, 'db', [2], 4), weights(rng, 'pw', [3, 2, 1, 1]), weights(rng, 'pb', [3], 4), weights(rng, 'fw', [3, 3]), weights(rng, 'fb', [3], 4)],
    input: SHAPE,
    output: 'y',
    outputShape: [1, 3],
  });
}

/** The property "some class j ≠ label scores at least the label" on the box [x0 − ε, x0 + ε]. */
function property(x0: Float64Array, eps: number, label: number, classes: number): string {
  const lines = [...x0].flatMap((v, i) => [`(declare-const X_${i} Real)`, `(assert (>= X_${i} ${v - eps}))`, `(assert (<= X_${i} ${v + eps}))`]);
  for (let j = 0; j < classes; j++) lines.push(`(declare-const Y_${j} Real)`);
  const others = Array.from({ length: classes }, (_, j) => j).filter((j) => j !== label);
  lines.push(`(assert (or ${others.map((j) => `(and (>= Y_${j} Y_${label}))`).join(' ')}))`);
  return lines.join('\n') + '\n';
}

test('verify --onnx on a residual net with depthwise conv and average pooling agrees with ONNX Runtime, sampling and every complete method', async () => {
  const root = await mkdtemp(join(tmpdir(), 'qrobust-onnx-import-'));
  try {
    const bytes = residualNet();
    const net = join(root, 'residual.onnx');
    await writeFile(net, bytes);
    const session = await ort.InferenceSession.create(bytes);
    const run = async (x: ArrayLike<number>): Promise<Float32Array> => {
      const feeds = { x: new ort.Tensor('float32', Float32Array.from(x), SHAPE) };
      return (await session.run(feeds))['y']!.data as Float32Array;
    };
    // The IR's input and output are the file's, in ONNX's C order: it computes what ONNX Runtime computes.
    const ir = irFromOnnxBytes(bytes, 'residual.onnx');
    assert.equal(ir.inputSize, SIZE);
    const rng = new Rng(5);
    for (let k = 0; k < 10; k++) {
      const x = Float64Array.from({ length: SIZE }, () => rng.next());
      const [a, b] = [evaluateIR(ir, x), await run(x)];
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-5, `output ${i}: IR ${v}, ONNX Runtime ${b[i]}`));
    }
    const x0 = Float64Array.from({ length: SIZE }, () => rng.next());
    const y0 = await run(x0);
    const label = y0.indexOf(Math.max(...y0));
    /** Whether some sampled point of the box (corners and interior) is a counterexample. */
    const sampledViolation = async (eps: number): Promise<boolean> => {
      const r = new Rng(11);
      for (let k = 0; k < 400; k++) {
        const x = x0.map((v) => (k % 2 ? v + (r.next() < 0.5 ? -eps : eps) : v + (2 * r.next() - 1) * eps));
        const y = await run(x);
        if (y.some((v, j) => j !== label && v >= y[label]!)) return true;
      }
      return false;
    };
    const verdicts = async (eps: number, out?: string): Promise<string[]> => {
      const prop = join(root, `eps-${eps}.vnnlib`);
      await writeFile(prop, property(x0, eps, label, 3));
      const answers: string[] = [];
      for (const method of ['auto', 'milp', 'bab']) {
        const r = await cli(['verify', '--onnx', net, '--vnnlib', prop, '--timeout', '30', '--method', method, ...(out && method === 'auto' ? ['--out', out] : [])]);
        assert.equal(r.code, 0, r.err);
        answers.push(r.out.split('\n')[0]!);
      }
      return answers;
    };

    // A small box: no sampled counterexample, and every method proves it.
    assert.equal(await sampledViolation(0.01), false);
    assert.deepEqual(await verdicts(0.01), ['unsat', 'unsat', 'unsat']);

    // The smallest of these boxes where sampling finds a counterexample: every method finds one too.
    let eps = 0;
    for (const e of [0.1, 0.25, 0.5, 1, 2, 4, 8]) {
      if (await sampledViolation(e)) {
        eps = e;
        break;
      }
    }
    assert.ok(eps > 0, 'sampling found a counterexample in some box');
    const ce = join(root, 'ce.txt');
    assert.deepEqual(await verdicts(eps, ce), ['sat', 'sat', 'sat']);
    // The counterexample is in ONNX order: in the box, and ONNX Runtime confirms it.
    const text = await readFile(ce, 'utf8');
    assert.equal(text.split('\n')[0], 'sat');
    const { x } = parseWitness(text);
    assert.equal(x.length, SIZE);
    x.forEach((v, i) => assert.ok(v >= x0[i]! - eps - 1e-12 && v <= x0[i]! + eps + 1e-12, `X_${i} = ${v} is outside the box`));
    const y = await run(x);
    assert.ok(y.some((v, j) => j !== label && v >= y[label]!), `ONNX Runtime gives ${[...y].join(', ')} for label ${label}`);
    await session.release();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
