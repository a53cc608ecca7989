/**
 * Export of a float layer graph to ONNX (opset 13), so that a qrobust model (or the float weights of a quantized
 * one) runs in ONNX Runtime or any ONNX back end with the logits TF.js computes.
 *
 * Graph (input `pixels`: float32 NHWC `[batch, H, W, C]` in the model's pixel range, as every qrobust model takes
 * it; the batch dimension is symbolic):
 *   normalize → Sub mean, Mul 1/std (float32, as the `Normalize` layer computes it)
 *   conv2d    → Conv in NCHW (kernel `[co, ci, kh, kw]`, TF's padding as explicit pads), then Relu when fused
 *   maxPool   → MaxPool in NCHW with explicit pads
 *   flatten   → Transpose back to NHWC, then Flatten, so that the next dense layer sees TF.js's (h, w, c) order
 *               (the Gemm rows keep TF.js's order; they are not permuted)
 *   dense     → Gemm with the `[in, out]` kernel and the bias, then Relu when fused
 *   relu      → Relu
 *   output `logits` float32 `[batch, classes]`.
 * A Transpose to NCHW is placed before the first convolution or pooling after an NHWC tensor only (see
 * `nhwc-layout.ts`).
 */
import { QrobustError } from '../core/errors.js';
import { transposeIndices } from '../onnx/constants.js';
import { exportedModel, GraphBuilder, normalizeNodes, PIXELS_INPUT } from '../onnx/graph-builder.js';
import type { OnnxModel } from '../onnx/model.js';
import { flattenNhwc, toLayout, windowAttributes, type Layout, type Window } from '../onnx/nhwc-layout.js';
import { DataType } from '../onnx/schema.js';
import { padBefore, type Conv2DStep, type DenseStep, type LayerGraph, type LayerStep, type MaxPoolStep, type StepShape } from './graph.js';

/** The graph output: float32 logits `[batch, outputSize]`. */
export const LOGITS_OUTPUT = 'logits';

function refuse(step: LayerStep, problem: string): QrobustError {
  return new QrobustError('invalid_model', `ONNX export: step '${step.name}' (${step.kind}): ${problem}`);
}

function size(shape: StepShape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Checks that a step's weights and shapes are consistent, so that the ONNX graph computes what the step does. */
function checkStep(step: LayerStep): void {
  switch (step.kind) {
    case 'normalize': {
      const c = step.inputShape[step.inputShape.length - 1]!;
      if (step.mean.length !== step.std.length || (step.mean.length !== 1 && step.mean.length !== c)) {
        throw refuse(step, `${step.mean.length} means and ${step.std.length} stds for ${c} channels (expected 1 or ${c} of each)`);
      }
      if (step.std.some((s) => !(s > 0))) throw refuse(step, 'every std must be positive');
      return;
    }
    case 'conv2d':
    case 'dense': {
      const co = step.kernelShape[step.kernelShape.length - 1]!;
      if (step.kernel.length !== size(step.kernelShape)) throw refuse(step, `kernel has ${step.kernel.length} values, shape [${step.kernelShape.join(',')}] needs ${size(step.kernelShape)}`);
      if (step.bias.length !== co) throw refuse(step, `bias has ${step.bias.length} values for ${co} outputs`);
      const fanIn = step.kind === 'dense' ? step.kernelShape[0] : step.kernelShape[2];
      const inputs = step.kind === 'dense' ? size(step.inputShape) : step.inputShape[2];
      if (fanIn !== inputs) throw refuse(step, `kernel takes ${fanIn} inputs, the step's input shape [${step.inputShape.join(',')}] gives ${inputs}`);
      return;
    }
    case 'maxPool':
    case 'flatten':
    case 'relu':
      return;
  }
}

/** The window of a conv2d or maxPool step, with TF's padding rule resolved to the top and left pads. */
function windowOf(s: Conv2DStep | MaxPoolStep, size: readonly [number, number]): Window {
  const [h, w] = s.inputShape as [number, number];
  return {
    inShape: s.inputShape,
    outShape: s.outputShape,
    size,
    strides: s.strides,
    padTop: padBefore(h, size[0], s.strides[0], s.padding),
    padLeft: padBefore(w, size[1], s.strides[1], s.padding),
  };
}

function conv(b: GraphBuilder, x: string, s: Conv2DStep): string {
  const [kh, kw, ci, co] = s.kernelShape;
  // TF.js [kh, kw, ci, co] → ONNX [co, ci, kh, kw].
  const order = transposeIndices([kh, kw, ci, co], [3, 2, 0, 1]);
  const w = b.constant(`${s.name}_w`, DataType.FLOAT, [co, ci, kh, kw], Float32Array.from(order, (i) => s.kernel[i]!));
  const bias = b.constant(`${s.name}_bias`, DataType.FLOAT, [co], Float32Array.from(s.bias));
  return b.node('Conv', [x, w, bias], windowAttributes(windowOf(s, [kh, kw])), s.name);
}

function maxPool(b: GraphBuilder, x: string, s: MaxPoolStep): string {
  return b.node('MaxPool', [x], windowAttributes(windowOf(s, s.poolSize)), s.name);
}

function gemm(b: GraphBuilder, x: string, s: DenseStep): string {
  const w = b.constant(`${s.name}_w`, DataType.FLOAT, [...s.kernelShape], Float32Array.from(s.kernel));
  const bias = b.constant(`${s.name}_bias`, DataType.FLOAT, [s.kernelShape[1]], Float32Array.from(s.bias));
  return b.node('Gemm', [x, w, bias], [], s.name);
}

/**
 * The ONNX model of a float layer graph (see the module comment). `name` goes into the graph's name.
 * @throws QrobustError('invalid_model') naming the step when a step's weights or shapes are inconsistent, or the
 *   graph does not end in a vector of `outputSize` logits.
 */
export function layerGraphToOnnx(graph: LayerGraph, name: string): OnnxModel {
  const last = graph.steps[graph.steps.length - 1];
  const finalShape = last ? last.outputShape : graph.inputShape;
  if (finalShape.length !== 1 || finalShape[0] !== graph.outputSize) {
    throw new QrobustError('invalid_model', `ONNX export: graph '${name}' ends in shape [${finalShape.join(',')}], expected a vector of ${graph.outputSize} logits`);
  }
  const b = new GraphBuilder();
  let x = PIXELS_INPUT;
  let layout: Layout = 'NHWC';
  for (const s of graph.steps) {
    checkStep(s);
    switch (s.kind) {
      case 'normalize':
        // Sub and Mul broadcast over the last axis, which must be the channel axis.
        x = toLayout(b, x, layout, 'NHWC');
        layout = layout === 'flat' ? 'flat' : 'NHWC';
        x = normalizeNodes(b, x, Float32Array.from(s.mean), Float32Array.from(s.std, (v) => 1 / v));
        break;
      case 'conv2d':
        x = conv(b, toLayout(b, x, layout, 'NCHW'), s);
        layout = 'NCHW';
        if (s.activation === 'relu') x = b.node('Relu', [x]);
        break;
      case 'maxPool':
        x = maxPool(b, toLayout(b, x, layout, 'NCHW'), s);
        layout = 'NCHW';
        break;
      case 'flatten':
        x = flattenNhwc(b, x, layout);
        layout = 'flat';
        break;
      case 'dense':
        x = gemm(b, flattenNhwc(b, x, layout), s);
        layout = 'flat';
        if (s.activation === 'relu') x = b.node('Relu', [x]);
        break;
      case 'relu':
        x = b.node('Relu', [x]);
        break;
    }
  }
  b.output('Identity', [x], LOGITS_OUTPUT);
  return exportedModel({
    name,
    docString: 'Float export of a qrobust model; input: float32 NHWC pixels in the model\'s pixel range; output: logits.',
    builder: b,
    inputShape: graph.inputShape,
    outputs: [{ name: LOGITS_OUTPUT, elemType: DataType.FLOAT, size: graph.outputSize }],
  });
}
