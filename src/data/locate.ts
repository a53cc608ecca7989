/**
 * Where dataset files are looked for, in this order:
 * 1. `dataDir` (the CLI's `--data-dir`),
 * 2. the environment variable QROBUST_DATA_DIR,
 * 3. the user cache (downloads go here): on Linux and other Unix `$XDG_CACHE_HOME/qrobust` or `~/.cache/qrobust`,
 *    on macOS `~/Library/Caches/qrobust`, on Windows `%LOCALAPPDATA%\qrobust\Cache` (env-paths' conventions),
 * 4. a sibling mirror: a folder `shared/datasets` next to the checkout that holds this package (or next to any
 *    folder above it), as teams keep one shared copy beside their working trees.
 * In each of these folders a dataset's files are in the subfolder named after it: `<folder>/<dataset>/<file>`
 * (CIFAR-10 also in `<folder>/cifar10/cifar-10-batches-bin/<file>`, as the tarball unpacks).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import envPaths from 'env-paths';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatasetSpec } from './registry.js';

/** Where a file was found; 'given' is a file or folder the user named as the dataset itself (see source.ts). */
export type SourceKind = 'data-dir' | 'env' | 'cache' | 'mirror' | 'given';

export interface SearchLocation {
  readonly kind: SourceKind;
  /** The root folder; a dataset's files are in `<dir>/<dataset>/`. */
  readonly dir: string;
}

export interface LocateOptions {
  /** Folder holding `<dataset>/<file>`; searched first. */
  readonly dataDir?: string;
  /** Replaces the user cache folder (default `$XDG_CACHE_HOME/qrobust` or `~/.cache/qrobust`). */
  readonly cacheDir?: string;
  /** The sibling mirror: a folder to use instead of the one found automatically, or false for none. */
  readonly mirrorDir?: string | false;
  /** Environment to read QROBUST_DATA_DIR and XDG_CACHE_HOME from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The user cache folder of the platform, as env-paths names it (macOS and Windows); on Linux and other Unix the
 * same XDG rule env-paths follows (`$XDG_CACHE_HOME/qrobust`, else `~/.cache/qrobust`), read from `env` so that
 * callers and tests can pass their own environment.
 */
export function defaultCacheDir(env: Readonly<Record<string, string | undefined>> = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin' || platform === 'win32') return envPaths('qrobust', { suffix: '' }).cache;
  const xdg = env['XDG_CACHE_HOME'];
  return xdg && xdg.trim() !== '' ? join(resolve(xdg), 'qrobust') : join(homedir(), '.cache', 'qrobust');
}

export function cacheDirOf(options: LocateOptions): string {
  return options.cacheDir !== undefined ? resolve(options.cacheDir) : defaultCacheDir(options.env ?? process.env);
}

let packageRootMemo: string | null | undefined;

/** The folder of qrobust's package.json, found by walking up from this module. */
export function packageRoot(): string | null {
  if (packageRootMemo !== undefined) return packageRootMemo;
  let dir = dirname(fileURLToPath(import.meta.url));
  packageRootMemo = null;
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        const name = (JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name;
        if (name === 'qrobust') {
          packageRootMemo = dir;
          break;
        }
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return packageRootMemo;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The sibling mirror: for the package root and each folder above it, `<that folder>/../shared/datasets`; the
 * first one that exists, or null.
 */
export function findSiblingMirror(): string | null {
  const root = packageRoot();
  if (!root) return null;
  let dir = root;
  for (;;) {
    const parent = dirname(dir);
    const candidate = join(parent, 'shared', 'datasets');
    if (isDir(candidate)) return candidate;
    if (parent === dir) return null;
    dir = parent;
  }
}

/** The folders searched, in order (duplicates removed; folders that do not exist are still listed). */
export function searchLocations(options: LocateOptions = {}): SearchLocation[] {
  const env = options.env ?? process.env;
  const out: SearchLocation[] = [];
  const add = (kind: SourceKind, dir: string | null | undefined): void => {
    if (!dir || dir.trim() === '') return;
    const abs = resolve(dir);
    if (!out.some((l) => l.dir === abs)) out.push({ kind, dir: abs });
  };
  add('data-dir', options.dataDir);
  add('env', env['QROBUST_DATA_DIR']);
  add('cache', cacheDirOf(options));
  if (options.mirrorDir !== false) add('mirror', options.mirrorDir ?? findSiblingMirror());
  return out;
}

/** The folders inside a search location where `spec`'s files may be. */
export function datasetFolders(location: SearchLocation, spec: DatasetSpec): string[] {
  const base = join(location.dir, spec.name);
  return spec.format === 'cifar-binary' ? [base, join(base, 'cifar-10-batches-bin')] : [base];
}
