/**
 * qrobust model directory → NetworkIR. The layer graph (`models/graph.ts`) is resolved against the directory's
 * quantization plan, if any, with `prepareGraph`, the same preparation the fake-quant and integer executors use,
 * so the IR computes what the fake-quant (simulated) model computes:
 *
 * - `normalize`: the affine diagonal (x − f32(mean)) · f32(1/std) per channel, with the float32 constants the
 *   layer uses;
 * - the input quantizer, after the normalize step (or on the raw input when there is none);
 * - `conv2d`: a CSR matrix in NHWC order (TF.js's flatten order, 'same' padding with the odd pixel at the end),
 *   `dense`: a dense matrix; both with the *dequantized* kernel and the bias the quantized model adds (on the
 *   int32 grid when it has one); a fused ReLU becomes a `relu` step, the activation quantizer a `quantize` step;
 * - `maxPool`: groups of NHWC indices; `flatten`: nothing (NHWC flattening keeps the order); `relu`: relu.
 *
 * A dynamic-range import (TFLite hybrid, ONNX Runtime dynamic quantization) gets the run-time input quantizer
 * of each recorded layer as a `dynamicQuantize` step in front of the layer, so its IR computes what the
 * deployed hybrid network computes (up to float32 rounding).
 *
 * Consecutive linear steps (normalize and the first convolution, say, when the input is not quantized) are
 * folded into one affine step by `IrBuilder`. The IR evaluates in float64, the model in float32: outputs agree
 * to float32 rounding, except that a value lying within that rounding of a quantizer's threshold may round to
 * the neighbouring code.
 */
import { QrobustError } from '../core/errors.js';
import { modelGraphFromLayers } from '../graph/from-layers.js';
import { convOutputSize, graphFromModel, padBefore, type Conv2DStep, type LayerGraph, type MaxPoolStep } from '../models/graph.js';
import { loadModel } from '../models/io.js';
import { readMetadata } from '../models/metadata.js';
import { refuseInputMap } from '../defenses/input-map-guard.js';
import { prepareGraph, type PreparedGraph, type PreparedStep } from '../quant/plan.js';
import { isQuantizedMeta, loadQuantizedModel } from '../quant/quantized-dir.js';
import type { QuantParams } from '../quant/quantizer.js';
import { convMatrix, poolGroups, type WindowGeometry } from './bounds/conv-matrix.js';
import { IrBuilder } from './bounds/ir-builder.js';
import { denseMatrix } from './bounds/matrix.js';
import { irFromModelGraph } from './from-graph.js';
import type { NetworkIR } from './ir.js';
import type { DynamicRangeLayer } from '../import/types.js';
import { layersByStep, sourceQuantizationOf } from '../quant/hybrid/record.js';

/**
 * Builds the IR of a model directory: the float model for a plain directory, the fake-quant model for a
 * quantized one. A float model that is not a chain of the layer graph's layers (branches, average pooling,
 * LeakyReLU, ...) is read as its model graph (`graph/from-layers.ts`) and lowered by `from-graph.ts`.
 * @throws QrobustError('not_a_model') and the loaders' other errors for a directory that is not a qrobust
 *   model, QrobustError('unsupported_layer') for a layer the layer graph does not support.
 */
export async function irFromModelDir(dir: string): Promise<NetworkIR> {
  const meta = await readMetadata(dir);
  refuseInputMap(meta, dir, 'verification');
  if (isQuantizedMeta(meta)) {
    const qm = await loadQuantizedModel(dir);
    return irFromPreparedGraph(prepareGraph(qm.graph, qm.plan), dir);
  }
  const source = sourceQuantizationOf(meta, dir);
  const loaded = await loadModel(dir);
  try {
    if (source?.kind === 'dynamic-range') {
      // The deployed hybrid network: its float graph holds the dequantized weights; each recorded layer's input
      // goes through the runtime's input quantizer first.
      const asymmetric = source.layers.find((l) => l.inputQuantization === 'asymmetric');
      if (asymmetric) {
        // TFLite's asymmetric hybrid kernel subtracts the zero-point correction in float32 and truncates: an
        // error the IR's float32 margins do not cover.
        throw new QrobustError('not_integer_executable', `${dir}: layer '${asymmetric.node}' quantizes its input asymmetrically at run time (TFLite's asymmetric_quantize_inputs), which the verifier does not bound yet`);
      }
      const graph = graphFromModel(loaded.model);
      return irFromPreparedGraph(prepareGraph(graph, null), dir, layersByStep(graph, source.layers));
    }
    let graph: LayerGraph;
    try {
      graph = graphFromModel(loaded.model);
    } catch (e) {
      if (!(e instanceof QrobustError && e.code === 'unsupported_layer')) throw e;
      // Not a chain of the quantizable layers (branches, average pooling, ...): the exact IR of its model graph.
      const { graph: dag, front } = modelGraphFromLayers(loaded.model);
      return irFromModelGraph(dag, front, dir);
    }
    return irFromPreparedGraph(prepareGraph(graph, null), dir);
  } finally {
    loaded.model.dispose();
  }
}

/** The IR of a prepared layer graph (a float graph when it was prepared with no plan). */
export function irFromPreparedGraph(prepared: PreparedGraph, source: string, dynamicInputs?: ReadonlyMap<number, DynamicRangeLayer>): NetworkIR {
  const graph = prepared.graph;
  const [h, w, c] = graph.inputShape;
  const b = new IrBuilder(h * w * c, source);
  if (prepared.inputAfter === -1 && prepared.input) addQuantizer(b, prepared.input, c, 'input quantizer');
  prepared.steps.forEach((ps, i) => {
    const s = ps.step;
    const dynamic = dynamicInputs?.get(i);
    if (dynamic) b.dynamicQuantize(dynamic.inputQuantization, `${s.name}/input quantizer`);
    switch (s.kind) {
      case 'normalize': {
        const size = b.currentSize;
        const channels = s.inputShape[s.inputShape.length - 1]!;
        const shift = new Float64Array(size);
        const factor = new Float64Array(size);
        for (let k = 0; k < size; k++) {
          const ch = s.mean.length === 1 ? 0 : k % channels;
          shift[k] = -Math.fround(s.mean[ch]!);
          factor[k] = Math.fround(1 / s.std[ch]!);
        }
        b.add(shift, s.name);
        b.scale(factor, s.name);
        if (i === prepared.inputAfter && prepared.input) addQuantizer(b, prepared.input, channels, 'input quantizer');
        break;
      }
      case 'conv2d':
        addConv(b, s, ps);
        break;
      case 'dense': {
        const [nIn, nOut] = s.kernelShape;
        const kernel = ps.kernel ? ps.kernel.dequantized : s.kernel;
        const data = new Float64Array(nIn * nOut);
        for (let o = 0; o < nOut; o++) for (let k = 0; k < nIn; k++) data[o * nIn + k] = kernel[k * nOut + o]!;
        b.linear(denseMatrix(nOut, nIn, data), Float64Array.from(ps.bias ?? s.bias), s.name);
        addActivation(b, s.activation, ps, nOut, s.name);
        break;
      }
      case 'maxPool':
        addMaxPool(b, s);
        break;
      case 'flatten':
        break;
      case 'relu':
        b.relu(s.name);
        break;
      default:
        throw new QrobustError('unsupported_layer', `${source}: step '${(s as { name: string }).name}' is not supported by the verifier`);
    }
  });
  return b.finish(graph.inputShape);
}

/** A quantizer step; per-channel parameters are expanded along the last (channel) axis of the NHWC vector. */
function addQuantizer(b: IrBuilder, p: QuantParams, channels: number, name: string): void {
  const size = b.currentSize;
  if (p.scale.length === 1) {
    b.quantize(Float64Array.of(p.scale[0]!), Float64Array.of(p.zeroPoint[0]!), p.qmin, p.qmax, name);
    return;
  }
  if (p.scale.length !== channels) throw new QrobustError('shape_mismatch', `quantizer '${name}' has ${p.scale.length} scales for ${channels} channels`);
  const scale = new Float64Array(size);
  const zeroPoint = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    scale[k] = p.scale[k % channels]!;
    zeroPoint[k] = p.zeroPoint[k % channels]!;
  }
  b.quantize(scale, zeroPoint, p.qmin, p.qmax, name);
}

function addActivation(b: IrBuilder, activation: 'relu' | 'linear', ps: PreparedStep, channels: number, name: string): void {
  if (activation === 'relu') b.relu(`${name}/relu`);
  if (ps.output) addQuantizer(b, ps.output, channels, `${name}/quantizer`);
}

function windowGeometry(inShape: readonly number[], kernel: readonly [number, number], strides: readonly [number, number], padding: 'same' | 'valid'): WindowGeometry {
  const [inH, inW, channels] = inShape as [number, number, number];
  return {
    channels,
    inH,
    inW,
    outH: convOutputSize(inH, kernel[0], strides[0], padding),
    outW: convOutputSize(inW, kernel[1], strides[1], padding),
    kernelH: kernel[0],
    kernelW: kernel[1],
    strideH: strides[0],
    strideW: strides[1],
    padTop: padBefore(inH, kernel[0], strides[0], padding),
    padLeft: padBefore(inW, kernel[1], strides[1], padding),
    dilationH: 1,
    dilationW: 1,
  };
}

function addConv(b: IrBuilder, s: Conv2DStep, ps: PreparedStep): void {
  const [kh, kw, ci, co] = s.kernelShape;
  const kernel = ps.kernel ? ps.kernel.dequantized : s.kernel;
  const g = windowGeometry(s.inputShape, [kh, kw], s.strides, s.padding);
  const m = convMatrix(g, co, 'NHWC', (oc, ic, y, x) => kernel[((y * kw + x) * ci + ic) * co + oc]!);
  const bias = ps.bias ?? s.bias;
  const full = new Float64Array(g.outH * g.outW * co);
  for (let k = 0; k < full.length; k++) full[k] = bias[k % co]!;
  b.linear(m, full, s.name);
  addActivation(b, s.activation, ps, co, s.name);
}

function addMaxPool(b: IrBuilder, s: MaxPoolStep): void {
  const g = windowGeometry(s.inputShape, s.poolSize, s.strides, s.padding);
  const { offsets, indices } = poolGroups(g, 'NHWC');
  b.maxpool(offsets, indices, s.name);
}
