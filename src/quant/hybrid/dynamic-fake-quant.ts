/**
 * The hybrid kernels' on-the-fly input quantizers (`input-quantizer.ts`) as TF.js ops on a batch `[N, D]`:
 * quantize each row (one example) with its own range, then dequantize. The grid always spans the row, so nothing is clipped:
 * the straight-through gradient is the identity (`ste`), the true gradient is zero almost everywhere
 * (`exact`, see `fake-quant.ts`). The per-row scale and zero point are constants for the gradient, as a
 * quantizer's parameters are in quantization-aware training.
 */
import { tf } from '../../backend/tf.js';
import type { DynamicInputQuantization } from '../../import/types.js';
import { roundHalfAwayTf, type QuantGradient } from '../fake-quant.js';

function symmetric(x: tf.Tensor2D): tf.Tensor {
  const range = tf.max(tf.abs(x), 1, true);
  const nonzero = tf.greater(range, 0);
  const safe = tf.where(nonzero, range, tf.onesLike(range));
  const inv = tf.div(127, safe);
  const scale = tf.where(nonzero, tf.div(safe, 127), tf.onesLike(range));
  const q = tf.clipByValue(roundHalfAwayTf(tf.mul(x, inv)), -127, 127);
  return tf.mul(q, scale);
}

function asymmetric(x: tf.Tensor2D): tf.Tensor {
  const rmin = tf.minimum(tf.min(x, 1, true), 0);
  const rmax = tf.maximum(tf.max(x, 1, true), 0);
  const span = tf.sub(rmax, rmin);
  const nonzero = tf.greater(span, 0);
  const scale = tf.where(nonzero, tf.div(span, 255), tf.onesLike(span));
  const fromMin = tf.sub(-128, tf.div(rmin, scale));
  const fromMax = tf.sub(127, tf.div(rmax, scale));
  const useMin = tf.less(tf.add(128, tf.abs(tf.div(rmin, scale))), tf.add(127, tf.abs(tf.div(rmax, scale))));
  const zp = tf.where(nonzero, roundHalfAwayTf(tf.clipByValue(tf.where(useMin, fromMin, fromMax), -128, 127)), tf.zerosLike(span));
  const q = tf.clipByValue(roundHalfAwayTf(tf.add(zp, tf.div(x, scale))), -128, 127);
  return tf.where(nonzero, tf.mul(tf.sub(q, zp), scale), tf.zerosLike(x));
}

/** ONNX's DynamicQuantizeLinear per row: uint8 over [min(0, min), max(0, max)], round half to even. */
function dynamicQuantizeLinear(x: tf.Tensor2D): tf.Tensor {
  const rmin = tf.minimum(tf.min(x, 1, true), 0);
  const rmax = tf.maximum(tf.max(x, 1, true), 0);
  const span = tf.sub(rmax, rmin);
  const scale = tf.where(tf.greater(span, 0), tf.div(span, 255), tf.onesLike(span));
  // tf.round rounds half to even, as ONNX Runtime does.
  const zp = tf.round(tf.clipByValue(tf.neg(tf.div(rmin, scale)), 0, 255));
  const q = tf.clipByValue(tf.add(tf.round(tf.div(x, scale)), zp), 0, 255);
  return tf.mul(tf.sub(q, zp), scale);
}

const QUANTIZERS: Readonly<Record<DynamicInputQuantization, (x: tf.Tensor2D) => tf.Tensor>> = {
  symmetric,
  asymmetric,
  'dynamic-quantize-linear': dynamicQuantizeLinear,
};

/** Row-wise dynamic fake quantization of `x` `[N, D]` with the chosen gradient. */
export function dynamicFakeQuant(x: tf.Tensor2D, mode: DynamicInputQuantization, gradient: QuantGradient): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor2D;
    const value = QUANTIZERS[mode](input);
    return {
      value,
      gradFunc: (dy: tf.Tensor) => (gradient === 'exact' ? tf.zerosLike(dy) : dy),
    };
  });
  return tf.tidy(() => op(x) as tf.Tensor2D);
}
