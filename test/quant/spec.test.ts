import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QrobustError } from '../../src/core/errors.js';
import {
  assertInferenceSpec,
  layerWeightSpec,
  logitsBits,
  makeQuantSpec,
  parseBitsList,
  specLabel,
  validateQuantSpec,
} from '../../src/quant/spec.js';

function rejects(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof QrobustError, `expected a QrobustError, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('bad widths are rejected with the field, the range and the value', () => {
  rejects(() => makeQuantSpec({ weights: { bits: 17 } }), 'weights.bits must be an integer from 1 to 16 (or float16), got 17');
  rejects(() => makeQuantSpec({ weights: { bits: 0 } }), 'weights.bits must be an integer from 1 to 16 (or float16), got 0');
  rejects(() => makeQuantSpec({ weights: { bits: 2.5 } }), /weights\.bits must be an integer from 1 to 16/);
  rejects(() => makeQuantSpec({ activations: { bits: 9 } }), 'activations.bits must be an integer from 1 to 8, got 9');
  rejects(() => makeQuantSpec({ inputs: { bits: 0 } }), 'inputs.bits must be an integer from 1 to 8, got 0');
});

test('inconsistent weight kinds, schemes and calibrations are rejected', () => {
  rejects(() => makeQuantSpec({ weights: { kind: 'binary', scheme: 'affine' } }), /weights\.kind 'binary' is symmetric by definition.*'affine' is not allowed/);
  rejects(() => makeQuantSpec({ weights: { kind: 'ternary', scheme: 'affine' } }), /weights\.kind 'ternary' is symmetric/);
  rejects(() => makeQuantSpec({ weights: { kind: 'binary', bits: 4 } }), "weights.kind 'binary' needs weights.bits 1, got 4");
  rejects(() => makeQuantSpec({ weights: { kind: 'ternary', bits: 8 } }), "weights.kind 'ternary' needs weights.bits 2, got 8");
  rejects(() => makeQuantSpec({ weights: { kind: 'uniform', bits: 1 } }), /weights\.bits 1 needs weights\.kind 'binary'/);
  rejects(() => makeQuantSpec({ weights: { bits: 'float16', kind: 'binary' } }), /float16' needs weights\.kind 'uniform'/);
  rejects(() => makeQuantSpec({ activations: { bits: 1, scheme: 'symmetric' } }), /activations\.bits 1 needs activations\.scheme 'affine'/);
  rejects(
    () => makeQuantSpec({ activations: { bits: 8, calibration: { method: 'percentile', percentile: 40 } } }),
    'activations.calibration.percentile must be a number in (50, 100], got 40',
  );
  rejects(() => makeQuantSpec({ weights: null }), /quantizes nothing/);
  rejects(() => validateQuantSpec({ ...makeQuantSpec(), weights: { ...makeQuantSpec().weights, bitz: 3 } }), /unknown field weights\.bitz/);
  rejects(() => validateQuantSpec({ ...makeQuantSpec(), firstLast: 'first' }), /firstLast must be one of 'keep-float', '8-bit', 'same', got "first"/);
  rejects(() => assertInferenceSpec(makeQuantSpec({ rounding: 'stochastic' })), /only for training/);
});

test('defaults: 8-bit symmetric per-tensor weights; 1 bit means binary per channel; ternary 2 bits', () => {
  assert.deepEqual(makeQuantSpec(), {
    weights: { bits: 8, scheme: 'symmetric', granularity: 'per-tensor', kind: 'uniform' },
    activations: null,
    inputs: null,
    rounding: 'nearest',
    firstLast: 'same',
  });
  assert.deepEqual(makeQuantSpec({ weights: { bits: 1 } }).weights, { bits: 1, scheme: 'symmetric', granularity: 'per-channel', kind: 'binary' });
  assert.deepEqual(makeQuantSpec({ weights: { kind: 'ternary' } }).weights, { bits: 2, scheme: 'symmetric', granularity: 'per-tensor', kind: 'ternary' });
  const a = makeQuantSpec({ activations: { bits: 4 }, inputs: {} });
  assert.deepEqual(a.activations, { bits: 4, scheme: 'affine', calibration: { method: 'minmax' } });
  assert.deepEqual(a.inputs, { bits: 8 });
});

test('a spec survives JSON and validation unchanged', () => {
  const spec = makeQuantSpec({
    weights: { bits: 4, granularity: 'per-channel', scheme: 'affine' },
    activations: { bits: 6, calibration: { method: 'percentile', percentile: 99.9 } },
    inputs: { bits: 8 },
    firstLast: '8-bit',
  });
  assert.deepEqual(validateQuantSpec(JSON.parse(JSON.stringify(spec))), spec);
  assert.equal(specLabel(spec), 'w4-pc-aff-a6-in8');
  assert.equal(specLabel(makeQuantSpec({ weights: { bits: 1 } })), 'wbin');
  assert.equal(specLabel(makeQuantSpec({ weights: { bits: 'float16' } })), 'wf16');
});

test('parseBitsList keeps the order and rejects bad lists', () => {
  assert.deepEqual(parseBitsList('8,4,2,1'), [8, 4, 2, 1]);
  assert.deepEqual(parseBitsList(' 6 , float16'), [6, 'float16']);
  rejects(() => parseBitsList('8,17'), "--bits: each width must be an integer from 1 to 16 (or float16), got '17'");
  rejects(() => parseBitsList('8,,4'), /comma-separated list/);
  rejects(() => parseBitsList('4,4'), /listed twice/);
  rejects(() => parseBitsList('x'), /got 'x'/);
});

test('the first/last policy changes only the first and last weight layers and the logits grid', () => {
  const spec = makeQuantSpec({ weights: { bits: 2 }, activations: { bits: 4 } });
  const mid = { first: false, last: false };
  const first = { first: true, last: false };
  assert.equal(layerWeightSpec(spec, first)!.bits, 2);
  assert.equal(logitsBits(spec), 4);
  const eight = { ...spec, firstLast: '8-bit' as const };
  assert.equal(layerWeightSpec(eight, first)!.bits, 8);
  assert.equal(layerWeightSpec(eight, mid)!.bits, 2);
  assert.equal(logitsBits(eight), 8);
  const keep = { ...spec, firstLast: 'keep-float' as const };
  assert.equal(layerWeightSpec(keep, { first: false, last: true }), null);
  assert.equal(logitsBits(keep), null);
  const bin = makeQuantSpec({ weights: { bits: 1 }, firstLast: '8-bit' });
  assert.deepEqual(layerWeightSpec(bin, first), { bits: 8, scheme: 'symmetric', granularity: 'per-channel', kind: 'uniform' });
});

test('weights up to 16 bits: a 10-bit grid has ±511 levels and rounds every weight to within half a step', async () => {
  const { quantizeKernel } = await import('../../src/quant/weights.js');
  const spec = makeQuantSpec({ weights: { bits: 10 } });
  assert.equal(spec.weights!.bits, 10);
  assert.deepEqual(parseBitsList('10,16,1'), [10, 16, 1]);
  const kernel = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i * 1.7) * 0.8);
  const q = quantizeKernel(kernel, [30, 10], spec.weights!);
  const codes = Array.from(q.codes!);
  assert.equal(Math.max(...codes.map(Math.abs)), 511);
  assert.ok(codes.some((c) => Math.abs(c) > 127), 'codes beyond int8 are kept');
  const step = 0.8 / 511;
  kernel.forEach((w, i) => assert.ok(Math.abs(q.dequantized[i]! - w) <= step / 2 + 1e-7, `weight ${i}: ${w} → ${q.dequantized[i]}`));
  // Activations and inputs stay within 8 bits.
  rejects(() => makeQuantSpec({ weights: { bits: 10 }, activations: { bits: 10 } }), 'activations.bits must be an integer from 1 to 8, got 10');
});
