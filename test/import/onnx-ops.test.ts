/**
 * Each operator family of the ONNX importer on small graphs written here, imported, built as TF.js models and
 * compared with ONNX Runtime on seeded random images (to 1e-5), in NCHW, NHWC and flat layouts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/backend.js';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import type { GraphOpKind } from '../../src/graph/model-graph.js';
import { compareWithOrt, f32, float, i64, int, ints, node, str, uniform, weights, type Image, type ModelSpec } from './onnx-fixtures.js';
import type { InputLayout } from '../../src/import/types.js';
import { graphFromModel } from '../../src/models/graph.js';

await initBackend('wasm');

const TOL = 1e-5;
const IMG: Image = [8, 8, 3];
const NCHW_IN = [1, 3, 8, 8];

/** A head that turns an NCHW feature map `t` with `size` elements into `classes` logits: Flatten then Gemm. */
function head(rng: Rng, t: string, size: number, classes = 4): Pick<ModelSpec, 'nodes' | 'initializers' | 'output'> {
  return {
    nodes: [node('Flatten', [t], ['flat'], [int('axis', 1)]), node('Gemm', ['flat', 'head_w', 'head_b'], ['logits'], [int('transB', 1)])],
    initializers: [weights(rng, 'head_w', [classes, size]), weights(rng, 'head_b', [classes], 1)],
    output: 'logits',
  };
}

function withHead(rng: Rng, body: { nodes: ModelSpec['nodes']; initializers: ModelSpec['initializers'] }, t: string, size: number, extra: Partial<ModelSpec> = {}): ModelSpec {
  const h = head(rng, t, size);
  return { nodes: [...body.nodes, ...h.nodes], initializers: [...body.initializers, ...h.initializers], input: NCHW_IN, output: h.output, ...extra };
}

async function check(label: string, spec: ModelSpec, opts: { image?: Image; classes?: number; layout?: InputLayout; kinds?: GraphOpKind[]; className?: string } = {}): Promise<void> {
  const before = tf.memory().numTensors;
  const { imported, model, maxDiff } = await compareWithOrt(spec, opts.image ?? IMG, opts.classes ?? 4, opts.layout ? { layout: opts.layout } : {});
  const kinds = imported.graph.nodes.map((n) => n.op.kind);
  try {
    assert.ok(maxDiff < TOL, `${label}: max |Δ| vs ONNX Runtime ${maxDiff} (graph ${kinds.join(' → ')})`);
    if (opts.kinds) assert.deepEqual(kinds, opts.kinds, `${label}: graph nodes`);
    if (opts.className) assert.equal(model.getClassName(), opts.className, `${label}: model class`);
    // A Sequential import is one the layer graph (quantization, integer path, verifier) accepts.
    if (model.getClassName() === 'Sequential') assert.ok(graphFromModel(model).steps.length > 0);
  } finally {
    model.dispose();
  }
  assert.equal(tf.memory().numTensors, before, `${label}: leaks tensors`);
}

test('Conv: asymmetric pads with strides, dilations, auto_pad SAME_UPPER/SAME_LOWER/VALID, depthwise, grouped', async () => {
  const rng = new Rng(1);
  const conv = (w: number[], attrs: ReturnType<typeof ints>[], outSize: number, input = NCHW_IN, bias = true): ModelSpec =>
    withHead(rng, { nodes: [node('Conv', bias ? ['x', 'w', 'b'] : ['x', 'w'], ['y'], attrs, 'conv')], initializers: [weights(rng, 'w', w), ...(bias ? [weights(rng, 'b', [w[0]!], 1)] : [])] }, 'y', outSize, { input });
  // PyTorch-style explicit asymmetric pads (top 1, left 0, bottom 2, right 1) and strides (2, 1): 5×9 output.
  await check('asymmetric pads', conv([4, 3, 3, 3], [ints('pads', [1, 0, 2, 1]), ints('strides', [2, 1])], 4 * 5 * 7), { kinds: ['conv2d', 'flatten', 'dense'] });
  await check('dilations', conv([4, 3, 3, 3], [ints('pads', [2, 2, 2, 2]), ints('dilations', [2, 2])], 4 * 8 * 8));
  await check('SAME_UPPER stride 2', conv([5, 3, 3, 3], [str('auto_pad', 'SAME_UPPER'), ints('strides', [2, 2])], 5 * 4 * 4));
  await check('SAME_LOWER stride 2', conv([5, 3, 2, 2], [str('auto_pad', 'SAME_LOWER'), ints('strides', [2, 2])], 5 * 4 * 4));
  await check('VALID, no bias', conv([2, 3, 3, 3], [str('auto_pad', 'VALID')], 2 * 6 * 6, NCHW_IN, false));
  await check('depthwise, multiplier 2', conv([6, 1, 3, 3], [int('group', 3), ints('pads', [1, 1, 1, 1])], 6 * 8 * 8));
  await check('grouped (2 groups of 2 channels)', conv([6, 2, 3, 3], [int('group', 2), ints('pads', [0, 1, 1, 0])], 6 * 7 * 7, [1, 4, 8, 8]), { image: [8, 8, 4] });
});

test('a PyTorch-style conv chain (pads 1, Relu, MaxPool, Flatten, Gemm) builds a Sequential', async () => {
  const rng = new Rng(2);
  const spec = withHead(
    rng,
    {
      nodes: [
        node('Conv', ['x', 'w', 'b'], ['c'], [ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])], 'conv1'),
        node('Relu', ['c'], ['r']),
        node('MaxPool', ['r'], ['p'], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]),
      ],
      initializers: [weights(rng, 'w', [4, 3, 3, 3]), weights(rng, 'b', [4], 1)],
    },
    'p',
    4 * 4 * 4,
  );
  await check('conv chain', spec, { kinds: ['conv2d', 'maxPool', 'flatten', 'dense'], className: 'Sequential' });
});

test('MaxPool and AveragePool: explicit pads, count_include_pad 0 and 1, ceil_mode; GlobalAveragePool', async () => {
  const rng = new Rng(3);
  const pool = (op: string, attrs: ReturnType<typeof ints>[], outHW: number): ModelSpec => withHead(rng, { nodes: [node(op, ['x'], ['p'], attrs)], initializers: [] }, 'p', 3 * outHW * outHW);
  const k3s2p1 = [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1])];
  await check('MaxPool k3 s2 pads 1', pool('MaxPool', k3s2p1, 4));
  await check('MaxPool same-like pads', pool('MaxPool', [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])], 8));
  await check('MaxPool ceil_mode', pool('MaxPool', [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), int('ceil_mode', 1)], 4));
  await check('AveragePool exclude pad', pool('AveragePool', k3s2p1, 4));
  await check('AveragePool include pad', pool('AveragePool', [...k3s2p1, int('count_include_pad', 1)], 4));
  await check('AveragePool asymmetric pads, exclude', pool('AveragePool', [ints('kernel_shape', [2, 2]), ints('strides', [2, 2]), ints('pads', [0, 0, 1, 1])], 4));
  // Pads equal to TF's 'same' become an AveragePooling2D 'same', which excludes the padding as ONNX does here.
  await check('AveragePool same-like pads', pool('AveragePool', [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])], 8));
  await check('AveragePool no pads', pool('AveragePool', [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])], 4));
  const gap: ModelSpec = {
    nodes: [node('GlobalAveragePool', ['x'], ['g']), node('Flatten', ['g'], ['f']), node('Gemm', ['f', 'w', 'b'], ['logits'], [int('transB', 1)])],
    initializers: [weights(rng, 'w', [4, 3]), weights(rng, 'b', [4], 1)],
    input: NCHW_IN,
    output: 'logits',
  };
  await check('GlobalAveragePool', gap, { kinds: ['globalAvgPool', 'dense'] });
  await check('GlobalMaxPool', { ...gap, nodes: [node('GlobalMaxPool', ['x'], ['g']), ...gap.nodes.slice(1)] }, { kinds: ['maxPool', 'flatten', 'dense'] });
  // A 1×1 conv on the pooled [1, C, 1, 1] vector (a network-in-network head) is a dense layer.
  const nin: ModelSpec = {
    nodes: [node('GlobalAveragePool', ['x'], ['g']), node('Conv', ['g', 'w', 'b'], ['c'], [ints('kernel_shape', [1, 1])]), node('Flatten', ['c'], ['logits'])],
    initializers: [weights(rng, 'w', [4, 3, 1, 1]), weights(rng, 'b', [4], 1)],
    input: NCHW_IN,
    output: 'logits',
  };
  await check('1x1 conv after a global pool', nin, { kinds: ['globalAvgPool', 'dense'] });
});

test('BatchNormalization folds into the conv it follows; standalone it is a channel affine', async () => {
  const rng = new Rng(4);
  const bn = (name: string, c: number) => [
    uniform(rng, `${name}_s`, [c], 0.5, 1.5),
    uniform(rng, `${name}_b`, [c], -0.5, 0.5),
    uniform(rng, `${name}_m`, [c], -0.2, 0.2),
    uniform(rng, `${name}_v`, [c], 0.5, 2),
  ];
  const bnNode = (x: string, y: string, name: string) => node('BatchNormalization', [x, `${name}_s`, `${name}_b`, `${name}_m`, `${name}_v`], [y], [float('epsilon', 1e-3)]);
  const folded = withHead(rng, { nodes: [node('Conv', ['x', 'w', 'b'], ['c'], [ints('pads', [1, 1, 1, 1])]), bnNode('c', 'n', 'bn'), node('Relu', ['n'], ['r'])], initializers: [weights(rng, 'w', [4, 3, 3, 3]), weights(rng, 'b', [4], 1), ...bn('bn', 4)] }, 'r', 4 * 64);
  await check('BN after conv', folded, { kinds: ['conv2d', 'flatten', 'dense'], className: 'Sequential' });
  const standalone = withHead(rng, { nodes: [bnNode('x', 'n', 'bn'), node('Conv', ['n', 'w', 'b'], ['c'], [])], initializers: [weights(rng, 'w', [4, 3, 3, 3]), weights(rng, 'b', [4], 1), ...bn('bn', 3)] }, 'c', 4 * 36);
  // A positive affine of the input joins the Normalize in front, so the chain stays a Sequential.
  await check('BN on the input', standalone, { kinds: ['channelAffine', 'conv2d', 'flatten', 'dense'], className: 'Sequential' });
  // The conv output is read twice (BN and the residual Add), so BN cannot fold into it.
  const shared = withHead(
    rng,
    { nodes: [node('Conv', ['x', 'w', 'b'], ['c'], [ints('pads', [1, 1, 1, 1])]), bnNode('c', 'n', 'bn'), node('Add', ['c', 'n'], ['s'])], initializers: [weights(rng, 'w', [3, 3, 3, 3]), weights(rng, 'b', [3], 1), ...bn('bn', 3)] },
    's',
    3 * 64,
  );
  await check('BN on a shared conv', shared, { kinds: ['conv2d', 'channelAffine', 'add', 'flatten', 'dense'] });
});

test('residual Add and Sub of activations, Concat along channels, constant arithmetic folded or kept', async () => {
  const rng = new Rng(5);
  const residual = withHead(
    rng,
    {
      nodes: [
        node('Conv', ['x', 'w1', 'b1'], ['c1'], [ints('pads', [1, 1, 1, 1])]),
        node('Relu', ['c1'], ['r1']),
        node('Conv', ['r1', 'w2', 'b2'], ['c2'], [ints('pads', [1, 1, 1, 1])]),
        node('Add', ['x', 'c2'], ['s']),
        node('Relu', ['s'], ['r']),
        node('Sub', ['r', 'c1'], ['d']),
      ],
      initializers: [weights(rng, 'w1', [3, 3, 3, 3]), weights(rng, 'b1', [3], 1), weights(rng, 'w2', [3, 3, 3, 3]), weights(rng, 'b2', [3], 1)],
    },
    'd',
    3 * 64,
  );
  await check('residual block', residual);
  const concat = withHead(
    rng,
    {
      nodes: [node('Conv', ['x', 'w1', 'b1'], ['a'], []), node('Conv', ['x', 'w2', 'b2'], ['b'], [ints('kernel_shape', [3, 3])]), node('Concat', ['a', 'b'], ['c'], [int('axis', 1)])],
      initializers: [weights(rng, 'w1', [2, 3, 3, 3]), weights(rng, 'b1', [2], 1), weights(rng, 'w2', [3, 3, 3, 3]), weights(rng, 'b2', [3], 1)],
    },
    'c',
    5 * 36,
  );
  await check('concat', concat, { kinds: ['conv2d', 'conv2d', 'concat', 'flatten', 'dense'] });
  const vectors: ModelSpec = {
    nodes: [
      node('Flatten', ['x'], ['f']),
      node('Gemm', ['f', 'w1', 'b1'], ['u'], [int('transB', 1)]),
      node('Gemm', ['f', 'w2', 'b2'], ['v'], [int('transB', 1)]),
      node('Concat', ['u', 'v'], ['logits'], [int('axis', 1)]),
    ],
    initializers: [weights(rng, 'w1', [3, 192]), weights(rng, 'b1', [3], 1), weights(rng, 'w2', [1, 192]), weights(rng, 'b2', [1], 1)],
    input: NCHW_IN,
    output: 'logits',
  };
  await check('concat of vectors', vectors, { kinds: ['flatten', 'dense', 'dense', 'concat'] });
  // Sub and Div of the input by per-channel constants (preprocessing inside the network), then Mul and Add after a conv.
  const arithmetic = withHead(
    rng,
    {
      nodes: [
        node('Sub', ['x', 'mean'], ['xm']),
        node('Div', ['xm', 'std'], ['xs']),
        node('Conv', ['xs', 'w', 'b'], ['c'], []),
        node('Mul', ['c', 'k'], ['cm']),
        node('Add', ['cm', 'k2'], ['ca']),
        node('Sub', ['one', 'ca'], ['cs']),
      ],
      initializers: [uniform(rng, 'mean', [3, 1, 1], 0.3, 0.6), uniform(rng, 'std', [1, 3, 1, 1], 0.2, 0.3), weights(rng, 'w', [4, 3, 3, 3]), weights(rng, 'b', [4], 1), uniform(rng, 'k', [4, 1, 1], 0.5, 2), uniform(rng, 'k2', [4, 1, 1], -1, 1), f32('one', [], [1])],
    },
    'cs',
    4 * 36,
  );
  await check('constant arithmetic', arithmetic, { kinds: ['channelAffine', 'conv2d', 'flatten', 'dense'], className: 'Sequential' });
});

test('Pad: constant value (opset 13 inputs, opset 9 attributes), a zero Pad folding into the next conv', async () => {
  const rng = new Rng(6);
  const padded = (opset: number, value: number): ModelSpec =>
    withHead(
      rng,
      {
        nodes: [
          opset >= 11 ? node('Pad', ['x', 'pads', 'value'], ['p'], [str('mode', 'constant')]) : node('Pad', ['x'], ['p'], [ints('pads', [0, 0, 1, 2, 0, 0, 0, 1]), float('value', value)]),
          node('Conv', ['p', 'w', 'b'], ['c'], []),
        ],
        initializers: [...(opset >= 11 ? [i64('pads', [0, 0, 1, 2, 0, 0, 0, 1]), f32('value', [], [value])] : []), weights(rng, 'w', [2, 3, 3, 3]), weights(rng, 'b', [2], 1)],
      },
      'c',
      2 * 7 * 9,
      { opset },
    );
  await check('Pad 0.5 opset 13', padded(13, 0.5), { kinds: ['pad', 'conv2d', 'flatten', 'dense'] });
  await check('Pad 0.5 opset 9', padded(9, 0.5), { kinds: ['pad', 'conv2d', 'flatten', 'dense'] });
  await check('Pad 0 opset 13', padded(13, 0), { kinds: ['conv2d', 'flatten', 'dense'] });
});

test('activations: LeakyRelu, Clip (ReLU6 from inputs, [-1, 1] from opset 9 attributes), Sigmoid, Tanh', async () => {
  const rng = new Rng(7);
  const chain = (opset: number, acts: ModelSpec['nodes'], last: string, extra: ModelSpec['initializers'] = []): ModelSpec => ({
    nodes: [node('Flatten', ['x'], ['f']), node('Gemm', ['f', 'w1', 'b1'], ['h'], [int('transB', 1)]), ...acts, node('Gemm', [last, 'w2', 'b2'], ['logits'], [float('alpha', 0.5), float('beta', 2)])],
    initializers: [uniform(rng, 'w1', [16, 192], -0.3, 0.3), weights(rng, 'b1', [16], 1), weights(rng, 'w2', [16, 4]), weights(rng, 'b2', [4], 1), ...extra],
    input: NCHW_IN,
    output: 'logits',
    opset,
  });
  await check('LeakyRelu', chain(13, [node('LeakyRelu', ['h'], ['a'], [float('alpha', 0.2)])], 'a'));
  await check('Clip ReLU6', chain(13, [node('Clip', ['h', 'lo', 'hi'], ['a'])], 'a', [f32('lo', [], [0]), f32('hi', [], [6])]));
  await check('Clip opset 9', chain(9, [node('Clip', ['h'], ['a'], [float('min', -1), float('max', 1)])], 'a'));
  await check('Sigmoid, Tanh', chain(13, [node('Sigmoid', ['h'], ['a']), node('Tanh', ['a'], ['t'])], 't'));
});

test("layouts: an NHWC input transposed to NCHW, PyTorch's Shape→Gather→Concat→Reshape flatten, flat inputs, MatMul+Add", async () => {
  const rng = new Rng(8);
  // Keras-style: NHWC input, Transpose to NCHW, conv, then a Reshape whose shape is computed from the tensor.
  const nhwc: ModelSpec = {
    nodes: [
      node('Transpose', ['x'], ['t'], [ints('perm', [0, 3, 1, 2])]),
      node('Conv', ['t', 'w', 'b'], ['c'], [ints('pads', [1, 1, 1, 1])]),
      node('Shape', ['c'], ['shape']),
      node('Gather', ['shape', 'zero'], ['batch'], [int('axis', 0)]),
      node('Unsqueeze', ['batch', 'axes0'], ['batch1']),
      node('Concat', ['batch1', 'minus1'], ['target'], [int('axis', 0)]),
      node('Reshape', ['c', 'target'], ['f']),
      node('Gemm', ['f', 'w2', 'b2'], ['logits'], [int('transB', 1)]),
    ],
    initializers: [weights(rng, 'w', [4, 3, 3, 3]), weights(rng, 'b', [4], 1), { ...i64('zero', [0]), dims: [] }, i64('axes0', [0]), i64('minus1', [-1]), weights(rng, 'w2', [4, 256]), weights(rng, 'b2', [4], 1)],
    input: ['N', 8, 8, 3],
    output: 'logits',
  };
  await check('NHWC input', nhwc, { kinds: ['conv2d', 'flatten', 'dense'], className: 'Sequential' });
  // A Transpose back to NHWC before the flatten gives the hwc order.
  const hwcFlatten: ModelSpec = {
    nodes: [node('Conv', ['x', 'w', 'b'], ['c'], []), node('Transpose', ['c'], ['t'], [ints('perm', [0, 2, 3, 1])]), node('Reshape', ['t', 'shape'], ['f']), node('MatMul', ['f', 'w2'], ['m']), node('Add', ['m', 'b2'], ['logits'])],
    initializers: [weights(rng, 'w', [4, 3, 3, 3]), weights(rng, 'b', [4], 1), i64('shape', [1, -1]), weights(rng, 'w2', [144, 4], 144), weights(rng, 'b2', [4], 1)],
    input: NCHW_IN,
    output: 'logits',
  };
  await check('Transpose to NHWC, Reshape, MatMul+Add', hwcFlatten, { kinds: ['conv2d', 'flatten', 'dense'] });
  // Flat inputs: NHWC order feeding a Gemm, and CHW order reshaped back to an image for a conv.
  const flatGemm: ModelSpec = { nodes: [node('Gemm', ['x', 'w', 'b'], ['logits'], [int('transB', 1)])], initializers: [weights(rng, 'w', [4, 192]), weights(rng, 'b', [4], 1)], input: [1, 192], output: 'logits' };
  await check('flat-nhwc', flatGemm, { layout: 'flat-nhwc', kinds: ['flatten', 'dense'] });
  await check('flat-nchw', flatGemm, { layout: 'flat-nchw', kinds: ['flatten', 'dense'] });
  const unflatten: ModelSpec = withHead(rng, { nodes: [node('Reshape', ['x', 'shape'], ['img']), node('Conv', ['img', 'w', 'b'], ['c'], [])], initializers: [i64('shape', [1, 3, 8, 8]), weights(rng, 'w', [2, 3, 3, 3]), weights(rng, 'b', [2], 1)] }, 'c', 72, { input: [1, 192] });
  await check('flat-nchw reshaped to an image', unflatten, { layout: 'flat-nchw', kinds: ['conv2d', 'flatten', 'dense'] });
  // A chw flatten read by something other than a dense: Permute then Flatten.
  const permuted: ModelSpec = {
    nodes: [node('Conv', ['x', 'w', 'b'], ['c'], []), node('Flatten', ['c'], ['f']), node('Tanh', ['f'], ['t']), node('Gemm', ['t', 'w2', 'b2'], ['logits'], [int('transB', 1)])],
    initializers: [weights(rng, 'w', [4, 3, 3, 3]), weights(rng, 'b', [4], 1), weights(rng, 'w2', [4, 144]), weights(rng, 'b2', [4], 1)],
    input: NCHW_IN,
    output: 'logits',
  };
  await check('chw flatten before an activation', permuted, { kinds: ['conv2d', 'flatten', 'activation', 'dense'] });
  // Squeeze and Unsqueeze around a global pool; Identity and Dropout pass through.
  const squeeze: ModelSpec = {
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], []),
      node('GlobalAveragePool', ['c'], ['g']),
      node('Squeeze', ['g', 'axes23'], ['s']),
      node('Identity', ['s'], ['i']),
      node('Dropout', ['i'], ['d']),
      node('Unsqueeze', ['d', 'axes2'], ['u']),
      node('Flatten', ['u'], ['f']),
      node('Gemm', ['f', 'w2', 'b2'], ['logits'], [int('transB', 1)]),
    ],
    initializers: [weights(rng, 'w', [6, 3, 3, 3]), weights(rng, 'b', [6], 1), i64('axes23', [2, 3]), i64('axes2', [2]), weights(rng, 'w2', [4, 6]), weights(rng, 'b2', [4], 1)],
    input: NCHW_IN,
    output: 'logits',
  };
  await check('Squeeze/Unsqueeze/Identity/Dropout', squeeze, { kinds: ['conv2d', 'globalAvgPool', 'dense'] });
});

test('a final Softmax is stripped and recorded; the logits match the network without it', async () => {
  const rng = new Rng(9);
  const body: ModelSpec = { nodes: [node('Flatten', ['x'], ['f']), node('Gemm', ['f', 'w', 'b'], ['logits'], [int('transB', 1)])], initializers: [weights(rng, 'w', [4, 192]), weights(rng, 'b', [4], 1)], input: NCHW_IN, output: 'logits' };
  const withSoftmax: ModelSpec = { ...body, nodes: [...body.nodes, node('Softmax', ['logits'], ['probs'], [int('axis', -1)])], output: 'probs' };
  const { imported, model, maxDiff } = await compareWithOrt(withSoftmax, IMG, 4, { reference: body });
  model.dispose();
  assert.ok(maxDiff < TOL, `max |Δ| ${maxDiff}`);
  assert.equal(imported.details['strippedOutput'], 'Softmax');
});
