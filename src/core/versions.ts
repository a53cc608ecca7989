/** Versions of qrobust and of installed packages, recorded in every result and model file. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

interface PackageJson {
  readonly dir: string;
  readonly version?: string;
}

/** The package.json named `name` in `dir` or a folder above it (a few levels), or null. */
function findPackageJson(dir: string, name: string): PackageJson | null {
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return { dir, ...(pkg.version ? { version: pkg.version } : {}) };
    } catch {
      /* keep walking up */
    }
    dir = dirname(dir);
  }
  return null;
}

/** The package root (the folder holding qrobust's package.json). */
export function packageRoot(): string {
  const own = findPackageJson(dirname(fileURLToPath(import.meta.url)), 'qrobust');
  if (!own) throw new Error('qrobust package root not found');
  return own.dir;
}

/**
 * The version of an installed package, found by walking up from its entry point (which also works for packages
 * whose `exports` hide their package.json), or 'not installed'.
 */
export function packageVersion(name: string): string {
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    return 'not installed';
  }
  return findPackageJson(dirname(entry), name)?.version ?? 'not installed';
}

/** qrobust's own version (its package.json). */
export function qrobustVersion(): string {
  return findPackageJson(packageRoot(), 'qrobust')!.version!;
}

let cached: Record<string, string> | undefined;

export function versions(): Record<string, string> {
  if (!cached) {
    cached = {
      qrobust: qrobustVersion(),
      node: process.versions.node,
      '@tensorflow/tfjs-core': packageVersion('@tensorflow/tfjs-core'),
      '@tensorflow/tfjs-layers': packageVersion('@tensorflow/tfjs-layers'),
      '@tensorflow/tfjs-backend-wasm': packageVersion('@tensorflow/tfjs-backend-wasm'),
    };
  }
  return { ...cached };
}
