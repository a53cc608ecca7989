/**
 * `--save-examples FILE`: adversarial examples as one JSON file. Pixels are base64, as uint8 codes when every
 * value of an ε lies on the 8-bit lattice k/255 (e.g. after `--pixel-grid 255`) and as little-endian float32
 * otherwise. With the dataset description and the test-file positions, each example can be traced back to its
 * clean image.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { QrobustError } from '../core/errors.js';
import type { DatasetDescription } from '../data/index.js';

export const EXAMPLES_FORMAT = 'qrobust-adversarial-examples';
export const EXAMPLES_VERSION = 1;

/** The examples of one ε as they are held in memory. */
export interface ExamplesAtEpsilon {
  readonly eps: number;
  /** N × H × W × C pixels. */
  readonly pixels: Float32Array;
  readonly success: Uint8Array;
  readonly predictions: Int32Array;
}

export interface AdversarialExamples {
  readonly attack: string;
  readonly model: string;
  readonly norm: string;
  readonly seed: number;
  readonly dataset: DatasetDescription;
  /** Position of each example in the split's files, or null when the set is the whole split in file order. */
  readonly sourceIndices: readonly number[] | null;
  readonly shape: readonly [number, number, number, number];
  readonly labels: readonly number[];
  readonly targets: readonly number[] | null;
  readonly results: readonly ExamplesAtEpsilon[];
}

interface StoredEpsilon {
  readonly eps: number;
  readonly encoding: 'uint8-255' | 'float32-le';
  readonly data: string;
  readonly success: number[];
  readonly predictions: number[];
}

function onByteLattice(pixels: Float32Array): boolean {
  return pixels.every((v) => v >= 0 && v <= 1 && Math.abs(v * 255 - Math.round(v * 255)) < 1e-3);
}

function encode(r: ExamplesAtEpsilon): StoredEpsilon {
  const lattice = onByteLattice(r.pixels);
  const bytes = lattice
    ? Buffer.from(Uint8Array.from(r.pixels, (v) => Math.round(v * 255)))
    : Buffer.from(r.pixels.buffer, r.pixels.byteOffset, r.pixels.byteLength);
  return { eps: r.eps, encoding: lattice ? 'uint8-255' : 'float32-le', data: bytes.toString('base64'), success: [...r.success], predictions: [...r.predictions] };
}

function decode(s: StoredEpsilon, count: number, file: string): ExamplesAtEpsilon {
  const bytes = Buffer.from(s.data, 'base64');
  let pixels: Float32Array;
  if (s.encoding === 'uint8-255') pixels = Float32Array.from(bytes, (v) => v / 255);
  else if (s.encoding === 'float32-le') pixels = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  else throw new QrobustError('invalid_argument', `${file}: unknown pixel encoding '${String(s.encoding)}'`);
  if (pixels.length !== count) throw new QrobustError('invalid_argument', `${file}: expected ${count} pixel values at ε = ${s.eps}, got ${pixels.length}`);
  return { eps: s.eps, pixels, success: Uint8Array.from(s.success), predictions: Int32Array.from(s.predictions) };
}

/** Writes the examples to `file` as JSON. */
export async function writeExamples(file: string, examples: AdversarialExamples): Promise<void> {
  const { results, ...rest } = examples;
  const stored = { format: EXAMPLES_FORMAT, version: EXAMPLES_VERSION, ...rest, results: results.map(encode) };
  await writeFile(file, JSON.stringify(stored) + '\n');
}

/** Reads a file written by `writeExamples`. */
export async function readExamples(file: string): Promise<AdversarialExamples> {
  let parsed: { format?: string; version?: number; results?: StoredEpsilon[]; shape?: number[] } & Record<string, unknown>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as typeof parsed;
  } catch (e) {
    throw new QrobustError('io_error', `${file}: cannot read adversarial examples (${e instanceof Error ? e.message : String(e)})`);
  }
  if (parsed.format !== EXAMPLES_FORMAT || parsed.version !== EXAMPLES_VERSION || !Array.isArray(parsed.results) || !Array.isArray(parsed.shape)) {
    throw new QrobustError('invalid_argument', `${file}: not a ${EXAMPLES_FORMAT} file of version ${EXAMPLES_VERSION}`);
  }
  const count = parsed.shape.reduce((a, b) => a * b, 1);
  const { format: _format, version: _version, results, ...rest } = parsed;
  void _format;
  void _version;
  return { ...(rest as unknown as Omit<AdversarialExamples, 'results'>), results: results.map((r) => decode(r, count, file)) };
}
