/**
 * Conv kernels from the orders Keras stored them in to the graph's `[kh, kw, in, out]`.
 */

/**
 * Keras 1 with `th` dim ordering stored `[out, in, kh, kw]`; returns `[kh, kw, in, out]` (the transpose
 * (2, 3, 1, 0) that Keras 2 applies when it loads such a file).
 */
export function thKernelToHwio(data: Float32Array, [co, ci, kh, kw]: readonly [number, number, number, number]): Float32Array {
  const out = new Float32Array(data.length);
  for (let o = 0; o < co; o++) {
    for (let i = 0; i < ci; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * ci + i) * co + o] = data[((o * ci + i) * kh + y) * kw + x]!;
      }
    }
  }
  return out;
}

/**
 * A `[kh, kw, in, out]` kernel rotated by 180° in space. Theano convolves (flips the kernel) where TensorFlow
 * correlates, so a kernel trained under the Theano backend runs on TensorFlow flipped.
 */
export function flipKernelSpatially(data: Float32Array, [kh, kw, ci, co]: readonly [number, number, number, number]): Float32Array {
  const out = new Float32Array(data.length);
  const plane = ci * co;
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const src = (y * kw + x) * plane;
      const dst = ((kh - 1 - y) * kw + (kw - 1 - x)) * plane;
      out.set(data.subarray(src, src + plane), dst);
    }
  }
  return out;
}
