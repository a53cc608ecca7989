/**
 * qrobust's wasm Conv2DBackpropInput / Conv2DBackpropFilter against TF.js's cpu kernels, over filter sizes,
 * channel counts, strides, paddings and odd image sizes, through every code path (flipped-filter convolution,
 * matmul + col2im, element-wise im2col, shifted rows, batch chunks, the non-finite fallback).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { columnBuffers } from '../../src/backend/kernels/im2col.js';
import { assertClose, assertNoLeak, onBoth, randomHost, setUpWasm, type HostTensor } from './kernel-helpers.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  k: number | [number, number];
  inC: number;
  outC: number;
  stride: number | [number, number];
  pad: Pad;
  h: number;
  w: number;
  batch: number;
}

const TOL = 1e-4;

function cases(): ConvCase[] {
  const out: ConvCase[] = [];
  const pads: Pad[] = ['same', 'valid', [[0, 0], [1, 2], [2, 0], [0, 0]]];
  for (const k of [1, 3, 5]) {
    for (const [inC, outC] of [[1, 3], [3, 8], [8, 1], [8, 5]] as const) {
      for (const stride of [1, 2]) {
        for (const pad of pads) out.push({ k, inC, outC, stride, pad, h: 9, w: 7, batch: 2 });
      }
    }
  }
  // Non-square filters and strides, an image smaller than the filter with 'same'.
  out.push({ k: [3, 2], inC: 4, outC: 6, stride: [2, 1], pad: 'same', h: 8, w: 5, batch: 3 });
  out.push({ k: [1, 3], inC: 5, outC: 2, stride: [1, 3], pad: 'valid', h: 6, w: 10, batch: 1 });
  out.push({ k: 5, inC: 6, outC: 4, stride: 1, pad: 'same', h: 3, w: 4, batch: 2 });
  out.push({ k: 3, inC: 16, outC: 32, stride: 1, pad: 'same', h: 14, w: 14, batch: 4 });
  return out;
}

/** The output shape of the forward convolution (computed by TF.js's own rules). */
function outShape(c: ConvCase): number[] {
  const [kh, kw] = typeof c.k === 'number' ? [c.k, c.k] : c.k;
  const info = tf.backend_util.computeConv2DInfo([c.batch, c.h, c.w, c.inC], [kh, kw, c.inC, c.outC], c.stride, 1, c.pad);
  return info.outShape;
}

function filterShape(c: ConvCase): [number, number, number, number] {
  const [kh, kw] = typeof c.k === 'number' ? [c.k, c.k] : c.k;
  return [kh, kw, c.inC, c.outC];
}

function label(c: ConvCase): string {
  return `k=${c.k} in=${c.inC} out=${c.outC} s=${c.stride} pad=${JSON.stringify(c.pad)} ${c.batch}x${c.h}x${c.w}`;
}

function backpropInput(c: ConvCase, dy: HostTensor, filter: HostTensor): [HostTensor, HostTensor] {
  const [[a], [b]] = onBoth([dy, filter], (d, f) =>
    tf.engine().runKernel(
      'Conv2DBackpropInput',
      { dy: d!, filter: f! },
      { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: [c.batch, c.h, c.w, c.inC] } as never,
    ) as tf.Tensor,
  );
  return [a!, b!];
}

function backpropFilter(c: ConvCase, x: HostTensor, dy: HostTensor): [HostTensor, HostTensor] {
  const [[a], [b]] = onBoth([x, dy], (xx, d) =>
    tf.engine().runKernel(
      'Conv2DBackpropFilter',
      { x: xx!, dy: d! },
      { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: filterShape(c) } as never,
    ) as tf.Tensor,
  );
  return [a!, b!];
}

before(setUpWasm);

test('Conv2DBackpropInput matches the cpu kernel over the configuration table', () => {
  const rng = new Rng(11);
  for (const c of cases()) {
    const dy = randomHost(rng, outShape(c));
    const filter = randomHost(rng, filterShape(c));
    const [fast, ref] = backpropInput(c, dy, filter);
    assertClose(fast, ref, TOL, `input gradient ${label(c)}`);
  }
});

test('Conv2DBackpropFilter matches the cpu kernel over the configuration table', () => {
  const rng = new Rng(12);
  for (const c of cases()) {
    const x = randomHost(rng, [c.batch, c.h, c.w, c.inC]);
    const dy = randomHost(rng, outShape(c));
    const [fast, ref] = backpropFilter(c, x, dy);
    assertClose(fast, ref, TOL, `filter gradient ${label(c)}`);
  }
});

test('batch chunks give the same gradients as one pass', () => {
  const saved = columnBuffers.maxElements;
  columnBuffers.maxElements = 500; // a few images per chunk
  try {
    const rng = new Rng(13);
    for (const c of [
      { k: 3, inC: 4, outC: 3, stride: 1, pad: 'same', h: 6, w: 5, batch: 7 },
      { k: 3, inC: 1, outC: 3, stride: 1, pad: 'valid', h: 6, w: 5, batch: 7 },
      { k: 3, inC: 2, outC: 3, stride: 2, pad: 'same', h: 7, w: 6, batch: 5 },
    ] satisfies ConvCase[]) {
      const x = randomHost(rng, [c.batch, c.h, c.w, c.inC]);
      const dy = randomHost(rng, outShape(c));
      const filter = randomHost(rng, filterShape(c));
      const [fastF, refF] = backpropFilter(c, x, dy);
      assertClose(fastF, refF, TOL, `chunked filter gradient ${label(c)}`);
      const [fastI, refI] = backpropInput(c, dy, filter);
      assertClose(fastI, refI, TOL, `chunked input gradient ${label(c)}`);
    }
  } finally {
    columnBuffers.maxElements = saved;
  }
});

test('non-finite inputs give the same Infinity/NaN pattern as the cpu kernel', () => {
  const rng = new Rng(14);
  const c: ConvCase = { k: 3, inC: 3, outC: 2, stride: 1, pad: 'same', h: 6, w: 6, batch: 2 };
  const x = randomHost(rng, [c.batch, c.h, c.w, c.inC]);
  x.values[(1 * 6 + 5) * 3 + 2] = Infinity; // image 0, row 1, last column, channel 2
  const dy = randomHost(rng, outShape(c));
  const [fast, ref] = backpropFilter(c, x, dy);
  assert.ok(ref.values.some((v) => !Number.isFinite(v)) && ref.values.some(Number.isFinite));
  assertClose(fast, ref, TOL, 'filter gradient with an infinite input');
});

test('gradients of tf.conv2d, tf.fused.conv2d (bias + relu) and conv2dTranspose match the cpu backend', () => {
  const rng = new Rng(15);
  const x = randomHost(rng, [3, 10, 9, 4]);
  const w = randomHost(rng, [3, 3, 4, 6]);
  const bias = randomHost(rng, [6]);
  for (const stride of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) {
      const [fast, ref] = onBoth([x, w, bias], (xx, ww, bb) => {
        const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Scalar => {
          const y = tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: stride, pad, bias: c, activation: 'relu' });
          const z = tf.conv2d(y, tf.ones([2, 2, 6, 3]) as tf.Tensor4D, 1, 'same');
          return tf.sum(tf.mul(z, z));
        };
        return tf.grads(loss)([xx!, ww!, bb!]);
      });
      for (let i = 0; i < 3; i++) assertClose(fast[i]!, ref[i]!, TOL, `conv gradient ${i} stride ${stride} ${pad}`);
    }
  }
  const dy = randomHost(rng, [2, 5, 5, 6]);
  const [t1, t2] = onBoth([dy, w], (d, ww) => tf.conv2dTranspose(d as tf.Tensor4D, ww as tf.Tensor4D, [2, 10, 9, 4], 2, 'same'));
  assertClose(t1[0]!, t2[0]!, TOL, 'conv2dTranspose');
});

test('NCHW is rejected with a clear error', () => {
  const dy = tf.ones([1, 2, 3, 3]);
  const filter = tf.ones([2, 2, 2, 2]);
  try {
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: 1, pad: 'valid', dataFormat: 'NCHW', inputShape: [1, 2, 4, 4] } as never),
      /NHWC/,
    );
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.ones([1, 2, 4, 4]), dy }, { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [2, 2, 2, 2] } as never),
      /NHWC/,
    );
  } finally {
    tf.dispose([dy, filter]);
  }
});

test('the convolution gradient kernels free every intermediate', () => {
  const rng = new Rng(16);
  const x = tf.tensor(randomHost(rng, [4, 12, 12, 3]).values, [4, 12, 12, 3]) as tf.Tensor4D;
  const w = tf.tensor(randomHost(rng, [3, 3, 3, 8]).values, [3, 3, 3, 8]) as tf.Tensor4D;
  const saved = columnBuffers.maxElements;
  try {
    for (const budget of [saved, 2000]) {
      columnBuffers.maxElements = budget;
      for (const stride of [1, 2]) {
        for (const inputChannels of [1, 3]) {
          const xs = tf.slice(x, [0, 0, 0, 0], [4, 12, 12, inputChannels]);
          const ws = tf.slice(w, [0, 0, 0, 0], [3, 3, inputChannels, 8]);
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same')));
          assertNoLeak(`conv gradients stride ${stride} channels ${inputChannels} budget ${budget}`, () => tf.dispose(g([xs, ws])));
          tf.dispose([xs, ws]);
        }
      }
    }
  } finally {
    columnBuffers.maxElements = saved;
    tf.dispose([x, w]);
  }
});

after(() => {
  assert.equal(tf.getBackend(), 'wasm');
});
