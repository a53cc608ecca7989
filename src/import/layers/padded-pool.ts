/**
 * 2-D pooling over NHWC with explicit (possibly asymmetric) padding that TF.js's 'same'/'valid' pooling cannot
 * express: max pooling ignores the padding (ONNX semantics), average pooling divides by the number of input
 * elements in each window (ONNX count_include_pad 0). Registered with TF.js serialization as `QrobustPaddedPool2D`.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../../backend/tf.js';

export interface PaddedPoolConfig {
  pool: 'max' | 'avg';
  poolSize: [number, number];
  strides: [number, number];
  /** `[top, bottom, left, right]`. */
  pads: [number, number, number, number];
  name?: string;
}

/** The lowest finite float32: padding that never wins a max. */
const LOWEST_F32 = -3.4028234663852886e38;

export class PaddedPool2D extends tfl.layers.Layer {
  static readonly className = 'QrobustPaddedPool2D';
  readonly pool: PaddedPoolConfig;

  constructor(config: PaddedPoolConfig) {
    super(config as unknown as ConstructorParameters<typeof tfl.layers.Layer>[0]);
    this.pool = { pool: config.pool, poolSize: [...config.poolSize], strides: [...config.strides], pads: [...config.pads] };
  }

  private paddings(): [number, number][] {
    const [t, b, l, r] = this.pool.pads;
    return [[0, 0], [t, b], [l, r], [0, 0]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      const { poolSize, strides } = this.pool;
      if (this.pool.pool === 'max') return tf.maxPool(tf.pad(x, this.paddings(), LOWEST_F32), poolSize, strides, 'valid');
      // Sum of the inputs in each window over the count of inputs in it: avg of zero-padded x over avg of padded ones.
      const sum = tf.avgPool(tf.pad(x, this.paddings(), 0), poolSize, strides, 'valid');
      const ones = tf.ones([1, x.shape[1], x.shape[2], 1]) as tf.Tensor4D;
      const share = tf.avgPool(tf.pad(ones, this.paddings(), 0), poolSize, strides, 'valid');
      return tf.div(sum, share);
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const { poolSize, strides, pads } = this.pool;
    const out = (size: number | null, a: 0 | 1): number | null => (size === null ? null : Math.floor((size + pads[2 * a]! + pads[2 * a + 1]! - poolSize[a]) / strides[a]) + 1);
    return [s[0]!, out(s[1]!, 0), out(s[2]!, 1), s[3]!];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.pool };
  }
}

tf.serialization.registerClass(PaddedPool2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
