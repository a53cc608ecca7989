/**
 * An HDF5 file as a plain in-memory tree of groups, attributes and numeric datasets, read with h5wasm (the
 * reference HDF5 C library compiled to WebAssembly). Keras files are small enough to read whole; everything
 * after this module works on the tree and never touches h5wasm.
 */
import h5wasm, { type Dataset, type File as H5File, type Group } from 'h5wasm';
import { QrobustError } from '../../core/errors.js';

export type AttrValue = string | number | boolean | readonly string[] | readonly number[];

export interface H5Dataset {
  readonly kind: 'dataset';
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface H5Group {
  readonly kind: 'group';
  readonly attrs: Readonly<Record<string, AttrValue>>;
  readonly children: ReadonlyMap<string, H5Node>;
}

export type H5Node = H5Group | H5Dataset;

let modulePromise: Promise<Awaited<typeof h5wasm.ready>> | null = null;

/** h5wasm's module, once, with HDF5's error stack turned into thrown errors (instead of printed to stderr). */
function h5Module(): Promise<Awaited<typeof h5wasm.ready>> {
  modulePromise ??= h5wasm.ready.then((m) => {
    m.activate_throwing_error_handler();
    return m;
  });
  return modulePromise;
}

/** The last line of HDF5's error stack that says what went wrong ("truncated file: ...", "file signature not found"). */
function hdf5Reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const frames = text.split('\n').filter((l) => /^\s*#\d+:/.test(l));
  const last = frames[frames.length - 1];
  const reason = last?.replace(/^.*\(\):\s*/, '').trim();
  return reason || text.split('\n')[0]!.trim() || 'unreadable';
}

function attrValue(raw: unknown): AttrValue | undefined {
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return raw;
  if (typeof raw === 'bigint') return Number(raw);
  if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) return Array.from(raw as unknown as ArrayLike<number | bigint>, Number);
  if (Array.isArray(raw)) {
    if (raw.every((v) => typeof v === 'string')) return raw as string[];
    if (raw.every((v) => typeof v === 'number')) return raw as number[];
  }
  return undefined;
}

function readAttrs(obj: Group | Dataset): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const [name, attr] of Object.entries(obj.attrs)) {
    const v = attrValue(attr.value);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function readDataset(ds: Dataset, path: string): H5Dataset | null {
  const value = ds.value;
  if (!(value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array || value instanceof Uint8Array || value instanceof Int8Array || value instanceof Int16Array || value instanceof Uint16Array || value instanceof Uint32Array)) {
    if (typeof value === 'number') return { kind: 'dataset', shape: [], data: Float32Array.of(value) };
    return null; // strings, compounds, references: never Keras weights
  }
  const shape: number[] = ds.shape ?? [];
  const data = value instanceof Float32Array ? value : Float32Array.from(value as ArrayLike<number>);
  if (data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`dataset ${path}: ${data.length} values for shape [${shape.join(',')}]`);
  return { kind: 'dataset', shape, data };
}

function readGroup(g: Group, path: string): H5Group {
  const children = new Map<string, H5Node>();
  for (const key of g.keys()) {
    const child = g.get(key);
    if (child instanceof h5wasm.Group) children.set(key, readGroup(child, `${path}/${key}`));
    else if (child instanceof h5wasm.Dataset) {
      const ds = readDataset(child, `${path}/${key}`);
      if (ds) children.set(key, ds);
    }
  }
  return { kind: 'group', attrs: readAttrs(g), children };
}

let fileCounter = 0;

/**
 * Reads HDF5 bytes into a tree.
 * @throws QrobustError('invalid_model') naming `file` when the bytes are not a readable HDF5 file.
 */
export async function readHdf5Tree(file: string, bytes: Uint8Array): Promise<H5Group> {
  const m = await h5Module();
  const memPath = `/qrobust-${process.pid}-${++fileCounter}.h5`;
  m.FS.writeFile(memPath, bytes);
  let h5: H5File | null = null;
  try {
    h5 = new h5wasm.File(memPath, 'r');
    return readGroup(h5, '');
  } catch (e) {
    throw new QrobustError('invalid_model', `${file}: not a readable HDF5 file (${hdf5Reason(e)})`, { cause: e });
  } finally {
    try {
      h5?.close();
    } finally {
      m.FS.unlink(memPath);
    }
  }
}

/** The node at a `/`-separated path below `group`, or undefined. */
export function nodeAt(group: H5Group, path: string): H5Node | undefined {
  let node: H5Node | undefined = group;
  for (const part of path.split('/').filter((p) => p !== '')) {
    if (node?.kind !== 'group') return undefined;
    node = node.children.get(part);
  }
  return node;
}

/** A string attribute (h5py stores Keras's strings as fixed-length bytes; h5wasm decodes them). */
export function stringAttr(group: H5Group, name: string): string | undefined {
  const v = group.attrs[name];
  return typeof v === 'string' ? v : undefined;
}

/** A list-of-strings attribute; an empty list as h5py writes it (an empty float array) reads as []. */
export function stringListAttr(group: H5Group, name: string): readonly string[] | undefined {
  const v = group.attrs[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  if (Array.isArray(v) && v.length === 0) return [];
  return undefined;
}
