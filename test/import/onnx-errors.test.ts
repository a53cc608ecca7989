/**
 * User errors of the ONNX importer: a damaged file, an operator outside the subset, an input shape that does not
 * fit the image or the declared layout, and an output that is not the class logits; each a one-line
 * QrobustError that names the file (and the node and operator where there is one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QrobustError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { importOnnx } from '../../src/import/onnx/index.js';
import type { InputLayout } from '../../src/import/types.js';
import { MNISTFC, NEEDS_MNISTFC } from '../verify/fixtures.js';
import { int, node, onnxBytes, weights, type ModelSpec } from './onnx-fixtures.js';

function rejects(bytes: Uint8Array, code: string, pattern: RegExp, options: { image?: [number, number, number]; classes?: number; layout?: InputLayout; file?: string } = {}): void {
  const file = options.file ?? 'bad.onnx';
  assert.throws(
    () => importOnnx({ file, bytes, imageShape: options.image ?? [8, 8, 3], numClasses: options.classes ?? 4, ...(options.layout ? { layout: options.layout } : {}) }),
    (e: unknown) => {
      assert.ok(e instanceof QrobustError, `not a QrobustError: ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, pattern);
      assert.ok(e.message.startsWith(`${file}: `), `the message names the file: ${e.message}`);
      assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
      return true;
    },
  );
}

function gemmNet(input: (number | string)[], extra: ModelSpec['nodes'] = [], out = 'logits'): Uint8Array {
  const rng = new Rng(3);
  const n = input.slice(1).reduce<number>((a, b) => a * (b as number), 1);
  return onnxBytes({
    nodes: [node('Flatten', ['x'], ['f']), node('Gemm', ['f', 'w', 'b'], ['logits'], [int('transB', 1)]), ...extra],
    initializers: [weights(rng, 'w', [4, n]), weights(rng, 'b', [4], 1)],
    input,
    output: out,
  });
}

test('a truncated or corrupt file is invalid_model naming the file', { skip: NEEDS_MNISTFC }, async () => {
  const bytes = new Uint8Array(await readFile(join(MNISTFC!, 'mnist-net_256x2.onnx')));
  for (const cut of [0.5, 0.9, 0.999]) rejects(bytes.subarray(0, Math.floor(bytes.length * cut)), 'invalid_model', /./, { image: [28, 28, 1], classes: 10, file: 'mnist-net_256x2.onnx' });
  rejects(Uint8Array.from([0x08, 0x07, 0x3a, 0xff, 0xff, 0x01]), 'invalid_model', /not a valid ONNX model|truncated|corrupt/);
});

test('an unsupported operator names the node and the operator', () => {
  const bytes = gemmNet([1, 3, 8, 8], [node('Erf', ['logits'], ['y'], [], 'weird')], 'y');
  rejects(bytes, 'unsupported_layer', /node 'weird' \(Erf\): not supported/);
  const square = gemmNet([1, 3, 8, 8], [node('Mul', ['logits', 'logits'], ['y'], [], 'square')], 'y');
  rejects(square, 'unsupported_layer', /node 'square' \(Mul\): Mul of two activations is not supported/);
});

test('an input that does not fit the image or the declared layout, and an output that is not the logits', () => {
  const nchw = gemmNet([1, 3, 8, 8]);
  rejects(nchw, 'shape_mismatch', /does not fit layout 'nhwc'/, { layout: 'nhwc' });
  rejects(nchw, 'shape_mismatch', /does not fit the dataset's image \[9,9,3\]/, { image: [9, 9, 3] });
  rejects(gemmNet([1, 192]), 'shape_mismatch', /--layout flat-nchw or flat-nhwc/);
  rejects(gemmNet([4, 3, 8, 8]), 'unsupported_layer', /batch axis of 4/);
  rejects(nchw, 'shape_mismatch', /has 4 values for 10 classes/, { classes: 10 });
});
