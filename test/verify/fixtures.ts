/**
 * Shared helpers for the bound-propagation and importer tests (no tests in here): the VNN-COMP mnistfc benchmark
 * beside the checkout, seeded random networks over every IR step kind, and point sampling in a box.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Rng } from '../../src/core/rng.js';
import { findSiblingMirror } from '../../src/data/locate.js';
import { convMatrix, poolGroups, type WindowGeometry } from '../../src/verify/bounds/conv-matrix.js';
import type { AffineStep, IRStep, NetworkIR } from '../../src/verify/ir.js';
import type { Box, Interval } from '../../src/verify/property.js';

/** The mnistfc benchmark folder (`shared/benchmarks/mnistfc` beside the checkout), or null. */
export const MNISTFC: string | null = (() => {
  const mirror = findSiblingMirror();
  if (!mirror) return null;
  const dir = join(dirname(mirror), 'benchmarks', 'mnistfc');
  return existsSync(join(dir, 'expected.csv')) ? dir : null;
})();

export const NEEDS_MNISTFC: string | false = MNISTFC ? false : 'no shared/benchmarks/mnistfc folder beside the checkout';

/** The rows of mnistfc's expected.csv: network, property and consensus answer. */
export async function mnistfcExpected(): Promise<{ onnx: string; vnnlib: string; result: 'sat' | 'unsat' | 'unknown' }[]> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(join(MNISTFC!, 'expected.csv'), 'utf8');
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [onnx, vnnlib, result] = line.split(',');
      return { onnx: onnx!, vnnlib: vnnlib!, result: result as 'sat' | 'unsat' | 'unknown' };
    });
}

/** A witness file `((X_0 v) … (Y_9 v))` as its X and Y vectors. */
export function parseWitness(text: string): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (const m of text.matchAll(/\(([XY])_(\d+)\s+([^\s()]+)\)/g)) (m[1] === 'X' ? x : y)[Number(m[2])] = Number(m[3]);
  return { x, y };
}

export function denseStep(rng: Rng, inSize: number, outSize: number, name: string, scale = 1): AffineStep {
  const data = new Float64Array(inSize * outSize);
  for (let i = 0; i < data.length; i++) data[i] = (rng.normal() * scale) / Math.sqrt(inSize);
  const bias = Float64Array.from({ length: outSize }, () => rng.normal() * 0.1);
  return { kind: 'affine', name, inSize, outSize, weights: { format: 'dense', rows: outSize, cols: inSize, data }, bias };
}

/** A random 3x3 'same' convolution over a [channels, h, w] NCHW image, as a CSR affine step. */
export function convStep(rng: Rng, g: { channels: number; h: number; w: number; outChannels: number }, name: string): AffineStep {
  const geometry: WindowGeometry = {
    channels: g.channels,
    inH: g.h,
    inW: g.w,
    outH: g.h,
    outW: g.w,
    kernelH: 3,
    kernelW: 3,
    strideH: 1,
    strideW: 1,
    padTop: 1,
    padLeft: 1,
    dilationH: 1,
    dilationW: 1,
  };
  const kernel = Float64Array.from({ length: g.outChannels * g.channels * 9 }, () => rng.normal() / Math.sqrt(9 * g.channels));
  const weights = convMatrix(geometry, g.outChannels, 'NCHW', (o, i, y, x) => kernel[((o * g.channels + i) * 3 + y) * 3 + x]!);
  const outSize = g.outChannels * g.h * g.w;
  const bias = Float64Array.from({ length: outSize }, (_, k) => 0.05 * Math.sin(Math.floor(k / (g.h * g.w)) + 1));
  return { kind: 'affine', name, inSize: g.channels * g.h * g.w, outSize, weights, bias };
}

/** 2x2 stride-2 max-pooling over a [channels, h, w] NCHW image. */
export function poolStep(g: { channels: number; h: number; w: number }, name: string): IRStep {
  const geometry: WindowGeometry = {
    channels: g.channels,
    inH: g.h,
    inW: g.w,
    outH: g.h / 2,
    outW: g.w / 2,
    kernelH: 2,
    kernelW: 2,
    strideH: 2,
    strideW: 2,
    padTop: 0,
    padLeft: 0,
    dilationH: 1,
    dilationW: 1,
  };
  const { offsets, indices } = poolGroups(geometry, 'NCHW');
  return { kind: 'maxpool', name, inSize: g.channels * g.h * g.w, outSize: offsets.length - 1, offsets, indices };
}

export function quantizeStep(size: number, scale: number, zeroPoint: number, bits: number, name: string): IRStep {
  return { kind: 'quantize', name, size, scale: Float64Array.of(scale), zeroPoint: Float64Array.of(zeroPoint), qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 };
}

/** A random fully connected ReLU network with the given layer sizes (last layer linear). */
export function randomMlp(seed: number, sizes: readonly number[]): NetworkIR {
  const rng = new Rng(seed);
  const steps: IRStep[] = [];
  for (let k = 0; k + 1 < sizes.length; k++) {
    steps.push(denseStep(rng, sizes[k]!, sizes[k + 1]!, `dense${k}`, 1.5));
    if (k + 2 < sizes.length) steps.push({ kind: 'relu', name: `relu${k}`, size: sizes[k + 1]! });
  }
  return { inputSize: sizes[0]!, inputShape: [sizes[0]!], outputSize: sizes[sizes.length - 1]!, steps, source: `random mlp ${sizes.join('-')} seed ${seed}` };
}

/**
 * A random network with every step kind: input quantizer, conv (CSR) + ReLU, max-pooling, activation quantizer,
 * dense + ReLU, dense logits. Input: a [2, 4, 4] image.
 */
export function randomMixedNet(seed: number): NetworkIR {
  const rng = new Rng(seed);
  const img = { channels: 2, h: 4, w: 4 };
  const steps: IRStep[] = [
    quantizeStep(32, 1 / 127, 0, 8, 'input quantizer'),
    convStep(rng, { ...img, outChannels: 3 }, 'conv'),
    { kind: 'relu', name: 'conv/relu', size: 48 },
    poolStep({ channels: 3, h: 4, w: 4 }, 'pool'),
    quantizeStep(12, 0.05, -8, 4, 'pool/quantizer'),
    denseStep(rng, 12, 10, 'dense', 2),
    { kind: 'relu', name: 'dense/relu', size: 10 },
    denseStep(rng, 10, 4, 'logits'),
  ];
  return { inputSize: 32, inputShape: [2, 4, 4], outputSize: 4, steps, source: `random mixed net seed ${seed}` };
}

/** A box of the given radius around a random centre in [0, 1]. */
export function randomBox(rng: Rng, size: number, radius: number): Box {
  const lower = new Float64Array(size);
  const upper = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const c = rng.next();
    lower[i] = c - radius;
    upper[i] = c + radius;
  }
  return { lower, upper };
}

/** `n` points in the box: random interior points and random corners, alternating. */
export function samplePoints(rng: Rng, box: Box, n: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    const corner = k % 2 === 1;
    out.push(box.lower.map((l, i) => (corner ? (rng.next() < 0.5 ? l : box.upper[i]!) : l + rng.next() * (box.upper[i]! - l))));
  }
  return out;
}

/** The largest amount by which `values` leaves `bounds` (0 when inside). */
export function violation(bounds: Interval, values: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    worst = Math.max(worst, bounds.lower[i]! - values[i]!, values[i]! - bounds.upper[i]!);
  }
  return worst;
}

/** The lower bound of c·y + offset that interval bounds on y give. */
export function intervalSpecLower(y: Interval, coeffs: Float64Array, offset: number): number {
  let s = offset;
  for (let j = 0; j < coeffs.length; j++) s += coeffs[j]! >= 0 ? coeffs[j]! * y.lower[j]! : coeffs[j]! * y.upper[j]!;
  return s;
}
