/**
 * `min(max(x, min), max)` elementwise for bounds TF.js's `ReLU({maxValue})` cannot express (a lower bound other
 * than 0). Registered with TF.js serialization as `QrobustClip`; an absent bound is stored as null.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../../backend/tf.js';

export interface ClipConfig {
  min: number | null;
  max: number | null;
  name?: string;
}

export class Clip extends tfl.layers.Layer {
  static readonly className = 'QrobustClip';
  readonly min: number | null;
  readonly max: number | null;

  constructor(config: ClipConfig) {
    super(config as unknown as ConstructorParameters<typeof tfl.layers.Layer>[0]);
    this.min = config.min;
    this.max = config.max;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (this.min !== null) x = tf.maximum(x, this.min);
      if (this.max !== null) x = tf.minimum(x, this.max);
      return x;
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), min: this.min, max: this.max };
  }
}

tf.serialization.registerClass(Clip as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
