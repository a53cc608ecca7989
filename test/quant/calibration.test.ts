import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { ActivationObserver, calibratedRange, histogramMse, mseRange, percentileSorted } from '../../src/quant/calibration.js';
import { channelParams, integerRange } from '../../src/quant/quantizer.js';

test('min-max on uniform samples is exactly the sample extremes', () => {
  const rng = new Rng(7);
  const x = Float32Array.from({ length: 5000 }, () => -1.5 + 4 * rng.next());
  const obs = new ActivationObserver(0);
  obs.observe(x.subarray(0, 2000));
  obs.observe(x.subarray(2000));
  let min = Infinity;
  let max = -Infinity;
  for (const v of x) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.deepEqual(calibratedRange(obs, { method: 'minmax' }, 8, 'affine'), { min, max });
  assert.ok(min > -1.5 && min < -1.49 && max < 2.5 && max > 2.49);
  assert.equal(obs.count, 5000);
});

test('percentile on a known set: 1..1000 interpolates like NumPy', () => {
  const sorted = Float32Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(percentileSorted(sorted, 100), 1000);
  assert.equal(percentileSorted(sorted, 0), 1);
  assert.ok(Math.abs(percentileSorted(sorted, 99) - 990.01) < 1e-9);
  assert.ok(Math.abs(percentileSorted(sorted, 50) - 500.5) < 1e-9);
  const obs = new ActivationObserver(1 << 12);
  obs.observe(Float32Array.from({ length: 1000 }, (_, i) => 1000 - i)); // order does not matter
  const r = calibratedRange(obs, { method: 'percentile', percentile: 99 }, 8, 'affine');
  assert.ok(Math.abs(r.max - 990.01) < 1e-9 && Math.abs(r.min - 10.99) < 1e-9, JSON.stringify(r));
  const sym = calibratedRange(obs, { method: 'percentile', percentile: 99 }, 8, 'symmetric');
  assert.equal(sym.min, -sym.max);
});

test('the reservoir keeps a uniform sample of bounded size', () => {
  const obs = new ActivationObserver(1000, 3);
  obs.observe(Float32Array.from({ length: 100000 }, (_, i) => i / 100000));
  const s = obs.sample();
  assert.equal(s.length, 1000);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  assert.equal(obs.min, 0);
  assert.equal(obs.max, Math.fround(99999 / 100000));
});

test('MSE calibration clips a Gaussian at 4 bits near 2.5σ and beats min-max', () => {
  const rng = new Rng(11);
  const x = Float32Array.from({ length: 200000 }, () => rng.normal());
  const obs = new ActivationObserver(1 << 18);
  obs.observe(x);
  const r = calibratedRange(obs, { method: 'mse' }, 4, 'symmetric');
  const amax = Math.max(-r.min, r.max);
  assert.ok(amax > 2 && amax < 3.3, `optimal clip ${amax}σ`);
  const full = Math.max(-obs.min, obs.max);
  assert.ok(full > 4, `sample extreme ${full}`);
  // Direct check on the samples: the MSE range really has lower error than min-max.
  const { qmin, qmax } = integerRange(4, 'symmetric');
  const err = (a: number): number => {
    const { scale } = channelParams(-a, a, qmin, qmax, 'symmetric');
    let e = 0;
    for (const v of x) {
      const q = Math.max(qmin, Math.min(qmax, Math.round(v / scale)));
      e += (v - q * scale) ** 2;
    }
    return e / x.length;
  };
  assert.ok(err(amax) < 0.7 * err(full), `mse ${err(amax)} vs min-max ${err(full)}`);
});

test('MSE search on a uniform distribution keeps (nearly) the full range', () => {
  const rng = new Rng(5);
  const x = Float32Array.from({ length: 50000 }, () => rng.next() * 6);
  const r = mseRange(x, 0, 6, 8, 'affine');
  assert.ok(r.max > 5.8, `max ${r.max}`);
  assert.equal(r.min, 0);
  assert.ok(histogramMse(new Float64Array(4), 0, 1, 0, 1, -128, 127, 'affine') === 0);
});
