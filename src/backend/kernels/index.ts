/**
 * qrobust's replacements for slow or missing stock TF.js wasm kernels on the gradient path. They are installed
 * in the kernel registry, so they serve every caller alike: plain ops, fused ops (whose custom gradients call
 * the backprop kernels directly) and tfjs-layers models.
 *
 * | kernel               | stock wasm                                  | qrobust                                      |
 * |----------------------|---------------------------------------------|----------------------------------------------|
 * | Conv2DBackpropInput  | scalar loop, ~10x the forward convolution   | flipped-filter convolution / matmul + col2im |
 * | Conv2DBackpropFilter | missing: training a CNN throws              | im2col (or shifted rows) + matmul            |
 * | MaxPoolGrad          | slow                                        | TypeScript loop on the wasm heap             |
 * | BatchMatMul          | ~10x slower with transposeA/B               | explicit transposes, untransposed product    |
 * | _FusedMatMul         | same, and adds the bias wrongly when transposed | same                                     |
 * | Sum (all but last axis) | transposes the whole input first         | one pass of column sums (bias gradients)     |
 * | Identity, Cast to own dtype | copy the buffer (autodiff clones every saved tensor) | share it (reference count) |
 *
 * Each replacement falls back to the stock kernel for cases it does not cover. `installFastKernels(false)`
 * puts back exactly the kernel configs that were registered before.
 */
import { tf } from '../tf.js';
import { explicitTransposeMatMul } from './batch-mat-mul.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { sharedIdentity, sharedSameTypeCast } from './identity.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { leadingAxesSum } from './sum.js';

const BACKEND = 'wasm';

/** Kernels replaced outright. */
const OWN: readonly tf.KernelConfig[] = [conv2dBackpropInputConfig, conv2dBackpropFilterConfig, maxPoolGradConfig];

/** Kernels wrapped around the stock one (which handles what the wrapper does not). */
const WRAPPERS: readonly [string, (stock: tf.KernelFunc) => tf.KernelFunc][] = [
  [tf.BatchMatMul, (stock) => explicitTransposeMatMul(stock, tf.BatchMatMul)],
  [tf._FusedMatMul, (stock) => explicitTransposeMatMul(stock, tf._FusedMatMul)],
  [tf.Sum, leadingAxesSum],
  [tf.Identity, sharedIdentity],
  [tf.Cast, sharedSameTypeCast],
];

/** The kernel configs registered before installation, by kernel name; `undefined` where there was none. */
let saved: Map<string, tf.KernelConfig | undefined> | undefined;

/**
 * The stock kernel's setup/dispose hooks, carried over to its replacement: TF.js runs the setup of whatever
 * is registered when the backend initialises, and the stock kernels (called by the wrappers, or restored
 * later) need theirs to have run.
 */
function lifecycleOf(stock: tf.KernelConfig | undefined): Partial<tf.KernelConfig> {
  if (stock === undefined) return {};
  return {
    ...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {}),
    ...(stock.disposeFunc ? { disposeFunc: stock.disposeFunc } : {}),
  };
}

function register(name: string, config: tf.KernelConfig | undefined): void {
  if (tf.getKernel(name, BACKEND) !== undefined) tf.unregisterKernel(name, BACKEND);
  if (config !== undefined) tf.registerKernel(config);
}

/**
 * Installs (true) or removes (false) the fast kernels on the wasm backend; safe to call repeatedly. Needs the
 * wasm backend package to be loaded (it registers the stock kernels this wraps); without it, installing does
 * nothing.
 */
export function installFastKernels(enabled: boolean): void {
  if (enabled) {
    if (saved !== undefined) return;
    if (tf.getKernel(tf.Conv2D, BACKEND) === undefined) return;
    const before = new Map<string, tf.KernelConfig | undefined>();
    for (const c of OWN) before.set(c.kernelName, tf.getKernel(c.kernelName, BACKEND));
    for (const [name] of WRAPPERS) before.set(name, tf.getKernel(name, BACKEND));
    saved = before;
    for (const c of OWN) register(c.kernelName, { ...c, ...lifecycleOf(before.get(c.kernelName)) });
    for (const [name, wrap] of WRAPPERS) {
      const stock = before.get(name);
      if (stock !== undefined) {
        register(name, { kernelName: name, backendName: BACKEND, kernelFunc: wrap(stock.kernelFunc), ...lifecycleOf(stock) });
      }
    }
  } else {
    if (saved === undefined) return;
    for (const [name, config] of saved) register(name, config);
    saved = undefined;
  }
}

/** Whether the fast kernels are currently installed. */
export function fastKernelsInstalled(): boolean {
  return saved !== undefined;
}
