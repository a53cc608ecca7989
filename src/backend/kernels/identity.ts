/**
 * Identity, and Cast to the same dtype, for the wasm backend without a copy.
 *
 * Autodiff clones every tensor it saves for the backward pass (`tf.clone` runs the Identity kernel), and the
 * stock wasm Identity copies the whole buffer each time: three full copies of the largest activation per
 * convolution layer. Tensor memory on the wasm backend is immutable once written and reference counted (the
 * stock Reshape already shares buffers this way), so the clone can share its input's buffer: this kernel adds
 * a reference and returns the same data, as the cpu backend's Identity does. String tensors keep the stock path.
 * Cast has the same waste in every ReLU gradient (`dy * cast(step(x), 'float32')` casts float32 to float32);
 * a cast to the tensor's own dtype shares the buffer the same way.
 */
import { tf } from '../tf.js';
import { inputOf, type KernelArgs, type TensorInfo } from './wasm-heap.js';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/** Makes the Identity kernel function, falling back to `stock` for string tensors. */
export function sharedIdentity(stock: tf.KernelFunc): tf.KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const x = inputOf(args, 'x');
    if (x.dtype === 'string') return stock(args as unknown as Parameters<tf.KernelFunc>[0]);
    (args.backend as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
  return kernel as unknown as tf.KernelFunc;
}

/** Makes the Cast kernel function: a cast to the same dtype shares the buffer, any other goes to `stock`. */
export function sharedSameTypeCast(stock: tf.KernelFunc): tf.KernelFunc {
  const kernel = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const x = inputOf(args, 'x');
    const dtype = (args.attrs as { dtype?: string } | undefined)?.dtype;
    if (dtype !== x.dtype || x.dtype === 'string') return stock(args as unknown as Parameters<tf.KernelFunc>[0]);
    (args.backend as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
  return kernel as unknown as tf.KernelFunc;
}
