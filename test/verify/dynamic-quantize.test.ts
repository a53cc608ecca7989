/**
 * Bounds of hybrid (dynamic-range) networks against their deployed kernels: random two-layer networks whose
 * inputs are quantized at run time (TFLite's symmetric scheme, ONNX Runtime's DynamicQuantizeLinear), bounded by
 * IBP and CROWN on the IR, and evaluated point by point with the hybrid kernels that match TFLite and ONNX
 * Runtime bit for bit (test/import): every deployed output must lie inside the bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { hybridDenseForward, type HybridDenseLayer } from '../../src/quant/hybrid/hybrid-dense.js';
import { dynamicallyQuantized } from '../../src/quant/hybrid/input-quantizer.js';
import { dynamicQuantizeError, dynamicQuantizeInterval } from '../../src/verify/bounds/dynamic-quantize.js';
import { IrBuilder } from '../../src/verify/bounds/ir-builder.js';
import { denseMatrix } from '../../src/verify/bounds/matrix.js';
import { crownBounds } from '../../src/verify/crown.js';
import { intervalBounds } from '../../src/verify/ibp.js';
import { evaluateIR, type DynamicQuantizeScheme, type NetworkIR } from '../../src/verify/ir.js';

type Scheme = Exclude<DynamicQuantizeScheme, 'asymmetric'>;

function randomLayer(rng: Rng, inSize: number, units: number, relu: boolean, scheme: Scheme): HybridDenseLayer {
  const weights = Int16Array.from({ length: inSize * units }, () => rng.int(255) - 127);
  const weightScale = Float32Array.of(0.002 + 0.02 * rng.next());
  const bias = Float32Array.from({ length: units }, () => rng.next() - 0.5);
  return { inSize, units, weights, weightScale, bias, activation: relu ? { kind: 'relu' } : { kind: 'linear' }, inputQuantization: scheme };
}

/** The IR of the layers: each layer's run-time quantizer, then its dequantized weights f32(code · scale). */
function irOf(layers: readonly HybridDenseLayer[]): NetworkIR {
  const b = new IrBuilder(layers[0]!.inSize, 'hybrid test net');
  layers.forEach((l, k) => {
    b.dynamicQuantize(l.inputQuantization, `q${k}`);
    const data = Float64Array.from(l.weights, (q) => Math.fround(q * l.weightScale[0]!));
    b.linear(denseMatrix(l.units, l.inSize, data), Float64Array.from(l.bias), `dense${k}`);
    if (l.activation.kind === 'relu') b.relu(`relu${k}`);
  });
  return b.finish([layers[0]!.inSize]);
}

function deployed(layers: readonly HybridDenseLayer[], x: Float32Array): Float32Array {
  return layers.reduce((v, l) => hybridDenseForward(l, v, 1), x);
}

for (const scheme of ['symmetric', 'dynamic-quantize-linear'] as const) {
  test(`${scheme}: IBP and CROWN bounds contain the deployed hybrid outputs on random boxes`, () => {
    const rng = new Rng(scheme === 'symmetric' ? 11 : 12);
    let points = 0;
    for (let net = 0; net < 12; net++) {
      const layers = [randomLayer(rng, 8, 6, true, scheme), randomLayer(rng, 6, 3, false, scheme)];
      const ir = irOf(layers);
      for (const eps of [0, 0.01, 0.1, 0.4]) {
        const centre = Float64Array.from({ length: 8 }, () => (net % 2 === 0 ? rng.next() : 2 * rng.next() - 1));
        // Box ends in float32, so that every clamped float32 point lies in the box.
        const box = { lower: centre.map((c) => Math.fround(c - eps)), upper: centre.map((c) => Math.fround(c + eps)) };
        const ibp = intervalBounds(ir, box);
        const crown = crownBounds(ir, box);
        const outIbp = ibp.steps[ibp.steps.length - 1]!;
        const outCrown = crown.steps[crown.steps.length - 1]!;
        for (let p = 0; p < 120; p++) {
          // Corners half of the time: where the scale (the largest magnitude) is extreme.
          const x = Float32Array.from(centre, (c) => c + eps * (p % 2 === 0 ? (rng.next() < 0.5 ? -1 : 1) : 2 * rng.next() - 1));
          for (let i = 0; i < 8; i++) x[i] = Math.min(Math.max(x[i]!, box.lower[i]!), box.upper[i]!);
          if (x.some((v, i) => v < box.lower[i]! || v > box.upper[i]!)) continue;
          const y = deployed(layers, x);
          points++;
          for (let o = 0; o < 3; o++) {
            for (const [name, b] of [['IBP', outIbp], ['CROWN', outCrown]] as const) {
              assert.ok(y[o]! >= b.lower[o]! && y[o]! <= b.upper[o]!, `${name} net ${net} ε ${eps} point ${p} output ${o}: ${y[o]} not in [${b.lower[o]}, ${b.upper[o]}]`);
            }
          }
        }
      }
    }
    assert.ok(points > 5000);
  });
}

test('the IR evaluates the deployed quantization: outputs within float32 rounding of the hybrid kernels', () => {
  const rng = new Rng(13);
  for (const scheme of ['symmetric', 'dynamic-quantize-linear'] as const) {
    const layers = [randomLayer(rng, 8, 6, true, scheme), randomLayer(rng, 6, 3, false, scheme)];
    const ir = irOf(layers);
    for (let p = 0; p < 50; p++) {
      const x = Float32Array.from({ length: 8 }, () => 2 * rng.next() - 1);
      const want = deployed(layers, x);
      const got = evaluateIR(ir, x);
      for (let o = 0; o < 3; o++) assert.ok(Math.abs(got[o]! - want[o]!) <= 1e-5 * (1 + Math.abs(want[o]!)), `${scheme} point ${p}: ${got[o]} vs ${want[o]}`);
    }
  }
});

test('the quantizer step alone: every dequantized element lies within the band x ± δ and the interval of its box', () => {
  const rng = new Rng(14);
  for (const scheme of ['symmetric', 'dynamic-quantize-linear'] as const) {
    const step = { kind: 'dynamicQuantize', name: 'q', size: 16, scheme } as const;
    let worst = 0;
    for (let b = 0; b < 200; b++) {
      const eps = [0, 1e-3, 0.05][b % 3]!;
      const centre = Float64Array.from({ length: 16 }, () => Math.fround(b % 2 === 0 ? rng.next() : 3 * rng.next() - 1));
      const box = { lower: centre.map((c) => Math.fround(c - eps)), upper: centre.map((c) => Math.fround(c + eps)) };
      const d = dynamicQuantizeError(step, box);
      const iv = dynamicQuantizeInterval(step, box);
      for (let p = 0; p < 20; p++) {
        const x = Float32Array.from(centre, (c, i) => Math.min(box.upper[i]!, Math.max(box.lower[i]!, c + eps * (2 * rng.next() - 1))));
        const y = dynamicallyQuantized(scheme, x);
        for (let i = 0; i < 16; i++) {
          worst = Math.max(worst, Math.abs(y[i]! - x[i]!) / d);
          assert.ok(Math.abs(y[i]! - x[i]!) <= d, `${scheme} box ${b}: |${y[i]} − ${x[i]}| > δ ${d}`);
          assert.ok(y[i]! >= iv.lower[i]! && y[i]! <= iv.upper[i]!, `${scheme} box ${b}: ${y[i]} outside the interval`);
        }
      }
    }
    // The band is not loose by much: some element comes within 20% of δ.
    assert.ok(worst > (scheme === 'symmetric' ? 0.8 : 0.4), `${scheme}: worst error only ${worst.toFixed(3)} δ`);
  }
});
