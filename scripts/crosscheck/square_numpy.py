#!/usr/bin/env python3
"""Independent cross-check of qrobust's Square attack (L-inf), written from the paper alone.

Andriushchenko, Croce, Flammarion & Hein 2020, "Square Attack: a query-efficient black-box adversarial attack via
random search", arXiv 1912.00049: vertical-stripe start, one random square window per iteration set to x +/- eps
per channel, kept when the margin loss decreases, square side from p_init halved on the paper's schedule.

It re-implements the forward pass of a full-precision qrobust model (a Sequential of QrobustNormalize, Conv2D,
MaxPooling2D, Flatten and Dense layers, read from model.json and weights.bin) in numpy float64, takes the test
images that a `qrobust attack ... --save-examples FILE` run attacked (their positions in the MNIST test files),
and reports robust accuracy at one eps. It needs only numpy.

    python3 scripts/crosscheck/square_numpy.py MODEL_DIR EXAMPLES.json MNIST_DIR --eps 0.1 --queries 5000 \
        [--p-init 0.8] [--seed 0]

It also classifies qrobust's own adversarial examples at that eps with the numpy forward pass and prints how many
agree with qrobust's predictions, a check of the forward pass itself.
"""
import argparse
import base64
import gzip
import json
import time

import numpy as np


def load_model(model_dir):
    spec = json.load(open(f'{model_dir}/model.json'))
    raw = np.fromfile(f'{model_dir}/weights.bin', dtype='<f4')
    weights, offset = {}, 0
    for group in spec['weightsManifest']:
        for w in group['weights']:
            size = int(np.prod(w['shape']))
            weights[w['name']] = raw[offset:offset + size].reshape(w['shape']).astype(np.float64)
            offset += size
    layers = spec['modelTopology']['config']['layers']
    return layers, weights


def conv2d(x, kernel, bias, padding):
    kh, kw, cin, cout = kernel.shape
    if padding == 'same':
        x = np.pad(x, ((0, 0), (kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2), (0, 0)))
    n, h, w, _ = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    cols = np.concatenate([x[:, i:i + oh, j:j + ow, :] for i in range(kh) for j in range(kw)], axis=3)
    return cols @ kernel.reshape(kh * kw * cin, cout) + bias


def forward(layers, weights, x):
    h = x
    for layer in layers:
        kind, cfg = layer['class_name'], layer['config']
        if kind == 'QrobustNormalize':
            h = (h - np.array(cfg['mean'])) / np.array(cfg['std'])
        elif kind == 'Conv2D':
            assert cfg['strides'] == [1, 1] and cfg['dilation_rate'] == [1, 1], 'only stride 1, no dilation'
            h = conv2d(h, weights[cfg['name'] + '/kernel'], weights[cfg['name'] + '/bias'], cfg['padding'])
        elif kind == 'MaxPooling2D':
            assert cfg['pool_size'] == cfg['strides'] and cfg['padding'] == 'valid', 'only non-overlapping valid pooling'
            ph, pw = cfg['pool_size']
            n, hh, ww, c = h.shape
            h = h[:, :hh // ph * ph, :ww // pw * pw, :].reshape(n, hh // ph, ph, ww // pw, pw, c).max(axis=(2, 4))
        elif kind == 'Flatten':
            h = h.reshape(h.shape[0], -1)
        elif kind == 'Dense':
            h = h @ weights[cfg['name'] + '/kernel'] + weights[cfg['name'] + '/bias']
        else:
            raise SystemExit(f'unsupported layer {kind}')
        activation = cfg.get('activation', 'linear')
        if activation == 'relu':
            h = np.maximum(h, 0)
        elif activation not in ('linear', None):
            raise SystemExit(f'unsupported activation {activation}')
    return h


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def square_fraction(p_init, iteration, budget):
    scaled = int(iteration / budget * 10000)
    halvings = sum(1 for point in (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000) if scaled > point)
    return p_init / 2 ** halvings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model_dir')
    ap.add_argument('examples')
    ap.add_argument('mnist_dir')
    ap.add_argument('--eps', type=float, required=True)
    ap.add_argument('--queries', type=int, default=5000)
    ap.add_argument('--p-init', type=float, default=0.8)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    layers, weights = load_model(a.model_dir)
    ex = json.load(open(a.examples))
    idx = np.array(ex['sourceIndices'])
    images = read_idx(f'{a.mnist_dir}/t10k-images-idx3-ubyte.gz')[idx].astype(np.float64)[..., None] / 255
    labels = read_idx(f'{a.mnist_dir}/t10k-labels-idx1-ubyte.gz')[idx].astype(np.int64)
    assert list(labels) == list(ex['labels']), 'the examples file does not match the MNIST test files'
    rows = np.arange(len(labels))

    def margin(x, y):
        z = forward(layers, weights, x)
        own = z[np.arange(len(y)), y].copy()
        z[np.arange(len(y)), y] = -np.inf
        return own - z.max(axis=1)

    for stored in ex['results']:
        if abs(stored['eps'] - a.eps) < 1e-12:
            raw = base64.b64decode(stored['data'])
            adv = (np.frombuffer(raw, dtype=np.uint8) / 255.0 if stored['encoding'] == 'uint8-255' else np.frombuffer(raw, dtype='<f4')).reshape(images.shape)
            pred = forward(layers, weights, adv.astype(np.float64)).argmax(axis=1)
            print(f"qrobust's examples at eps {a.eps}: numpy forward agrees with {int((pred == np.array(stored['predictions'])).sum())} of {len(pred)} predictions")
    rng = np.random.default_rng(a.seed)
    clean = margin(images, labels) > 0
    n, h, w, c = images.shape
    best = np.clip(images + a.eps * rng.choice([-1.0, 1.0], size=(n, 1, w, c)), 0, 1)
    best_margin = margin(best, labels)
    t0 = time.time()
    for it in range(a.queries - 2):  # the clean check and the start are the first two queries
        active = rows[(best_margin > 0) & clean]
        if len(active) == 0:
            break
        s = min(max(int(round(np.sqrt(square_fraction(a.p_init, it, a.queries) * h * w))), 1), h - 1)
        proposal = best[active].copy()
        for j, i in enumerate(active):
            while True:
                r, col = rng.integers(0, h - s + 1), rng.integers(0, w - s + 1)
                window = np.clip(images[i, r:r + s, col:col + s, :] + a.eps * rng.choice([-1.0, 1.0], size=(1, 1, c)), 0, 1)
                if np.abs(window - best[i, r:r + s, col:col + s, :]).sum() > 1e-7:
                    break
            proposal[j, r:r + s, col:col + s, :] = window
        m = margin(proposal, labels[active])
        better = m < best_margin[active]
        best[active[better]] = proposal[better]
        best_margin[active[better]] = m[better]
    robust = ((best_margin > 0) & clean).mean()
    print(f'clean accuracy {clean.mean():.4f}; Square eps {a.eps}, {a.queries} queries, p_init {a.p_init}, seed {a.seed}: '
          f'robust accuracy {robust:.4f} ({time.time() - t0:.0f} s)')


if __name__ == '__main__':
    main()
