#!/usr/bin/env python3
"""Writes the fixtures of test/data/given-*.test.ts with independent encoders (PIL, NumPy).

Run from the checkout (needs Debian's python3-numpy and python3-pil, and the MNIST test files in
../shared/datasets/mnist/):

    /usr/bin/python3 scripts/make-data-fixtures.py

Everything goes under test/fixtures/data/; each expected-values file holds what this script encoded (PNG, npz)
or PIL's own decode of what it wrote (JPEG), never what qrobust reads.
"""
import gzip
import hashlib
import json
import os
import shutil

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'data')
MIRROR = os.path.join(ROOT, '..', 'shared', 'datasets', 'mnist')
rng = np.random.default_rng(20261203)


def fresh(path):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)


def smooth(h, w, c):
    """A gradient plus mild noise: content JPEG codecs treat alike up to rounding."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(yy * 23 + xx * 11 + 40 * k) % 200 + 20 for k in range(c)], axis=-1)
    return np.clip(base + rng.integers(-8, 9, size=(h, w, c)), 0, 255).astype(np.uint8)


# --- single images: one file per colour type, with the values to expect ------------------------------------
def write_decode():
    d = os.path.join(OUT, 'decode')
    fresh(d)
    h, w = 5, 7
    expected = {}
    gray = rng.integers(0, 256, size=(h, w), dtype=np.uint8)
    rgb = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, size=(h, w), dtype=np.uint8)
    Image.fromarray(gray, 'L').save(os.path.join(d, 'gray.png'))
    expected['gray.png'] = {'channels': 1, 'pixels': gray.ravel().tolist()}
    Image.fromarray(rgb, 'RGB').save(os.path.join(d, 'rgb.png'))
    expected['rgb.png'] = {'channels': 3, 'pixels': rgb.ravel().tolist()}
    Image.fromarray(np.dstack([rgb, alpha]), 'RGBA').save(os.path.join(d, 'rgba.png'))
    expected['rgba.png'] = {'channels': 3, 'pixels': rgb.ravel().tolist()}
    Image.fromarray(np.dstack([gray, alpha]), 'LA').save(os.path.join(d, 'gray-alpha.png'))
    expected['gray-alpha.png'] = {'channels': 1, 'pixels': gray.ravel().tolist()}
    pal = Image.fromarray(rgb, 'RGB').quantize(colors=16)
    pal.save(os.path.join(d, 'palette.png'))
    expected['palette.png'] = {'channels': 3, 'pixels': np.asarray(pal.convert('RGB')).ravel().tolist()}
    # 16 gray levels at 4 bits: PIL stores mode L values 0, 17, ..., 255 as a 4-bit PNG when bits=4.
    levels = (rng.integers(0, 16, size=(h, w)) * 17).astype(np.uint8)
    Image.fromarray(levels, 'L').save(os.path.join(d, 'gray-4bit.png'), bits=4)
    expected['gray-4bit.png'] = {'channels': 1, 'pixels': levels.ravel().tolist()}

    # JPEG: the expected values are PIL's decode of the file just written.
    big_h, big_w = 16, 24
    for name, mode, kwargs in [
        ('gray.jpg', 'L', {'quality': 90}),
        ('rgb-444.jpg', 'RGB', {'quality': 90, 'subsampling': 0}),
        ('rgb-420.jpeg', 'RGB', {'quality': 90, 'subsampling': 2}),
    ]:
        src = smooth(big_h, big_w, 1 if mode == 'L' else 3)
        img = Image.fromarray(src[:, :, 0] if mode == 'L' else src, mode)
        path = os.path.join(d, name)
        img.save(path, **kwargs)
        back = np.asarray(Image.open(path).convert(mode))
        expected[name] = {'channels': 1 if mode == 'L' else 3, 'pixels': back.ravel().tolist(), 'jpeg': True}
    for k, v in expected.items():
        im = Image.open(os.path.join(d, k))
        v['width'], v['height'] = im.size
    with open(os.path.join(OUT, 'decode.json'), 'w') as f:
        json.dump(expected, f)


def manifest_sha256(root, rels):
    lines = ''.join(f"{hashlib.sha256(open(os.path.join(root, r), 'rb').read()).hexdigest()}  {r}\n" for r in rels)
    return hashlib.sha256(lines.encode()).hexdigest()


# --- a folder of class folders: mixed gray and colour PNGs, classes.txt in a non-sorted order --------------
def write_mixed():
    d = os.path.join(OUT, 'mixed')
    fresh(d)
    classes = ['zebra', 'apple']
    with open(os.path.join(d, 'classes.txt'), 'w') as f:
        f.write('zebra\napple\n')
    h, w = 4, 6
    rels, pixels, labels = [], [], []
    plan = {'zebra': ['b.png', 'a.png'], 'apple': ['c.png']}
    for label, cls in enumerate(classes):
        os.makedirs(os.path.join(d, cls))
        for i, name in enumerate(sorted(plan[cls])):
            gray = (label + i) % 2 == 0
            arr = rng.integers(0, 256, size=(h, w) if gray else (h, w, 3), dtype=np.uint8)
            img = Image.fromarray(arr, 'L' if gray else 'RGB')
            img.save(os.path.join(d, cls, name))
            rels.append(f'{cls}/{name}')
            pixels.extend(np.asarray(img.convert('RGB')).ravel().tolist())
            labels.append(label)
    with open(os.path.join(OUT, 'mixed.json'), 'w') as f:
        json.dump({'classNames': classes, 'shape': [h, w, 3], 'labels': labels, 'pixels': pixels,
                   'rels': rels, 'manifestSha256': manifest_sha256(d, rels),
                   'classesSha256': hashlib.sha256(open(os.path.join(d, 'classes.txt'), 'rb').read()).hexdigest()}, f)


# --- a real slice: 3 MNIST test images per class as PIL-written PNGs ----------------------------------------
def write_mnist():
    d = os.path.join(OUT, 'mnist-30')
    fresh(d)
    with gzip.open(os.path.join(MIRROR, 't10k-images-idx3-ubyte.gz')) as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(MIRROR, 't10k-labels-idx1-ubyte.gz')) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    rels = []
    for digit in range(10):
        os.makedirs(os.path.join(d, str(digit)))
        for idx in np.nonzero(labels == digit)[0][:3]:
            rel = f'{digit}/{idx:05d}.png'
            Image.fromarray(images[idx], 'L').save(os.path.join(d, rel))
            rels.append(rel)
    with open(os.path.join(OUT, 'mnist-30.json'), 'w') as f:
        json.dump({'rels': rels, 'manifestSha256': manifest_sha256(d, rels)}, f)


# --- NumPy arrays -------------------------------------------------------------------------------------------
def write_npz():
    d = os.path.join(OUT, 'npz')
    fresh(d)
    expected = {}

    def expect(name, x_nhwc_u8, y, class_names, split=None):
        key = name if split is None else f'{name}#{split}'
        unit = x_nhwc_u8.astype(np.float64) / 255
        expected[key] = {'shape': list(x_nhwc_u8.shape[1:]), 'pixels': x_nhwc_u8.ravel().tolist(),
                         'mean': unit.mean(axis=(0, 1, 2)).tolist(), 'std': unit.std(axis=(0, 1, 2)).tolist(),
                         'labels': [int(v) for v in y], 'classNames': class_names,
                         'sha256': hashlib.sha256(open(os.path.join(d, name), 'rb').read()).hexdigest()}

    # uint8 NHWC, int64 labels, class names (stored, np.savez)
    x = rng.integers(0, 256, size=(6, 4, 5, 3), dtype=np.uint8)
    y = np.array([0, 2, 1, 1, 0, 2], dtype=np.int64)
    np.savez(os.path.join(d, 'u8-nhwc.npz'), x=x, y=y, classes=np.array(['red', 'green', 'blue']))
    expect('u8-nhwc.npz', x, y, ['red', 'green', 'blue'])

    # float32 NCHW on 8-bit levels, uint8 labels (deflated, np.savez_compressed)
    levels = rng.integers(0, 256, size=(5, 3, 4, 6))
    xf = (levels / 255).astype(np.float32)
    y = np.array([1, 0, 3, 1, 2], dtype=np.uint8)
    np.savez_compressed(os.path.join(d, 'f32-nchw.npz'), x=xf, y=y)
    expect('f32-nchw.npz', np.round(np.transpose(xf, (0, 2, 3, 1)).astype(np.float64) * 255).astype(np.uint8), y, ['0', '1', '2', '3'])

    # grayscale [N,H,W] uint8, big-endian int32 labels, float64 NHWC variant
    xg = rng.integers(0, 256, size=(4, 7, 6), dtype=np.uint8)
    y = np.array([1, 1, 0, 1], dtype='>i4')
    np.savez(os.path.join(d, 'gray-nhw.npz'), x=xg, y=y)
    expect('gray-nhw.npz', xg[..., None], y, ['0', '1'])
    xd = rng.integers(0, 256, size=(3, 5, 4, 1)) / 255.0
    y = np.array([[2], [0], [1]], dtype=np.int16)
    np.savez_compressed(os.path.join(d, 'f64-nhwc1.npz'), x=xd, y=y)
    expect('f64-nhwc1.npz', np.round(xd * 255).astype(np.uint8), y.ravel(), ['0', '1', '2'])

    # Keras style: x_train/y_train/x_test/y_test; the test split lacks the largest label
    xtr = rng.integers(0, 256, size=(5, 8, 8), dtype=np.uint8)
    ytr = np.array([0, 3, 2, 1, 3], dtype=np.uint8)
    xte = rng.integers(0, 256, size=(3, 8, 8), dtype=np.uint8)
    yte = np.array([2, 0, 1], dtype=np.uint8)
    np.savez_compressed(os.path.join(d, 'splits.npz'), x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    expect('splits.npz', xtr[..., None], ytr, ['0', '1', '2', '3'], 'train')
    expect('splits.npz', xte[..., None], yte, ['0', '1', '2', '3'], 'test')

    # bad ones
    xb = rng.integers(0, 256, size=(3, 4, 4), dtype=np.uint8)
    yb = np.array([0, 1, 2], dtype=np.int64)
    np.savez(os.path.join(d, 'no-y.npz'), x=xb)
    np.savez(os.path.join(d, 'no-x.npz'), y=yb)
    np.savez(os.path.join(d, 'label-range.npz'), x=xb, y=np.array([0, 3, 1]), classes=np.array(['a', 'b', 'c']))
    np.savez(os.path.join(d, 'label-negative.npz'), x=xb, y=np.array([0, -1, 1]))
    np.savez(os.path.join(d, 'n-mismatch.npz'), x=xb, y=np.array([0, 1]))
    np.savez(os.path.join(d, 'fortran.npz'), x=np.asfortranarray(rng.integers(0, 256, size=(3, 4, 5), dtype=np.uint8)), y=yb)
    np.savez(os.path.join(d, 'float-range.npz'), x=np.full((3, 4, 4), 1.5, dtype=np.float32), y=yb)
    np.savez(os.path.join(d, 'float-offlevel.npz'), x=np.full((3, 4, 4), 0.3, dtype=np.float32), y=yb)
    np.savez(os.path.join(d, 'ambiguous.npz'), x=np.zeros((3, 3, 4, 3), dtype=np.uint8), y=yb)
    np.savez(os.path.join(d, 'no-channels.npz'), x=np.zeros((3, 5, 4, 2), dtype=np.uint8), y=yb)
    np.savez(os.path.join(d, 'int16-x.npz'), x=np.zeros((3, 4, 4), dtype=np.int16), y=yb)
    np.savez(os.path.join(d, 'complex-y.npz'), x=xb, y=yb.astype(np.complex64))
    np.savez(os.path.join(d, 'float-y.npz'), x=xb, y=yb.astype(np.float32))
    with open(os.path.join(OUT, 'npz.json'), 'w') as f:
        json.dump(expected, f)


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    write_decode()
    write_mixed()
    write_mnist()
    write_npz()
    print('wrote', OUT)
