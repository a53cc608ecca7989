/**
 * qrobust's replacements for the stock TF.js wasm gradient kernels (Conv2D input/filter gradients, MaxPool
 * gradient, transposed MatMul). Work in progress: the interface is fixed, the kernels land next.
 */
let installed = false;

/** Installs (true) or removes (false) the fast kernels on the wasm backend; safe to call repeatedly. */
export function installFastKernels(enabled: boolean): void {
  installed = enabled && false;
}

export function fastKernelsInstalled(): boolean {
  return installed;
}
