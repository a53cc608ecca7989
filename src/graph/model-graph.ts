/**
 * The model graph: a framework-free DAG of layers that every model source produces (the importers for ONNX,
 * TFLite, Keras HDF5; the zoo) and from which the TF.js layers model is built (`import/build-layers.ts`).
 *
 * Conventions, fixed for every source:
 * - Activations are per-example tensors in NHWC: images and feature maps are `[H, W, C]`, vectors `[N]`. The
 *   graph's input is the dataset's image `[H, W, C]` in the network's own input units (after the declared
 *   preprocessing, which the builder puts in front as a `Normalize` layer). A source whose layout is NCHW
 *   converts to NHWC when it builds the graph (kernels transposed, axes remapped); `flatten` keeps the source's
 *   element order explicit (`chw` is what PyTorch/ONNX flatten of an NCHW tensor gives).
 * - Conv kernels are `[kh, kw, inChannels / groups, outChannels]` and dense kernels `[in, out]` (TF.js/Keras),
 *   so the output-channel axis of every kernel is its last axis. Weights are float32 as the source stores them
 *   (dequantized for a quantized source, whose quantizers are recorded separately).
 * - Nodes are in topological order; `inputs` name earlier nodes or the graph input.
 */

/** Explicit padding `[top, bottom, left, right]`, or TF's 'same'/'valid' rules. */
export type Padding2D = 'same' | 'valid' | readonly [number, number, number, number];

/** An activation applied elementwise (fused into conv/dense, or as its own node). */
export type Activation =
  | { readonly kind: 'linear' }
  | { readonly kind: 'relu' }
  /** min(max(x, min), max): ReLU6 is { min: 0, max: 6 }. */
  | { readonly kind: 'clip'; readonly min: number; readonly max: number }
  | { readonly kind: 'leakyRelu'; readonly alpha: number }
  | { readonly kind: 'sigmoid' }
  | { readonly kind: 'tanh' }
  /** sign(x) in {-1, +1} (binarized networks; sign(0) = +1 unless the source says otherwise). */
  | { readonly kind: 'sign'; readonly zeroTo: 1 | -1 | 0 };

export interface Conv2DOp {
  readonly kind: 'conv2d';
  readonly kernel: Float32Array;
  /** `[kh, kw, inChannels / groups, outChannels]`. */
  readonly kernelShape: readonly [number, number, number, number];
  /** Length `outChannels` (zeros when the source has no bias). */
  readonly bias: Float32Array;
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly padding: Padding2D;
  /** 1: ordinary; inChannels: depthwise (outChannels = multiplier · inChannels). */
  readonly groups: number;
  readonly activation: Activation;
}

export interface DenseOp {
  readonly kind: 'dense';
  readonly kernel: Float32Array;
  /** `[in, out]`. */
  readonly kernelShape: readonly [number, number];
  readonly bias: Float32Array;
  readonly activation: Activation;
}

export interface Pool2DOp {
  readonly kind: 'maxPool' | 'avgPool';
  readonly poolSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: Padding2D;
  /** avgPool with explicit padding: whether padded zeros count in the divisor (ONNX count_include_pad). */
  readonly countIncludePad?: boolean;
}

/** Mean over H and W: `[H, W, C]` → `[C]`. */
export interface GlobalAvgPoolOp {
  readonly kind: 'globalAvgPool';
}

/** `x · scale + offset` per channel (last axis); inference batch norm and constant Mul/Add fold into it. */
export interface ChannelAffineOp {
  readonly kind: 'channelAffine';
  readonly scale: Float32Array;
  readonly offset: Float32Array;
}

/** `[H, W, C]` → vector, in `hwc` (TF/Keras) or `chw` (PyTorch/ONNX on NCHW) element order. */
export interface FlattenOp {
  readonly kind: 'flatten';
  readonly order: 'hwc' | 'chw';
}

export interface ActivationOp {
  readonly kind: 'activation';
  readonly activation: Activation;
}

/** Elementwise sum of two or more inputs of equal shape (residual blocks). */
export interface AddOp {
  readonly kind: 'add';
}

/** Concatenation along a per-example axis (−1: channels). */
export interface ConcatOp {
  readonly kind: 'concat';
  readonly axis: number;
}

/** Constant spatial padding of `[H, W, C]`. */
export interface Pad2DOp {
  readonly kind: 'pad';
  readonly pads: readonly [number, number, number, number];
  readonly value: number;
}

export type GraphOp =
  | Conv2DOp
  | DenseOp
  | Pool2DOp
  | GlobalAvgPoolOp
  | ChannelAffineOp
  | FlattenOp
  | ActivationOp
  | AddOp
  | ConcatOp
  | Pad2DOp;

export type GraphOpKind = GraphOp['kind'];

export interface GraphNode {
  /** Unique; also the TF.js layer name (sanitized by the builder). */
  readonly name: string;
  readonly op: GraphOp;
  /** Names of earlier nodes, or `MODEL_INPUT`. */
  readonly inputs: readonly string[];
}

/** The name by which nodes refer to the graph input. */
export const MODEL_INPUT = 'input';

export interface ModelGraph {
  /** Per-example input shape `[H, W, C]` (the dataset's image). */
  readonly inputShape: readonly [number, number, number];
  readonly nodes: readonly GraphNode[];
  /** The node whose output is the logits vector. */
  readonly output: string;
}
