import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { QrobustError } from '../../src/core/errors.js';
import {
  channelParams,
  clippingRange,
  dequantizeArray,
  fakeQuantArray,
  integerRange,
  minMaxParams,
  paramsFromRanges,
  quantizeArray,
  quantizeValue,
  type QuantParams,
} from '../../src/quant/quantizer.js';
import { roundToFloat16 } from '../../src/quant/float16.js';
import { quantizeKernel } from '../../src/quant/weights.js';

const rng = new Rng(42);
const randoms = (n: number, lo: number, hi: number): Float32Array => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());

const SCHEMES = ['symmetric', 'affine'] as const;

test('integer ranges: narrow symmetric (TFLite int8 weights) and full signed affine', () => {
  assert.deepEqual(integerRange(8, 'symmetric'), { qmin: -127, qmax: 127 });
  assert.deepEqual(integerRange(8, 'affine'), { qmin: -128, qmax: 127 });
  assert.deepEqual(integerRange(2, 'symmetric'), { qmin: -1, qmax: 1 });
  assert.deepEqual(integerRange(1, 'affine'), { qmin: -1, qmax: 0 });
});

test('every grid point is exactly representable: dequantize then quantize returns the code', () => {
  for (const scheme of SCHEMES) {
    for (const bits of [2, 3, 4, 6, 8]) {
      const p = paramsFromRanges([-0.37], [1.91], bits, scheme, 'per-tensor');
      const codes = Int32Array.from({ length: p.qmax - p.qmin + 1 }, (_, i) => p.qmin + i);
      const real = dequantizeArray(codes, p);
      assert.deepEqual(quantizeArray(real, p), codes, `${scheme} ${bits} bits`);
    }
  }
});

test('values outside the range clamp to qmin and qmax', () => {
  for (const scheme of SCHEMES) {
    const p = paramsFromRanges([-1], [2], 8, scheme, 'per-tensor');
    const [lo, hi] = clippingRange(p);
    const q = quantizeArray(Float32Array.of(lo - 5, hi + 5, -1e30, 1e30), p);
    assert.deepEqual([...q], [p.qmin, p.qmax, p.qmin, p.qmax]);
  }
});

test('the zero point is an integer in range and real 0 maps exactly to it, for any range', () => {
  const ranges: [number, number][] = [[-1, 1], [0, 6], [0.5, 3], [-4, -0.25], [-0.001, 100], [-3.3, 0.7], [0, 0]];
  for (const scheme of SCHEMES) {
    for (const bits of [1, 2, 4, 8]) {
      if (scheme === 'symmetric' && bits === 1) continue;
      for (const [lo, hi] of ranges) {
        const p = paramsFromRanges([lo], [hi], bits, scheme, 'per-tensor');
        const zp = p.zeroPoint[0]!;
        assert.ok(Number.isInteger(zp) && zp >= p.qmin && zp <= p.qmax, `zp ${zp}`);
        assert.equal(quantizeValue(0, p), zp);
        assert.equal(dequantizeArray([zp], p)[0], 0);
        assert.equal(Math.fround(p.scale[0]!), p.scale[0], 'scales are float32');
      }
    }
  }
});

test('min-max covers the data: every value quantizes within half a step', () => {
  const x = randoms(1000, -0.8, 2.3);
  for (const scheme of SCHEMES) {
    const p = minMaxParams(x, [x.length], 8, scheme, 'per-tensor');
    const y = fakeQuantArray(x, p);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(y[i]! - x[i]!) <= p.scale[0]! / 2 + 1e-6);
  }
});

test('quantize∘dequantize is idempotent, per tensor and per channel', () => {
  const x = randoms(4 * 3 * 8, -2, 1.5);
  for (const scheme of SCHEMES) {
    for (const granularity of ['per-tensor', 'per-channel'] as const) {
      const p = minMaxParams(x, [4, 3, 8], 4, scheme, granularity);
      const once = fakeQuantArray(x, p);
      assert.deepEqual(fakeQuantArray(once, p), once);
    }
  }
});

test('per-channel parameters equal per-tensor ones on a single channel', () => {
  const x = randoms(50, -3, 1);
  for (const scheme of SCHEMES) {
    const pt = minMaxParams(x, [50, 1], 5, scheme, 'per-tensor');
    const pc = minMaxParams(x, [50, 1], 5, scheme, 'per-channel');
    assert.deepEqual(pc.scale, pt.scale);
    assert.deepEqual(pc.zeroPoint, pt.zeroPoint);
    assert.deepEqual(quantizeArray(x, pc), quantizeArray(x, pt));
  }
});

test('per-channel scales follow the last axis and need a channel axis', () => {
  // Kernel [2, 3]: channel c = index mod 3.
  const w = Float32Array.of(1, -10, 0.1, -2, 5, 0.2);
  const p = minMaxParams(w, [2, 3], 8, 'symmetric', 'per-channel');
  assert.deepEqual(p.scale, [2, 10, 0.2].map((a) => Math.fround(a / 127)));
  assert.throws(() => minMaxParams(w, [6], 8, 'symmetric', 'per-channel'), (e: unknown) => e instanceof QrobustError && /needs an output-channel axis/.test(e.message));
});

test('rounding is half away from zero; stochastic rounding is unbiased', () => {
  const p: QuantParams = { bits: 8, scheme: 'symmetric', qmin: -127, qmax: 127, scale: [1], zeroPoint: [0], granularity: 'per-tensor' };
  assert.deepEqual([...quantizeArray(Float32Array.of(0.5, 1.5, 2.5, -0.5, -2.5, 2.4999), p)], [1, 2, 3, -1, -3, 2]);
  const x = new Float32Array(20000).fill(0.3);
  const q = quantizeArray(x, p, { rounding: 'stochastic', rng: new Rng(1) });
  const mean = q.reduce((a, b) => a + b, 0) / q.length;
  assert.ok(Math.abs(mean - 0.3) < 0.02, `mean ${mean}`);
  assert.ok(q.every((v) => v === 0 || v === 1));
});

test('degenerate ranges give scale 1 and exact zeros', () => {
  const p = channelParams(0, 0, -128, 127, 'affine');
  assert.equal(p.scale, 1);
  assert.deepEqual([...fakeQuantArray(new Float32Array(3), paramsFromRanges([0], [0], 8, 'symmetric', 'per-tensor'))], [0, 0, 0]);
});

test('binary weights: sign × mean|w| per output channel (XNOR-Net)', () => {
  const w = Float32Array.of(0.5, -1, -0.25, 3, 0, -1); // shape [3, 2]
  const q = quantizeKernel(w, [3, 2], { bits: 1, kind: 'binary', scheme: 'symmetric', granularity: 'per-channel' });
  const a0 = Math.fround((0.5 + 0.25 + 0) / 3);
  const a1 = Math.fround((1 + 3 + 1) / 3);
  assert.deepEqual([...q.codes!], [1, -1, -1, 1, 1, -1]);
  assert.deepEqual([...q.dequantized], [a0, -a1, -a0, a1, a0, -a1].map(Math.fround));
});

test('ternary weights: Δ = 0.7·mean|w|, α = mean |w| above Δ (TWN)', () => {
  const w = Float32Array.of(1, -0.1, 0.2, -2, 0.05, 0.65);
  const q = quantizeKernel(w, [6, 1], { bits: 2, kind: 'ternary', scheme: 'symmetric', granularity: 'per-tensor' });
  const mean = (1 + 0.1 + 0.2 + 2 + 0.05 + 0.65) / 6; // 0.6667, Δ = 0.4667
  assert.ok(q.record.kind === 'ternary');
  assert.ok(Math.abs(q.record.threshold[0]! - 0.7 * mean) < 1e-7);
  assert.deepEqual([...q.codes!], [1, 0, 0, -1, 0, 1]);
  assert.ok(Math.abs(q.record.params.scale[0]! - (1 + 2 + 0.65) / 3) < 1e-6);
});

test('an all-zero output channel quantizes to exact zeros for every kind', () => {
  const w = Float32Array.of(0, 1, 0, -2); // shape [2, 2], channel 0 all zero
  for (const kind of ['uniform', 'binary', 'ternary'] as const) {
    const bits = kind === 'binary' ? 1 : kind === 'ternary' ? 2 : 4;
    const q = quantizeKernel(w, [2, 2], { bits, kind, scheme: 'symmetric', granularity: 'per-channel' });
    assert.equal(q.dequantized[0], 0);
    assert.equal(q.dequantized[2], 0);
  }
});

test('float16 rounding: exact halves, ties to even, subnormals, overflow', () => {
  assert.equal(roundToFloat16(1), 1);
  assert.equal(roundToFloat16(1 + 2 ** -11), 1); // tie → even mantissa
  assert.equal(roundToFloat16(1 + 3 * 2 ** -11), 1 + 2 ** -9);
  assert.equal(roundToFloat16(65504), 65504);
  assert.equal(roundToFloat16(65520), Infinity);
  assert.equal(roundToFloat16(2 ** -24), 2 ** -24);
  assert.equal(roundToFloat16(2 ** -26), 0);
  assert.equal(roundToFloat16(-0.1), -0.0999755859375);
});
