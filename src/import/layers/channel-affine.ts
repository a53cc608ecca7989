/**
 * `x · scale + offset` along the last axis (per channel of a feature map, per element of a vector): inference
 * batch norm or constant arithmetic that had no conv or dense to fold into. Registered with TF.js serialization
 * as `QrobustChannelAffine`, so saved models reload.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../../backend/tf.js';

export interface ChannelAffineConfig {
  scale: number[];
  offset: number[];
  name?: string;
}

export class ChannelAffine extends tfl.layers.Layer {
  static readonly className = 'QrobustChannelAffine';
  readonly scale: number[];
  readonly offset: number[];

  constructor(config: ChannelAffineConfig) {
    super(config as unknown as ConstructorParameters<typeof tfl.layers.Layer>[0]);
    if (config.scale.length !== config.offset.length || config.scale.length === 0) throw new Error('ChannelAffine: scale and offset must be non-empty and of equal length');
    this.scale = [...config.scale];
    this.offset = [...config.offset];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.add(tf.mul(x, tf.tensor1d(this.scale)), tf.tensor1d(this.offset));
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}

tf.serialization.registerClass(ChannelAffine as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
