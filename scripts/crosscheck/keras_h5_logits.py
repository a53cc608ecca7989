#!/usr/bin/env python3
"""Reference logits of a Keras HDF5 file, computed with h5py and NumPy only (no Keras, no TensorFlow).

Independent of qrobust's TypeScript importer: it reads the file with h5py (libhdf5) and evaluates the network
in the model's own data format (channels-first models are computed in NCHW with their stored kernels), written
from Keras's documented layer semantics. The result is a JSON fixture for test/import/keras*.test.ts.

Images come straight from the dataset files (CIFAR-10 binary records, MNIST IDX), scaled to [0, 1] (p / 255)
and fed as the declared layout says.

Usage:
  python3 scripts/crosscheck/keras_h5_logits.py MODEL.h5 --dataset cifar10 --n 20 \
      [--arch dense:256,256,10] [--layout flat-nchw] --out test/fixtures/NAME.json
Needs: python3-h5py, python3-numpy (Debian). Not part of the product or of `npm test`.
"""
import argparse
import gzip
import hashlib
import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DATA = os.path.join(os.path.dirname(CHECKOUT), 'shared', 'datasets')


# ---------------------------------------------------------------------------------------------- images

def cifar_test(data_dir, n):
    """First n CIFAR-10 test records: (uint8 images [n, 3, 32, 32] channels-first as stored, labels)."""
    for name in ('test_batch.bin', 'test_batch.bin.gz', 'test_batch_first1000.bin', 'test_batch_first1000.bin.gz'):
        path = os.path.join(data_dir, 'cifar10', name)
        if os.path.exists(path):
            raw = (gzip.open if name.endswith('.gz') else open)(path, 'rb').read()
            rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)[:n]
            return rec[:, 1:].reshape(-1, 3, 32, 32), rec[:, 0].astype(int)
    sys.exit('no CIFAR-10 test batch under ' + data_dir)


def mnist_test(data_dir, n):
    """First n MNIST test images as [n, 1, 28, 28] uint8 (one channel), labels."""
    img = gzip.open(os.path.join(data_dir, 'mnist', 't10k-images-idx3-ubyte.gz'), 'rb').read()
    lab = gzip.open(os.path.join(data_dir, 'mnist', 't10k-labels-idx1-ubyte.gz'), 'rb').read()
    x = np.frombuffer(img, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]
    y = np.frombuffer(lab, dtype=np.uint8, offset=8)[:n].astype(int)
    return x, y


def network_input(chw, layout):
    """The batch as the network's owner fed it: chw is [n, C, H, W] in [0, 1]."""
    if layout == 'nchw':
        return chw
    if layout == 'nhwc':
        return chw.transpose(0, 2, 3, 1)
    if layout == 'flat-nchw':
        return chw.reshape(chw.shape[0], -1)
    if layout == 'flat-nhwc':
        return chw.transpose(0, 2, 3, 1).reshape(chw.shape[0], -1)
    sys.exit('unknown layout ' + layout)


# ------------------------------------------------------------------------------------------ weights

def text(v):
    return v.decode('utf8') if isinstance(v, bytes) else str(v)


def layer_weights(group):
    """{layer name: [arrays in weight_names order]} and the layer order."""
    names = [text(n) for n in group.attrs['layer_names']]
    out = {}
    for name in names:
        g = group[name]
        out[name] = [np.array(g[text(w)], dtype=np.float64) for w in g.attrs.get('weight_names', [])]
    return names, out


# ---------------------------------------------------------------------------- layer semantics (NumPy)

def tf_pads(size, k, s, d, padding):
    """(before, after) padding of TensorFlow's 'same' / 'valid' rules along one axis."""
    if padding == 'valid':
        return 0, 0
    span = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + span - size, 0)
    return total // 2, total - total // 2


def conv_nchw(x, w_oihw, bias, strides, dilations, padding, groups):
    """Cross-correlation of x [n, C, H, W] with w [O, C/groups, kh, kw]."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w_oihw.shape
    (sh, sw), (dh, dw) = strides, dilations
    pt, pb = tf_pads(h, kh, sh, dh, padding)
    pl, pr = tf_pads(wd, kw, sw, dw, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (wd + pl + pr - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for oc in range(o):
        g = oc // per_group
        xs = xp[:, g * cg:(g + 1) * cg]
        for ky in range(kh):
            for kx in range(kw):
                patch = xs[:, :, ky * dh: ky * dh + (oh - 1) * sh + 1: sh, kx * dw: kx * dw + (ow - 1) * sw + 1: sw]
                out[:, oc] += np.einsum('nchw,c->nhw', patch, w_oihw[oc, :, ky, kx])
    return out + bias.reshape(1, -1, 1, 1)


def pool_nchw(x, size, strides, padding, kind):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw) = size, strides
    pt, pb = tf_pads(h, kh, sh, 1, padding)
    pl, pr = tf_pads(w, kw, sw, 1, padding)
    oh = (h + pt + pb - kh) // sh + 1
    ow = (w + pl + pr - kw) // sw + 1
    out = np.zeros((n, c, oh, ow))
    for y in range(oh):
        for xx in range(ow):
            y0, x0 = y * sh - pt, xx * sw - pl
            win = x[:, :, max(y0, 0):min(y0 + kh, h), max(x0, 0):min(x0 + kw, w)]  # pads never count
            out[:, :, y, xx] = win.max(axis=(2, 3)) if kind == 'max' else win.mean(axis=(2, 3))
    return out


def activation(x, name):
    if name in (None, 'linear'):
        return x
    if name == 'relu':
        return np.maximum(x, 0)
    if name == 'sigmoid':
        return 1 / (1 + np.exp(-x))
    if name == 'tanh':
        return np.tanh(x)
    raise SystemExit('activation not in the reference: ' + str(name))


def pair(v, default=None):
    v = default if v is None else v
    return (v, v) if isinstance(v, int) else tuple(v)


class Model:
    """Evaluates a Keras model config in its own data format."""

    def __init__(self, cfg, weights, keras1, theano):
        self.weights, self.keras1, self.theano = weights, keras1, theano
        self.cls = cfg['class_name']
        c = cfg['config']
        layers = c if isinstance(c, list) else c['layers']
        self.layers = layers
        if self.cls == 'Sequential':
            self.output = layers[-1]['config']['name']
        else:
            self.output = c['output_layers'][0][0]
        self.channels_first = any(
            l['config'].get('data_format', l['config'].get('dim_ordering')) in ('channels_first', 'th')
            for l in layers if not (l['class_name'] == 'Flatten' and not keras1))

    def cfmt(self):
        return self.channels_first

    def to_nchw(self, x):
        return x if self.channels_first else x.transpose(0, 3, 1, 2)

    def from_nchw(self, x):
        return x if self.channels_first else x.transpose(0, 2, 3, 1)

    def kernel_oihw(self, w):
        if self.keras1 and self.channels_first:
            k = w  # Keras 1 th: [out, in, kh, kw]
        else:
            k = w.transpose(3, 2, 0, 1)  # [kh, kw, in, out]
        return k[:, :, ::-1, ::-1] if self.theano else k

    def channel_axis(self, x, axis):
        axis = axis[0] if isinstance(axis, list) else axis
        return axis % x.ndim

    def run_layer(self, layer, xs, is_output):
        cls, c, name = layer['class_name'], layer['config'], layer['config']['name']
        W = self.weights.get(name, [])
        x = xs[0]
        act = c.get('activation')
        if act == 'softmax' and is_output:
            act = 'linear'
        if cls == 'Dense':
            use_bias = c.get('use_bias', c.get('bias', True))
            y = x @ W[0] + (W[1] if use_bias else 0)
            return activation(y, act)
        if cls in ('Conv2D', 'Convolution2D'):
            k = self.kernel_oihw(W[0])
            ks = pair(c.get('kernel_size')) if 'kernel_size' in c else (c['nb_row'], c['nb_col'])
            assert k.shape[2:] == ks
            use_bias = c.get('use_bias', c.get('bias', True))
            b = W[1] if use_bias else np.zeros(k.shape[0])
            y = conv_nchw(self.to_nchw(x), k, b, pair(c.get('strides', c.get('subsample')), 1),
                          pair(c.get('dilation_rate'), 1), c.get('padding', c.get('border_mode')), c.get('groups', 1))
            return activation(self.from_nchw(y), act)
        if cls == 'DepthwiseConv2D':
            dk = W[0]  # [kh, kw, C, M]; output channel c*M + m
            kh, kw, ch, m = dk.shape
            k = dk.reshape(kh, kw, ch * m).transpose(2, 0, 1)[:, None]
            if self.theano:
                k = k[:, :, ::-1, ::-1]
            b = W[1] if c.get('use_bias', True) else np.zeros(ch * m)
            y = conv_nchw(self.to_nchw(x), k, b, pair(c.get('strides'), 1), pair(c.get('dilation_rate'), 1), c['padding'], ch)
            return activation(self.from_nchw(y), act)
        if cls in ('MaxPooling2D', 'AveragePooling2D'):
            size = pair(c.get('pool_size'), 2)
            y = pool_nchw(self.to_nchw(x), size, pair(c.get('strides'), size) if c.get('strides') else size,
                          c.get('padding', c.get('border_mode', 'valid')), 'max' if cls.startswith('Max') else 'avg')
            return self.from_nchw(y)
        if cls == 'GlobalAveragePooling2D':
            return self.to_nchw(x).mean(axis=(2, 3))
        if cls == 'Flatten':
            if not self.keras1 and c.get('data_format') == 'channels_first' and x.ndim == 4:
                x = x.transpose(0, 2, 3, 1)
            return x.reshape(x.shape[0], -1)
        if cls in ('Dropout', 'SpatialDropout2D'):
            return x
        if cls == 'Activation':
            return activation(x, 'linear' if c['activation'] == 'softmax' and is_output else c['activation'])
        if cls == 'ReLU':
            y = np.where(x >= 0, x, x * c.get('negative_slope', 0.0))
            return y if c.get('max_value') is None else np.minimum(y, c['max_value'])
        if cls == 'LeakyReLU':
            return np.where(x >= 0, x, x * c.get('alpha', 0.3))
        if cls == 'BatchNormalization':
            axis = self.channel_axis(x, c.get('axis', -1))
            i = 0
            gamma = W[i] if c.get('scale', True) else 1.0
            i += 1 if c.get('scale', True) else 0
            beta = W[i] if c.get('center', True) else 0.0
            i += 1 if c.get('center', True) else 0
            mean, var = W[i], W[i + 1]
            shape = [1] * x.ndim
            shape[axis] = -1
            r = lambda v: np.reshape(v, shape) if isinstance(v, np.ndarray) else v
            return r(gamma) * (x - r(mean)) / np.sqrt(r(var) + c.get('epsilon', 1e-3)) + r(beta)
        if cls == 'ZeroPadding2D':
            p = c['padding']
            if isinstance(p, int):
                t, b_, l, r_ = p, p, p, p
            elif isinstance(p, dict):
                t, b_, l, r_ = p.get('top_pad', 0), p.get('bottom_pad', 0), p.get('left_pad', 0), p.get('right_pad', 0)
            elif len(p) == 4:
                t, b_, l, r_ = p
            elif isinstance(p[0], list):
                (t, b_), (l, r_) = p
            else:
                t, b_, l, r_ = p[0], p[0], p[1], p[1]
            return self.from_nchw(np.pad(self.to_nchw(x), ((0, 0), (0, 0), (t, b_), (l, r_))))
        if cls == 'Add' or (cls == 'Merge' and c.get('mode', 'sum') == 'sum'):
            return sum(xs)
        if cls == 'Concatenate' or (cls == 'Merge' and c.get('mode') == 'concat'):
            return np.concatenate(xs, axis=c.get('axis', c.get('concat_axis', -1)))
        raise SystemExit('layer class not in the reference: ' + cls)

    def __call__(self, x):
        values = {}
        prev = x
        for i, layer in enumerate(self.layers):
            name = layer['config']['name']
            if layer['class_name'] == 'InputLayer':
                values[name] = x
                prev = x
                continue
            if self.cls == 'Sequential':
                xs = [prev]
            else:
                xs = [values[t[0]] for t in layer['inbound_nodes'][0]]
            prev = self.run_layer(layer, xs, name == self.output)
            values[name] = prev
        return values[self.output]


def weights_only_logits(x, arch, order, weights):
    """`--arch dense:N,...`: the layers that hold weights, in the file's order; ReLU between, none after."""
    units = [int(u) for u in arch.split(':', 1)[1].split(',')]
    layers = [weights[n] for n in order if weights[n]]
    assert len(layers) == len(units), (len(layers), units)
    h = x.reshape(x.shape[0], -1)
    for i, (w, u) in enumerate(zip(layers, units)):
        kernel = next(a for a in w if a.ndim == 2)
        bias = next(a for a in w if a.ndim == 1)
        assert kernel.shape == (h.shape[1], u), (kernel.shape, u)
        h = h @ kernel + bias
        if i < len(units) - 1:
            h = np.maximum(h, 0)
    return h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model')
    ap.add_argument('--dataset', required=True, choices=['cifar10', 'mnist'])
    ap.add_argument('--n', type=int, default=20)
    ap.add_argument('--arch')
    ap.add_argument('--layout')
    ap.add_argument('--data-dir', default=DEFAULT_DATA)
    ap.add_argument('--out')
    a = ap.parse_args()
    chw, labels = (cifar_test if a.dataset == 'cifar10' else mnist_test)(a.data_dir, a.n)
    pixels = chw.astype(np.float64) / 255.0
    with h5py.File(a.model, 'r') as f:
        version = text(f.attrs.get('keras_version', b'1'))
        backend = text(f.attrs.get('backend', b''))
        if 'model_config' in f.attrs:
            cfg = json.loads(text(f.attrs['model_config']))
            order, weights = layer_weights(f['model_weights'])
            model = Model(cfg, weights, version.startswith('1'), backend == 'theano')
            layers = cfg['config'] if isinstance(cfg['config'], list) else cfg['config']['layers']
            shape = layers[0]['config']['batch_input_shape'][1:]
            layout = a.layout or ('nchw' if model.channels_first and len(shape) == 3 else 'nhwc' if len(shape) == 3 else 'flat-nhwc')
            logits = model(network_input(pixels, layout))
        else:
            order, weights = layer_weights(f)
            layout = a.layout or 'flat-nhwc'
            logits = weights_only_logits(network_input(pixels, layout), a.arch, order, weights)
    rel = lambda p: os.path.relpath(os.path.abspath(p), CHECKOUT)
    cmd = ['python3', rel(__file__), rel(a.model), '--dataset', a.dataset, '--n', str(a.n)]
    cmd += (['--arch', a.arch] if a.arch else []) + (['--layout', a.layout] if a.layout else [])
    cmd += ['--out', rel(a.out)] if a.out else []
    result = {
        'script': rel(__file__),
        'command': ' '.join(cmd),
        'model': os.path.basename(a.model),
        'modelSha256': hashlib.sha256(open(a.model, 'rb').read()).hexdigest(),
        'dataset': a.dataset,
        'split': 'test',
        'indices': list(range(a.n)),
        'pixelScale': '1/255',
        'layout': layout,
        'arch': a.arch,
        'labels': labels.tolist(),
        'logits': [[float('%.7g' % v) for v in row] for row in logits],
    }
    text_out = json.dumps(result, indent=1) + '\n'
    if a.out:
        open(a.out, 'w').write(text_out)
    else:
        sys.stdout.write(text_out)


if __name__ == '__main__':
    main()
