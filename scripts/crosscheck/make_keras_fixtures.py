#!/usr/bin/env python3
"""Hand-made full-model Keras HDF5 files for the importer's tests, written with h5py (no Keras available here:
Debian has no python3-keras / python3-tensorflow) in the layout Keras documents for `model.save(...h5)`:

- root attributes `keras_version`, (Keras 2) `backend`, and `model_config` (JSON bytes: class_name + config);
- group `model_weights` with attribute `layer_names`; one group per layer with attribute `weight_names`
  (Keras 2: `<layer>/kernel:0`, stored at model_weights/<layer>/<layer>/kernel:0; Keras 1: `<layer>_W`, at
  model_weights/<layer>/<layer>_W).

Weights are seeded random numbers (small networks, a few kB per file). Usage:
  python3 scripts/crosscheck/make_keras_fixtures.py test/fixtures/keras
Then compute reference logits with keras_h5_logits.py (see each fixture JSON's `command`).
"""
import json
import os
import sys

import h5py
import numpy as np

rng = np.random.default_rng(20201203)


def rand(*shape, scale=0.3):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def positive(*shape):
    return (0.5 + rng.random(shape)).astype(np.float32)


def write(path, model_config, weights, keras_version, backend):
    """weights: list of (layer name, [(weight name, array)]) in layer order."""
    with h5py.File(path, 'w') as f:
        f.attrs['keras_version'] = keras_version.encode('utf8')
        if backend:
            f.attrs['backend'] = backend.encode('utf8')
        f.attrs['model_config'] = json.dumps(model_config).encode('utf8')
        mw = f.create_group('model_weights')
        mw.attrs['layer_names'] = [n.encode('utf8') for n, _ in weights]
        if backend:
            mw.attrs['backend'] = backend.encode('utf8')
            mw.attrs['keras_version'] = keras_version.encode('utf8')
        for name, ws in weights:
            g = mw.create_group(name)
            g.attrs['weight_names'] = [w.encode('utf8') for w, _ in ws] if ws else np.array([], dtype=np.float64)
            for wname, arr in ws:
                g.create_dataset(wname, data=arr)


def k2_layer(cls, name, inbound=None, **config):
    layer = {'class_name': cls, 'config': dict(name=name, **config), 'name': name}
    if inbound is not None:
        layer['inbound_nodes'] = [[[n, 0, 0, {}] for n in inbound]] if inbound else []
    return layer


def k2_functional_cnn(path):
    """Keras 2 functional, channels-last, CIFAR-10 input: padding, conv, batch norm, depthwise, ReLU6,
    a residual Add, LeakyReLU, both poolings, a Concatenate, global average pooling, dense + softmax."""
    L, W = [], []

    def add(cls, name, inbound, weights=(), **config):
        L.append(k2_layer(cls, name, inbound, **config))
        W.append((name, [(f'{name}/{w}:0', a) for w, a in weights]))

    L.append(k2_layer('InputLayer', 'input_1', [], batch_input_shape=[None, 32, 32, 3], dtype='float32'))
    W.append(('input_1', []))
    add('ZeroPadding2D', 'pad', ['input_1'], padding=[[1, 0], [2, 0]], data_format='channels_last')
    add('Conv2D', 'conv', ['pad'], [('kernel', rand(3, 3, 3, 4, scale=1.0)), ('bias', rand(4))], filters=4, kernel_size=[3, 3],
        strides=[2, 2], padding='valid', data_format='channels_last', dilation_rate=[1, 1], activation='relu', use_bias=True)
    add('BatchNormalization', 'bn', ['conv'], [('gamma', positive(4)), ('beta', rand(4)), ('moving_mean', rand(4)),
        ('moving_variance', positive(4))], axis=[3], epsilon=0.001, center=True, scale=True)
    add('DepthwiseConv2D', 'dw', ['bn'], [('depthwise_kernel', rand(3, 3, 4, 2, scale=1.0)), ('bias', rand(8))], kernel_size=[3, 3],
        strides=[1, 1], padding='same', depth_multiplier=2, data_format='channels_last', dilation_rate=[1, 1],
        activation='linear', use_bias=True)
    add('ReLU', 'relu6', ['dw'], max_value=6.0, negative_slope=0.0, threshold=0.0)
    add('Conv2D', 'proj', ['bn'], [('kernel', rand(1, 1, 4, 8, scale=1.0))], filters=8, kernel_size=[1, 1], strides=[1, 1],
        padding='same', data_format='channels_last', dilation_rate=[1, 1], activation='linear', use_bias=False)
    add('Add', 'residual', ['relu6', 'proj'])
    add('LeakyReLU', 'leaky', ['residual'], alpha=0.1)
    add('MaxPooling2D', 'maxpool', ['leaky'], pool_size=[2, 2], strides=[2, 2], padding='valid', data_format='channels_last')
    add('AveragePooling2D', 'avgpool', ['leaky'], pool_size=[3, 3], strides=[2, 2], padding='same', data_format='channels_last')
    add('Concatenate', 'concat', ['maxpool', 'avgpool'], axis=-1)
    add('GlobalAveragePooling2D', 'gap', ['concat'], data_format='channels_last')
    add('Dropout', 'drop', ['gap'], rate=0.5)
    add('Dense', 'logits', ['drop'], [('kernel', rand(16, 10, scale=3.0)), ('bias', rand(10))], units=10, activation='softmax', use_bias=True)
    config = {'class_name': 'Model', 'config': {'name': 'fixture', 'layers': L, 'input_layers': [['input_1', 0, 0]],
                                                'output_layers': [['logits', 0, 0]]}}
    write(path, config, W, '2.2.4', 'tensorflow')


def k1_sequential_th(path):
    """Keras 1 Sequential, th dim ordering (channels-first), CIFAR-10 input 3×32×32: Convolution2D with
    [out, in, kh, kw] kernels, pooling, tanh, Flatten in C-H-W order, Dense, BatchNormalization (running_std
    holding the variance, as Keras 1 stored it), softmax as its own last layer."""
    layers = [
        {'class_name': 'Convolution2D', 'config': {'name': 'convolution2d_1', 'nb_filter': 4, 'nb_row': 3, 'nb_col': 3,
         'subsample': [1, 1], 'border_mode': 'same', 'dim_ordering': 'th', 'activation': 'relu', 'bias': True,
         'batch_input_shape': [None, 3, 32, 32], 'trainable': True}},
        {'class_name': 'MaxPooling2D', 'config': {'name': 'maxpooling2d_1', 'pool_size': [2, 2], 'strides': [2, 2],
         'border_mode': 'valid', 'dim_ordering': 'th'}},
        {'class_name': 'Convolution2D', 'config': {'name': 'convolution2d_2', 'nb_filter': 6, 'nb_row': 3, 'nb_col': 2,
         'subsample': [2, 1], 'border_mode': 'valid', 'dim_ordering': 'th', 'activation': 'linear', 'bias': True}},
        {'class_name': 'Activation', 'config': {'name': 'activation_1', 'activation': 'tanh'}},
        {'class_name': 'Flatten', 'config': {'name': 'flatten_1'}},
        {'class_name': 'Dense', 'config': {'name': 'dense_1', 'output_dim': 16, 'activation': 'sigmoid', 'bias': True}},
        {'class_name': 'BatchNormalization', 'config': {'name': 'batchnormalization_1', 'epsilon': 0.001, 'mode': 0, 'axis': -1, 'momentum': 0.99}},
        {'class_name': 'Dropout', 'config': {'name': 'dropout_1', 'p': 0.5}},
        {'class_name': 'Dense', 'config': {'name': 'dense_2', 'output_dim': 10, 'activation': 'linear', 'bias': True}},
        {'class_name': 'Activation', 'config': {'name': 'activation_2', 'activation': 'softmax'}},
    ]
    flat = 6 * 7 * 15
    weights = [
        ('convolution2d_1', [('convolution2d_1_W', rand(4, 3, 3, 3)), ('convolution2d_1_b', rand(4))]),
        ('maxpooling2d_1', []),
        ('convolution2d_2', [('convolution2d_2_W', rand(6, 4, 3, 2)), ('convolution2d_2_b', rand(6))]),
        ('activation_1', []),
        ('flatten_1', []),
        ('dense_1', [('dense_1_W', rand(flat, 16, scale=0.05)), ('dense_1_b', rand(16))]),
        ('batchnormalization_1', [('batchnormalization_1_gamma', positive(16)), ('batchnormalization_1_beta', rand(16)),
                                  ('batchnormalization_1_running_mean', (0.5 + rand(16)).astype(np.float32)),
                                  ('batchnormalization_1_running_std', (0.05 * positive(16)).astype(np.float32))]),
        ('dropout_1', []),
        ('dense_2', [('dense_2_W', rand(16, 10)), ('dense_2_b', rand(10))]),
        ('activation_2', []),
    ]
    write(path, {'class_name': 'Sequential', 'config': layers}, weights, '1.2.2', None)


def k2_sequential_channels_first(path):
    """Keras 2 Sequential (2.2+ config form), channels-first, CIFAR-10 input 3×32×32 (so that the C-H-W flatten
    matters): Conv2D (kernels stored [kh, kw, in, out] in every Keras 2 file), average pooling,
    Flatten (default data_format: flattens the NCHW tensor as it lies), Dense."""
    layers = [
        k2_layer('Conv2D', 'conv2d', batch_input_shape=[None, 3, 32, 32], filters=5, kernel_size=[3, 3], strides=[1, 1],
                 padding='same', data_format='channels_first', dilation_rate=[1, 1], activation='relu', use_bias=True),
        k2_layer('AveragePooling2D', 'average_pooling2d', pool_size=[4, 4], strides=[4, 4], padding='valid', data_format='channels_first'),
        k2_layer('Flatten', 'flatten', data_format='channels_last'),
        k2_layer('Dense', 'dense', units=10, activation='linear', use_bias=True),
    ]
    weights = [
        ('conv2d', [('conv2d/kernel:0', rand(3, 3, 3, 5)), ('conv2d/bias:0', rand(5))]),
        ('average_pooling2d', []),
        ('flatten', []),
        ('dense', [('dense/kernel:0', rand(5 * 8 * 8, 10, scale=0.1)), ('dense/bias:0', rand(10))]),
    ]
    write(path, {'class_name': 'Sequential', 'config': {'name': 'sequential', 'layers': layers}}, weights, '2.3.0-tf', 'tensorflow')


def k2_unsupported(path):
    """A Keras 2 Sequential with a layer qrobust does not import (SeparableConv2D)."""
    layers = [
        k2_layer('SeparableConv2D', 'separable', batch_input_shape=[None, 32, 32, 3], filters=2, kernel_size=[3, 3]),
        k2_layer('GlobalAveragePooling2D', 'gap'),
        k2_layer('Dense', 'dense', units=10, activation='softmax'),
    ]
    weights = [('separable', [('separable/depthwise_kernel:0', rand(3, 3, 3, 1)), ('separable/pointwise_kernel:0', rand(1, 1, 3, 2)),
                              ('separable/bias:0', rand(2))]), ('gap', []), ('dense', [('dense/kernel:0', rand(2, 10)), ('dense/bias:0', rand(10))])]
    write(path, {'class_name': 'Sequential', 'config': {'name': 'sequential', 'layers': layers}}, weights, '2.3.0-tf', 'tensorflow')


def k2_wrong_shape(path):
    """A Keras 2 Sequential whose conv kernel does not fit its config (filters 2, kernel [3, 3, 3, 3])."""
    layers = [k2_layer('Conv2D', 'conv2d', batch_input_shape=[None, 32, 32, 3], filters=2, kernel_size=[3, 3], padding='valid'),
              k2_layer('GlobalAveragePooling2D', 'gap'), k2_layer('Dense', 'dense', units=10)]
    weights = [('conv2d', [('conv2d/kernel:0', rand(3, 3, 3, 3)), ('conv2d/bias:0', rand(2))]), ('gap', []),
               ('dense', [('dense/kernel:0', rand(2, 10)), ('dense/bias:0', rand(10))])]
    write(path, {'class_name': 'Sequential', 'config': {'name': 'sequential', 'layers': layers}}, weights, '2.3.0-tf', 'tensorflow')


def k2_weights_only(path):
    """What Keras 2's save_weights writes for an MLP 784→8→10 (layer_names at the root, no model_config)."""
    with h5py.File(path, 'w') as f:
        f.attrs['backend'] = b'tensorflow'
        f.attrs['keras_version'] = b'2.3.0-tf'
        f.attrs['layer_names'] = [b'flatten', b'dense', b'dense_1']
        f.create_group('flatten').attrs['weight_names'] = np.array([], dtype=np.float64)
        for name, shape in (('dense', (784, 8)), ('dense_1', (8, 10))):
            g = f.create_group(name)
            g.attrs['weight_names'] = [f'{name}/kernel:0'.encode(), f'{name}/bias:0'.encode()]
            g.create_dataset(f'{name}/kernel:0', data=rand(*shape))
            g.create_dataset(f'{name}/bias:0', data=rand(shape[1]))


def not_keras(path):
    """An HDF5 file that is not a Keras file (no layer_names)."""
    with h5py.File(path, 'w') as f:
        f.create_dataset('values', data=np.arange(6, dtype=np.float32).reshape(2, 3))


if __name__ == '__main__':
    out = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/keras'
    os.makedirs(out, exist_ok=True)
    k2_functional_cnn(os.path.join(out, 'k2-functional-cnn.h5'))
    k1_sequential_th(os.path.join(out, 'k1-sequential-th.h5'))
    k2_sequential_channels_first(os.path.join(out, 'k2-sequential-channels-first.h5'))
    k2_unsupported(os.path.join(out, 'k2-unsupported-layer.h5'))
    k2_wrong_shape(os.path.join(out, 'k2-wrong-kernel-shape.h5'))
    k2_weights_only(os.path.join(out, 'k2-weights-only-mlp.h5'))
    not_keras(os.path.join(out, 'not-keras.h5'))
