/**
 * The one place qrobust imports TensorFlow.js core from. tfjs-core's Node bundle registers no gradient
 * functions; tfjs-layers registers the full set when it loads, so importing it here makes autodiff available
 * to every module that imports `tf` from this file.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor4D = tf.Tensor4D;
