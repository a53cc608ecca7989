/**
 * The hybrid kernels' on-the-fly input quantizer (`input-quantizer.ts`) as TF.js ops on a batch `[N, D]`:
 * quantize each row with its own range, then dequantize. The grid always spans the row, so nothing is clipped:
 * the straight-through gradient is the identity (`ste`), the true gradient is zero almost everywhere
 * (`exact`, see `fake-quant.ts`). The per-row scale and zero point are constants for the gradient, as a
 * quantizer's parameters are in quantization-aware training.
 */
import { tf } from '../../backend/tf.js';
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

/** Row-wise dynamic fake quantization of `x` `[N, D]` with the chosen gradient. */
export function dynamicFakeQuant(x: tf.Tensor2D, mode: 'symmetric' | 'asymmetric', gradient: QuantGradient): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor2D;
    const value = mode === 'symmetric' ? symmetric(input) : asymmetric(input);
    return {
      value,
      gradFunc: (dy: tf.Tensor) => (gradient === 'exact' ? tf.zerosLike(dy) : dy),
    };
  });
  return tf.tidy(() => op(x) as tf.Tensor2D);
}
