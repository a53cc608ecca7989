/**
 * Writes small TFLite flatbuffers for the importer tests (no tests in here), with the flatc-generated builder
 * functions, from a plain description: tensors (shape, type, constant values, quantization) and operators.
 */
import * as flatbuffers from 'flatbuffers';
import { ActivationFunctionType } from '../../src/import/tflite/schema/tflite/activation-function-type.js';
import { AddOptions } from '../../src/import/tflite/schema/tflite/add-options.js';
import { Buffer as TflBuffer } from '../../src/import/tflite/schema/tflite/buffer.js';
import { BuiltinOperator } from '../../src/import/tflite/schema/tflite/builtin-operator.js';
import { BuiltinOptions } from '../../src/import/tflite/schema/tflite/builtin-options.js';
import { Conv2DOptions } from '../../src/import/tflite/schema/tflite/conv2doptions.js';
import { DepthwiseConv2DOptions } from '../../src/import/tflite/schema/tflite/depthwise-conv2doptions.js';
import { FullyConnectedOptions } from '../../src/import/tflite/schema/tflite/fully-connected-options.js';
import { Model } from '../../src/import/tflite/schema/tflite/model.js';
import { Operator } from '../../src/import/tflite/schema/tflite/operator.js';
import { OperatorCode } from '../../src/import/tflite/schema/tflite/operator-code.js';
import { Padding } from '../../src/import/tflite/schema/tflite/padding.js';
import { Pool2DOptions } from '../../src/import/tflite/schema/tflite/pool2doptions.js';
import { QuantizationParameters } from '../../src/import/tflite/schema/tflite/quantization-parameters.js';
import { ReshapeOptions } from '../../src/import/tflite/schema/tflite/reshape-options.js';
import { SoftmaxOptions } from '../../src/import/tflite/schema/tflite/softmax-options.js';
import { SubGraph } from '../../src/import/tflite/schema/tflite/sub-graph.js';
import { Tensor } from '../../src/import/tflite/schema/tflite/tensor.js';
import { TensorType } from '../../src/import/tflite/schema/tflite/tensor-type.js';

export type Act = keyof typeof ActivationFunctionType;

export interface TensorSpec {
  readonly shape: readonly number[];
  readonly type: 'FLOAT32' | 'INT8' | 'INT32';
  /** Constant values (integers for INT8/INT32). */
  readonly values?: ArrayLike<number>;
  readonly quant?: { readonly scale: readonly number[]; readonly zeroPoint: readonly number[]; readonly dim: number };
}

export type OptionsSpec =
  | { readonly kind: 'fc'; readonly act: Act; readonly asymmetric?: boolean }
  | { readonly kind: 'conv' | 'depthwise'; readonly act: Act; readonly padding: 'SAME' | 'VALID'; readonly stride: [number, number]; readonly multiplier?: number }
  | { readonly kind: 'pool'; readonly act: Act; readonly padding: 'SAME' | 'VALID'; readonly stride: [number, number]; readonly filter: [number, number] }
  | { readonly kind: 'add'; readonly act: Act }
  | { readonly kind: 'reshape'; readonly shape: readonly number[] }
  | { readonly kind: 'softmax'; readonly beta: number };

export interface OpSpec {
  readonly op: keyof typeof BuiltinOperator;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options?: OptionsSpec;
}

export interface ModelSpec {
  readonly tensors: readonly TensorSpec[];
  readonly ops: readonly OpSpec[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

function bytesOf(t: TensorSpec): Uint8Array {
  const v = Array.from(t.values ?? []);
  const typed = t.type === 'FLOAT32' ? Float32Array.from(v) : t.type === 'INT8' ? Int8Array.from(v) : Int32Array.from(v);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function options(b: flatbuffers.Builder, o: OptionsSpec): [BuiltinOptions, flatbuffers.Offset] {
  const act = (a: Act): ActivationFunctionType => ActivationFunctionType[a];
  switch (o.kind) {
    case 'fc':
      return [BuiltinOptions.FullyConnectedOptions, FullyConnectedOptions.createFullyConnectedOptions(b, act(o.act), 0, false, o.asymmetric ?? false)];
    case 'conv':
      Conv2DOptions.startConv2DOptions(b);
      Conv2DOptions.addPadding(b, Padding[o.padding]);
      Conv2DOptions.addStrideH(b, o.stride[0]);
      Conv2DOptions.addStrideW(b, o.stride[1]);
      Conv2DOptions.addFusedActivationFunction(b, act(o.act));
      return [BuiltinOptions.Conv2DOptions, Conv2DOptions.endConv2DOptions(b)];
    case 'depthwise':
      DepthwiseConv2DOptions.startDepthwiseConv2DOptions(b);
      DepthwiseConv2DOptions.addPadding(b, Padding[o.padding]);
      DepthwiseConv2DOptions.addStrideH(b, o.stride[0]);
      DepthwiseConv2DOptions.addStrideW(b, o.stride[1]);
      DepthwiseConv2DOptions.addDepthMultiplier(b, o.multiplier ?? 1);
      DepthwiseConv2DOptions.addFusedActivationFunction(b, act(o.act));
      return [BuiltinOptions.DepthwiseConv2DOptions, DepthwiseConv2DOptions.endDepthwiseConv2DOptions(b)];
    case 'pool':
      Pool2DOptions.startPool2DOptions(b);
      Pool2DOptions.addPadding(b, Padding[o.padding]);
      Pool2DOptions.addStrideH(b, o.stride[0]);
      Pool2DOptions.addStrideW(b, o.stride[1]);
      Pool2DOptions.addFilterHeight(b, o.filter[0]);
      Pool2DOptions.addFilterWidth(b, o.filter[1]);
      Pool2DOptions.addFusedActivationFunction(b, act(o.act));
      return [BuiltinOptions.Pool2DOptions, Pool2DOptions.endPool2DOptions(b)];
    case 'add':
      return [BuiltinOptions.AddOptions, AddOptions.createAddOptions(b, act(o.act))];
    case 'reshape':
      return [BuiltinOptions.ReshapeOptions, ReshapeOptions.createReshapeOptions(b, ReshapeOptions.createNewShapeVector(b, [...o.shape]))];
    case 'softmax':
      return [BuiltinOptions.SoftmaxOptions, SoftmaxOptions.createSoftmaxOptions(b, o.beta)];
  }
}

/** The flatbuffer of a one-subgraph model (buffer 0 is the empty sentinel, as TFLite writes it). */
export function buildTflite(spec: ModelSpec): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const buffers: flatbuffers.Offset[] = [TflBuffer.createBuffer(b, 0, 0n, 0n)];
  const tensors = spec.tensors.map((t, i) => {
    let buffer = 0;
    if (t.values) {
      buffers.push(TflBuffer.createBuffer(b, TflBuffer.createDataVector(b, bytesOf(t)), 0n, 0n));
      buffer = buffers.length - 1;
    }
    const name = b.createString(`t${i}`);
    const shape = Tensor.createShapeVector(b, [...t.shape]);
    let quant = 0;
    if (t.quant) {
      const scale = QuantizationParameters.createScaleVector(b, [...t.quant.scale]);
      const zp = QuantizationParameters.createZeroPointVector(b, t.quant.zeroPoint.map((z) => BigInt(z)));
      quant = QuantizationParameters.createQuantizationParameters(b, 0, 0, scale, zp, 0, 0, t.quant.dim);
    }
    Tensor.startTensor(b);
    Tensor.addShape(b, shape);
    Tensor.addType(b, TensorType[t.type]);
    Tensor.addBuffer(b, buffer);
    Tensor.addName(b, name);
    if (quant) Tensor.addQuantization(b, quant);
    return Tensor.endTensor(b);
  });
  const names = [...new Set(spec.ops.map((o) => o.op))];
  const codes = names.map((n) => OperatorCode.createOperatorCode(b, Math.min(BuiltinOperator[n], 127), 0, 1, BuiltinOperator[n]));
  const ops = spec.ops.map((o) => {
    const [type, opts] = o.options ? options(b, o.options) : [BuiltinOptions.NONE, 0];
    return Operator.createOperator(b, names.indexOf(o.op), Operator.createInputsVector(b, [...o.inputs]), Operator.createOutputsVector(b, [...o.outputs]), type, opts);
  });
  const sub = SubGraph.createSubGraph(
    b,
    SubGraph.createTensorsVector(b, tensors),
    SubGraph.createInputsVector(b, [...spec.inputs]),
    SubGraph.createOutputsVector(b, [...spec.outputs]),
    SubGraph.createOperatorsVector(b, ops),
    b.createString('main'),
  );
  const model = Model.createModel(b, 3, Model.createOperatorCodesVector(b, codes), Model.createSubgraphsVector(b, [sub]), b.createString('qrobust test'), Model.createBuffersVector(b, buffers));
  Model.finishModelBuffer(b, model);
  return b.asUint8Array().slice();
}
