/**
 * Backend choice. WebAssembly is the default: it works everywhere and downloads nothing at install. When the
 * optional `@tensorflow/tfjs-node` is installed it is preferred, since its native kernels are faster still.
 * On wasm, qrobust replaces the slow or missing stock gradient kernels (see `kernels/`).
 */
import { createRequire } from 'node:module';
import { tf } from './tf.js';
import { QrobustError } from '../core/errors.js';
import { installFastKernels } from './kernels/index.js';

export type BackendName = 'wasm' | 'cpu' | 'node';
export const BACKEND_NAMES: readonly BackendName[] = ['wasm', 'cpu', 'node'];

export interface BackendInfo {
  /** What qrobust calls it. */
  readonly name: BackendName;
  /** What TF.js calls it ('wasm', 'cpu', 'tensorflow'). */
  readonly tfName: string;
  /** Whether qrobust's fast gradient kernels are active. */
  readonly fastKernels: boolean;
  readonly simd: boolean;
}

const TFJS_NODE = '@tensorflow/tfjs-node';
let current: BackendInfo | undefined;

/** True when `@tensorflow/tfjs-node` can be loaded from here. */
export function tfjsNodeAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve(TFJS_NODE);
    return true;
  } catch {
    return false;
  }
}

export function parseBackendName(s: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(s)) return s as BackendName;
  throw new QrobustError('invalid_option', `unknown backend '${s}': expected one of ${BACKEND_NAMES.join(', ')}`);
}

/** The backend to use when none is asked for: QROBUST_BACKEND, else tfjs-node when installed, else wasm. */
export function defaultBackendName(): BackendName {
  const env = process.env['QROBUST_BACKEND'];
  if (env) return parseBackendName(env);
  return tfjsNodeAvailable() ? 'node' : 'wasm';
}

/**
 * Selects and initialises a backend (idempotent for the same name).
 * @param requested 'wasm' | 'cpu' | 'node'; default: see `defaultBackendName`.
 * @param options.fastKernels install qrobust's gradient kernels on wasm (default true; false measures the stock ones).
 */
export async function initBackend(
  requested?: BackendName,
  options: { fastKernels?: boolean } = {},
): Promise<BackendInfo> {
  const name = requested ?? defaultBackendName();
  const wantFast = options.fastKernels ?? true;
  if (current && current.name === name && current.fastKernels === (wantFast && name === 'wasm')) return current;
  let tfName: string;
  switch (name) {
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      tfName = 'wasm';
      break;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      tfName = 'cpu';
      break;
    case 'node':
      if (!tfjsNodeAvailable()) {
        throw new QrobustError(
          'backend_unavailable',
          `backend 'node' needs the optional package ${TFJS_NODE} (npm install ${TFJS_NODE}); use --backend wasm`,
        );
      }
      await import(TFJS_NODE as string);
      tfName = 'tensorflow';
      break;
  }
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new QrobustError('backend_unavailable', `TF.js could not initialise the '${tfName}' backend`);
  await tf.ready();
  const fast = name === 'wasm' && wantFast;
  installFastKernels(fast);
  current = {
    name,
    tfName,
    fastKernels: fast,
    simd: name === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : false,
  };
  return current;
}

/** The backend chosen by the last `initBackend`, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}
