/**
 * What every importer takes and returns. An importer reads one file format into the format-neutral
 * `ModelGraph` (NHWC, float32 weights) plus, for a quantized source, the quantizers it found; the shared code
 * in `import/` puts the declared preprocessing in front, builds the TF.js model and writes the model directory.
 */
import type { ModelGraph } from '../graph/model-graph.js';

/**
 * How the network's owner fed images to it, outside the network:
 * - `nchw` / `nhwc`: an image tensor, channels first or last;
 * - `flat-nchw` / `flat-nhwc`: a vector, the image flattened in C-H-W or H-W-C order.
 */
export type InputLayout = 'nchw' | 'nhwc' | 'flat-nchw' | 'flat-nhwc';
export const INPUT_LAYOUTS: readonly InputLayout[] = ['nchw', 'nhwc', 'flat-nchw', 'flat-nhwc'];

/**
 * The network's input is `(pixel · scale − mean) / std` per channel, with `pixel` in [0, 1]: `scale` 255 for a
 * network fed raw 0..255 values, mean/std in those scaled units (one value, or one per channel).
 */
export interface DeclaredPreprocessing {
  readonly scale: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export type ModelFormat = 'onnx' | 'tflite' | 'keras-h5';

export interface ImportRequest {
  /** The file's path (for messages) and bytes. */
  readonly file: string;
  readonly bytes: Uint8Array;
  /** The dataset's image shape `[H, W, C]` and class count. */
  readonly imageShape: readonly [number, number, number];
  readonly numClasses: number;
  /** The declared layout, or undefined: the importer infers it from the file's input shape where unambiguous. */
  readonly layout?: InputLayout;
  /** For weights-only files: a zoo architecture name or a layer list (`dense:256,256,10`). */
  readonly arch?: string;
}

export interface ImportedNetwork {
  readonly format: ModelFormat;
  readonly graph: ModelGraph;
  /** The layout used (declared or inferred). */
  readonly layout: InputLayout;
  /** Facts about the source worth recording in qrobust.json (producer, opset, op counts, ...). */
  readonly details: Readonly<Record<string, unknown>>;
  /** How a quantized source computes at run time, when that differs from the float graph (see below). */
  readonly sourceQuantization?: SourceQuantization;
}

/**
 * One weight layer of a dynamic-range ("hybrid") quantized source: integer weights, float activations that the
 * layer quantizes on the fly per example, an integer accumulator rescaled to float (TFLite's hybrid kernels).
 */
export interface DynamicRangeLayer {
  /** The graph node (conv2d/dense) and its position among the graph's conv2d/dense nodes. */
  readonly node: string;
  readonly weightIndex: number;
  /** The source operator, e.g. `FULLY_CONNECTED`. */
  readonly op: string;
  readonly weightBits: number;
  /** One per tensor, or one per output channel (the graph kernel's last axis). */
  readonly weightScale: readonly number[];
  readonly weightZeroPoint: readonly number[];
  /** How the layer quantizes its float input: symmetric (±127, zero point 0) or asymmetric ([−128, 127]). */
  readonly inputQuantization: 'symmetric' | 'asymmetric';
  readonly inputBits: number;
}

/** A source's run-time quantization, serializable as it is into qrobust.json. */
export interface SourceQuantization {
  readonly kind: 'dynamic-range';
  readonly version: 1;
  /** The runtime whose kernels define the semantics (`tflite`). */
  readonly runtime: string;
  /** The quantized weight layers, in graph order; weight layers not listed compute in float. */
  readonly layers: readonly DynamicRangeLayer[];
}
