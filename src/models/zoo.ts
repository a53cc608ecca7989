/**
 * The architectures qrobust trains by name. Every model takes NHWC pixels in [0,1] and starts with a
 * `Normalize` layer holding the dataset's statistics, and ends in logits (no softmax).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { ArchName } from './arch-names.js';
import { Normalize } from './normalize-layer.js';

export interface ArchInfo {
  readonly name: ArchName;
  readonly description: string;
  /** Datasets it is meant for (others with the same input shape work too). */
  readonly intendedFor: readonly string[];
}

export const ARCHS: Readonly<Record<ArchName, ArchInfo>> = {
  'mlp-tiny': {
    name: 'mlp-tiny',
    description: 'Flatten → Dense 32 ReLU → Dense 32 ReLU → Dense (classes); small enough for complete verification',
    intendedFor: ['mnist', 'fashion-mnist'],
  },
  'mlp-100': {
    name: 'mlp-100',
    description: 'Flatten → Dense 100 ReLU → Dense (classes): the 784-100-10 MLP of Gorsline et al. (2021)',
    intendedFor: ['mnist', 'fashion-mnist'],
  },
  mlp: {
    name: 'mlp',
    description: 'Flatten → Dense 256 ReLU → Dense 256 ReLU → Dense (classes)',
    intendedFor: ['mnist', 'fashion-mnist'],
  },
  'cnn-small': {
    name: 'cnn-small',
    description: 'Conv 3x3x16 ReLU → MaxPool 2 → Conv 3x3x32 ReLU → MaxPool 2 → Dense 128 ReLU → Dense (classes)',
    intendedFor: ['mnist', 'fashion-mnist'],
  },
  'cnn-cifar': {
    name: 'cnn-cifar',
    description:
      'VGG-style: [Conv 32, Conv 32, MaxPool] [Conv 64, Conv 64, MaxPool] [Conv 128, MaxPool], each conv 3x3 ' +
      'with ReLU → Dense 128 ReLU → Dense (classes)',
    intendedFor: ['cifar10'],
  },
};

export interface ModelInputSpec {
  /** [H, W, C] */
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  /** Per-channel mean and std applied inside the model. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * Builds an untrained model. Weight initialisation draws from TF.js's global random state; seed it with
 * `seedInitializers` (see train.ts) for reproducible runs.
 */
export function buildModel(arch: ArchName, spec: ModelInputSpec, seed = 0): tfl.LayersModel {
  // TF.js treats an initializer seed of 0 as "unseeded", so each layer gets a distinct non-zero seed.
  let layer = 0;
  const nextSeed = (): number => ((seed >>> 0) * 1009 + ++layer) % 2147483647 || 1;
  const init = () => tfl.initializers.glorotUniform({ seed: nextSeed() });
  const heInit = () => tfl.initializers.heNormal({ seed: nextSeed() });
  const model = tfl.sequential({ name: arch.replace('-', '_') });
  model.add(new Normalize({ mean: [...spec.mean], std: [...spec.std], inputShape: [...spec.inputShape], name: 'normalize' }));
  const dense = (units: number, activation: 'relu' | 'linear', name: string): tfl.layers.Layer =>
    tfl.layers.dense({ units, activation, kernelInitializer: activation === 'relu' ? heInit() : init(), name });
  const conv = (filters: number, name: string, activation: 'relu' | 'linear' = 'relu'): tfl.layers.Layer =>
    tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation, kernelInitializer: heInit(), name });
  switch (arch) {
    case 'mlp-tiny':
      model.add(tfl.layers.flatten({ name: 'flatten' }));
      model.add(dense(32, 'relu', 'dense_1'));
      model.add(dense(32, 'relu', 'dense_2'));
      model.add(dense(spec.numClasses, 'linear', 'logits'));
      break;
    case 'mlp-100':
      model.add(tfl.layers.flatten({ name: 'flatten' }));
      model.add(dense(100, 'relu', 'dense_1'));
      model.add(dense(spec.numClasses, 'linear', 'logits'));
      break;
    case 'mlp':
      model.add(tfl.layers.flatten({ name: 'flatten' }));
      model.add(dense(256, 'relu', 'dense_1'));
      model.add(dense(256, 'relu', 'dense_2'));
      model.add(dense(spec.numClasses, 'linear', 'logits'));
      break;
    case 'cnn-small':
      model.add(conv(16, 'conv_1'));
      model.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool_1' }));
      model.add(conv(32, 'conv_2'));
      model.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool_2' }));
      model.add(tfl.layers.flatten({ name: 'flatten' }));
      model.add(dense(128, 'relu', 'dense_1'));
      model.add(dense(spec.numClasses, 'linear', 'logits'));
      break;
    case 'cnn-cifar': {
      const block = (filters: number, name: string): void => {
        model.add(conv(filters, name));
      };
      block(32, 'conv_1');
      block(32, 'conv_2');
      model.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool_1' }));
      block(64, 'conv_3');
      block(64, 'conv_4');
      model.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool_2' }));
      block(128, 'conv_5');
      model.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool_3' }));
      model.add(tfl.layers.flatten({ name: 'flatten' }));
      model.add(dense(128, 'relu', 'dense_1'));
      model.add(dense(spec.numClasses, 'linear', 'logits'));
      break;
    }
  }
  return model;
}
