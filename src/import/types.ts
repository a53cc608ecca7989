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
 * layer quantizes on the fly per example, an integer accumulator rescaled to float (TFLite's hybrid kernels,
 * ONNX Runtime's dynamic quantization).
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
  /** How the layer quantizes its float input at run time. */
  readonly inputQuantization: DynamicInputQuantization;
  readonly inputBits: number;
}

/**
 * A dynamic-range layer's input quantizer: TFLite's per-example `symmetric` (±127, zero point 0) or
 * `asymmetric` ([−128, 127]) ones, or ONNX's `DynamicQuantizeLinear` (uint8 [0, 255] over the example's whole
 * tensor, round half to even), which ONNX Runtime's dynamic quantization puts in front of `MatMulInteger` and
 * `ConvInteger`.
 */
export type DynamicInputQuantization = 'symmetric' | 'asymmetric' | 'dynamic-quantize-linear';
export const DYNAMIC_INPUT_QUANTIZATIONS: readonly DynamicInputQuantization[] = ['symmetric', 'asymmetric', 'dynamic-quantize-linear'];

/** Dynamic-range quantization: serializable as it is into qrobust.json. */
export interface DynamicRangeQuantization {
  readonly kind: 'dynamic-range';
  readonly version: 1;
  /** The runtime whose kernels define the semantics (`tflite` or `onnxruntime`). */
  readonly runtime: string;
  /** The quantized weight layers, in graph order; weight layers not listed compute in float. */
  readonly layers: readonly DynamicRangeLayer[];
}

/** An affine grid `real = scale · (q − zeroPoint)` of one tensor (per tensor). */
export interface TensorGrid {
  readonly bits: number;
  readonly scale: number;
  readonly zeroPoint: number;
}

/** One weight layer of a full-integer source: integer weights, integer input and output grids. */
export interface FullIntegerLayer {
  readonly node: string;
  readonly weightIndex: number;
  readonly op: string;
  readonly weightBits: number;
  /** One per tensor, or one per output channel (the graph kernel's last axis); zero points 0 (symmetric). */
  readonly weightScale: readonly number[];
  /** The grid of the layer's output (after its fused activation). */
  readonly output: TensorGrid;
}

/** Full-integer quantization (int8 activations, int32 accumulators, fixed-point requantization). */
export interface FullIntegerQuantization {
  readonly kind: 'full-integer';
  readonly version: 1;
  readonly runtime: string;
  /** The grid the model quantizes its input to (the first QUANTIZE, or an integer input tensor). */
  readonly input: TensorGrid;
  /** Every weight layer, in graph order. */
  readonly layers: readonly FullIntegerLayer[];
}

/** A source's run-time quantization, serializable as it is into qrobust.json. */
export type SourceQuantization = DynamicRangeQuantization | FullIntegerQuantization;
