/**
 * Spatial padding of NHWC with a constant other than 0 (ZeroPadding2D covers 0). Registered with TF.js
 * serialization as `QrobustConstantPad2D`.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../../backend/tf.js';

export interface ConstantPadConfig {
  /** `[top, bottom, left, right]`. */
  pads: [number, number, number, number];
  value: number;
  name?: string;
}

export class ConstantPad2D extends tfl.layers.Layer {
  static readonly className = 'QrobustConstantPad2D';
  readonly pads: [number, number, number, number];
  readonly value: number;

  constructor(config: ConstantPadConfig) {
    super(config as unknown as ConstructorParameters<typeof tfl.layers.Layer>[0]);
    this.pads = [...config.pads];
    this.value = config.value;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const [t, b, l, r] = this.pads;
    return tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]], this.value);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const [t, b, l, r] = this.pads;
    return [s[0]!, s[1] === null ? null : s[1]! + t + b, s[2] === null ? null : s[2]! + l + r, s[3]!];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), pads: this.pads, value: this.value };
  }
}

tf.serialization.registerClass(ConstantPad2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
