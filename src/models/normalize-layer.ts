/**
 * Per-channel input normalization `(x - mean) / std` as a Keras-style layer, so that every qrobust model takes
 * pixels in [0,1] and attacks, ε and verification all speak pixel space (the RobustBench convention).
 * Registered with TF.js serialization under the class name `QrobustNormalize`, so saved models reload.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../backend/tf.js';

export interface NormalizeConfig {
  mean: number[];
  std: number[];
  name?: string;
  inputShape?: number[];
}

export class Normalize extends tfl.layers.Layer {
  static readonly className = 'QrobustNormalize';
  readonly mean: number[];
  readonly std: number[];

  constructor(config: NormalizeConfig) {
    super(config as unknown as ConstructorParameters<typeof tfl.layers.Layer>[0]);
    if (config.mean.length !== config.std.length || config.mean.length === 0) {
      throw new Error(`Normalize: mean and std must be non-empty and of equal length`);
    }
    if (config.std.some((s) => !(s > 0))) throw new Error('Normalize: every std must be positive');
    this.mean = [...config.mean];
    this.std = [...config.std];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const channels = this.mean.length;
      const mean = channels === 1 ? tf.scalar(this.mean[0]!) : tf.tensor1d(this.mean);
      const invStd = channels === 1 ? tf.scalar(1 / this.std[0]!) : tf.tensor1d(this.std.map((s) => 1 / s));
      return tf.mul(tf.sub(x, mean), invStd);
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mean: this.mean, std: this.std };
  }
}

tf.serialization.registerClass(Normalize as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
