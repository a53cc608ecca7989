/**
 * Helpers for the ONNX importer tests (no tests in here): small ONNX models written with qrobust's own writer,
 * ONNX Runtime as the reference for their outputs, and the imported TF.js model's outputs on the same images.
 */
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../../src/backend/tf.js';
import { Rng } from '../../src/core/rng.js';
import { buildLayersModel } from '../../src/import/build-layers.js';
import { importOnnx } from '../../src/import/onnx/index.js';
import type { ImportedNetwork, InputLayout } from '../../src/import/types.js';
import { DataType, writeOnnxModel, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from '../../src/onnx/index.js';

export type Image = readonly [number, number, number];

export const f32 = (name: string, dims: number[], values: ArrayLike<number>): OnnxTensor => ({ name, dataType: DataType.FLOAT, dims, values: Float32Array.from(values) });
export const i64 = (name: string, values: number[]): OnnxTensor => ({ name, dataType: DataType.INT64, dims: [values.length], values: BigInt64Array.from(values.map(BigInt)) });
export const node = (opType: string, inputs: string[], outputs: string[], attributes: OnnxAttribute[] = [], name = ''): OnnxNode => ({ name, opType, domain: '', inputs, outputs, attributes });
export const ints = (name: string, value: number[]): OnnxAttribute => ({ name, type: 'ints', value });
export const int = (name: string, value: number): OnnxAttribute => ({ name, type: 'int', value });
export const float = (name: string, value: number): OnnxAttribute => ({ name, type: 'float', value });
export const str = (name: string, value: string): OnnxAttribute => ({ name, type: 'string', value });

/** Seeded normal values scaled by 1/sqrt(fanIn), so that logits stay of order 1. */
export function weights(rng: Rng, name: string, dims: number[], fanIn = dims.slice(1).reduce((a, b) => a * b, 1)): OnnxTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return f32(name, dims, Array.from({ length: n }, () => rng.normal() / Math.sqrt(fanIn)));
}

export function uniform(rng: Rng, name: string, dims: number[], lo: number, hi: number): OnnxTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return f32(name, dims, Array.from({ length: n }, () => lo + (hi - lo) * rng.next()));
}

export interface ModelSpec {
  readonly nodes: OnnxNode[];
  readonly initializers: OnnxTensor[];
  readonly input: readonly (number | string)[];
  readonly output: string;
  readonly outputShape?: readonly number[];
  readonly opset?: number;
}

export function onnxBytes(spec: ModelSpec): Uint8Array {
  const model: OnnxModel = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    producerName: 'qrobust-test',
    producerVersion: '1',
    domain: '',
    modelVersion: 1,
    docString: '',
    graph: {
      name: 'g',
      nodes: spec.nodes,
      initializers: spec.initializers,
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [...spec.input] }],
      outputs: [{ name: spec.output, elemType: DataType.FLOAT, shape: spec.outputShape ? [...spec.outputShape] : null }],
      valueInfo: [],
    },
    metadataProps: [],
  };
  return writeOnnxModel(model);
}

/** Seeded NHWC images in [0, 1]. */
export function randomImages(rng: Rng, n: number, image: Image): Float32Array {
  return Float32Array.from({ length: n * image[0] * image[1] * image[2] }, () => rng.next());
}

/** One NHWC image `[H, W, C]` in the element order of a file layout. */
export function toLayout(x: Float32Array, [h, w, c]: Image, layout: InputLayout): Float32Array {
  if (layout === 'nhwc' || layout === 'flat-nhwc') return Float32Array.from(x);
  const out = new Float32Array(x.length);
  for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < c; k++) out[(k * h + y) * w + xx] = x[(y * w + xx) * c + k]!;
  return out;
}

/** ONNX Runtime's outputs, one image at a time (the file's input shape with batch 1). */
export async function ortOutputs(bytes: Uint8Array, images: Float32Array, image: Image, layout: InputLayout, inputShape: readonly number[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes);
  const size = image[0] * image[1] * image[2];
  const out: Float32Array[] = [];
  try {
    for (let i = 0; i < images.length / size; i++) {
      const x = toLayout(images.subarray(i * size, (i + 1) * size), image, layout);
      const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', x, inputShape.map((d) => (typeof d === 'number' && d > 0 ? d : 1))) };
      out.push(Float32Array.from((await session.run(feeds))[session.outputNames[0]!]!.data as Float32Array));
    }
  } finally {
    await session.release();
  }
  return out;
}

/** The TF.js model's outputs on NHWC images, one row per image. */
export function modelOutputs(model: tfl.LayersModel, images: Float32Array, image: Image): Float32Array[] {
  const n = images.length / (image[0] * image[1] * image[2]);
  const flat = tf.tidy(() => (model.predict(tf.tensor4d(images, [n, ...image])) as tf.Tensor).dataSync() as Float32Array);
  const k = flat.length / n;
  return Array.from({ length: n }, (_, i) => flat.slice(i * k, (i + 1) * k));
}

export function maxAbsDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  a.forEach((row, i) => {
    assert.equal(row.length, b[i]!.length, `row ${i}: ${row.length} vs ${b[i]!.length} outputs`);
    row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i]![j]!))));
  });
  return worst;
}

export interface Comparison {
  readonly imported: ImportedNetwork;
  readonly model: tfl.LayersModel;
  readonly maxDiff: number;
}

/**
 * Imports `spec`, builds the TF.js model and compares it with ONNX Runtime on seeded random images; `reference`
 * is the model ONNX Runtime runs (default: the same one).
 */
export async function compareWithOrt(spec: ModelSpec, image: Image, classes: number, options: { layout?: InputLayout; seed?: number; n?: number; reference?: ModelSpec } = {}): Promise<Comparison> {
  const bytes = onnxBytes(spec);
  const imported = importOnnx({ file: 'test.onnx', bytes, imageShape: image, numClasses: classes, ...(options.layout ? { layout: options.layout } : {}) });
  const model = buildLayersModel(imported.graph);
  const images = randomImages(new Rng(options.seed ?? 7), options.n ?? 3, image);
  const theirs = await ortOutputs(options.reference ? onnxBytes(options.reference) : bytes, images, image, imported.layout, spec.input as number[]);
  const ours = modelOutputs(model, images, image);
  return { imported, model, maxDiff: maxAbsDiff(ours, theirs) };
}
