/**
 * Export of an integer program to ONNX in ONNX Runtime's "QOperator" form, so that the deployed model can be run
 * by ONNX Runtime (or any ONNX back end) and compared code for code with qrobust's integer path in its
 * 'onnxruntime' rounding mode.
 *
 * Graph (input `pixels`: float32 NHWC in [0, 1], as every qrobust model takes it):
 *   [Sub mean → Mul 1/std] → QuantizeLinear → (Max/Min when the input grid is narrower than int8)
 *   → per weight layer: QLinearConv (convolutions in NCHW; dense layers as 1×1 convolutions on [N, K, 1, 1])
 *     with the int32 bias on the s_in·s_w grid, then Max/Min where the layer's clamp is narrower than int8
 *     (a fused ReLU whose zero point is above qmin, or fewer than 8 bits)
 *   → MaxPool and Max (ReLU on codes) directly on int8 codes
 *   → outputs `codes` (int8 logits codes) and `logits` (DequantizeLinear of them).
 * Layout changes (NHWC ↔ NCHW) are Transpose nodes placed so that a dense layer after convolutions sees its input
 * in TF.js's NHWC flatten order. Weights must be symmetric (zero point 0), which is what ONNX Runtime's int8
 * kernels expect; activations and inputs may have any width up to 8 bits.
 */
import { QrobustError } from '../../core/errors.js';
import { DataType } from '../../onnx/schema.js';
import { exportedModel, GraphBuilder, ints, normalizeNodes, PIXELS_INPUT } from '../../onnx/graph-builder.js';
import type { OnnxAttribute, OnnxModel } from '../../onnx/model.js';
import { flattenNhwc, toLayout, windowAttributes, type Layout } from '../../onnx/nhwc-layout.js';
import type { IntConvOp, IntDenseOp, IntegerProgram, Requant } from './program.js';

const INT8_MIN = -128;
const INT8_MAX = 127;

function checkInt8(what: string, lo: number, hi: number): void {
  if (lo < INT8_MIN || hi > INT8_MAX) {
    throw new QrobustError('invalid_argument', `ONNX export: ${what} has codes in [${lo}, ${hi}], outside int8; only grids of at most 8 bits with int8 codes can be exported`);
  }
}

/** Max/Min nodes that clamp int8 codes to [lo, hi] when that is narrower than int8 saturation. */
function clampCodes(b: GraphBuilder, x: string, lo: number, hi: number): string {
  let y = x;
  if (lo > INT8_MIN) y = b.node('Max', [y, b.scalarInt8('clamp_lo', lo)], [], 'clamp');
  if (hi < INT8_MAX) y = b.node('Min', [y, b.scalarInt8('clamp_hi', hi)], [], 'clamp');
  return y;
}

/** The int32 bias, the weights as int8 codes [co][ci][kh][kw], and the grids of one weight layer. */
function weightTensors(b: GraphBuilder, op: IntDenseOp | IntConvOp, co: number, ci: number, kh: number, kw: number, name: string): { w: string; wScale: string; wZero: string; bias: string } {
  const { grids } = op;
  if (grids.weightZeroPoint.some((z) => z !== 0)) {
    throw new QrobustError('invalid_argument', `ONNX export: layer '${name}' has affine weights (a non-zero weight zero point); export needs symmetric weights`);
  }
  const k = kh * kw * ci;
  const codes = new Int8Array(co * k);
  for (let o = 0; o < co; o++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        for (let c = 0; c < ci; c++) {
          // qrobust: [co][(ky·kw + kx)·ci + c]; ONNX: [co][c][ky][kx].
          const v = op.weights[o * k + (ky * kw + kx) * ci + c]!;
          if (v < INT8_MIN || v > INT8_MAX) throw new QrobustError('invalid_argument', `ONNX export: layer '${name}' has a weight code ${v} outside int8`);
          codes[o * k + (c * kh + ky) * kw + kx] = v;
        }
      }
    }
  }
  const perChannel = grids.weightScale.length > 1;
  return {
    w: b.constant(`${name}_w`, DataType.INT8, [co, ci, kh, kw], codes),
    wScale: perChannel ? b.constant(`${name}_w_scale`, DataType.FLOAT, [co], Float32Array.from(grids.weightScale)) : b.scalarFloat(`${name}_w_scale`, grids.weightScale[0]!),
    wZero: perChannel ? b.constant(`${name}_w_zero`, DataType.INT8, [co], new Int8Array(co)) : b.scalarInt8(`${name}_w_zero`, 0),
    bias: b.constant(`${name}_bias`, DataType.INT32, [co], Int32Array.from(op.bias)),
  };
}

function qlinearConv(b: GraphBuilder, x: string, op: IntDenseOp | IntConvOp, w: ReturnType<typeof weightTensors>, attrs: OnnxAttribute[], name: string): string {
  const r: Requant = op.requant;
  checkInt8(`layer '${name}'`, r.lo, r.hi);
  const y = b.node(
    'QLinearConv',
    [
      x,
      b.scalarFloat(`${name}_x_scale`, op.grids.inputScale),
      b.scalarInt8(`${name}_x_zero`, op.inZeroPoint),
      w.w,
      w.wScale,
      w.wZero,
      b.scalarFloat(`${name}_y_scale`, op.grids.outputScale),
      b.scalarInt8(`${name}_y_zero`, r.outZeroPoint),
      w.bias,
    ],
    attrs,
    name,
  );
  return clampCodes(b, y, r.lo, r.hi);
}

/** The ONNX model of an integer program (see the module comment). `name` goes into the graph's name. */
export function integerProgramToOnnx(prog: IntegerProgram, name: string): OnnxModel {
  const b = new GraphBuilder();
  const pro = prog.prologue;
  let x = PIXELS_INPUT;
  if (pro.mean && pro.invStd) x = normalizeNodes(b, x, pro.mean, pro.invStd);
  checkInt8('the input grid', pro.params.qmin, pro.params.qmax);
  x = b.node('QuantizeLinear', [x, b.scalarFloat('input_scale', pro.params.scale[0]!), b.scalarInt8('input_zero', pro.params.zeroPoint[0]!)], [], 'input_codes');
  x = clampCodes(b, x, pro.params.qmin, pro.params.qmax);
  let layout: Layout = 'NHWC';
  for (const op of prog.ops) {
    switch (op.op) {
      case 'conv2d': {
        x = toLayout(b, x, layout, 'NCHW');
        layout = 'NCHW';
        const [kh, kw] = op.kernel;
        const wt = weightTensors(b, op, op.outShape[2]!, op.inShape[2]!, kh, kw, op.name);
        const win = { inShape: op.inShape, outShape: op.outShape, size: op.kernel, strides: op.strides, padTop: op.padTop, padLeft: op.padLeft };
        x = qlinearConv(b, x, op, wt, windowAttributes(win), op.name);
        break;
      }
      case 'maxPool': {
        x = toLayout(b, x, layout, 'NCHW');
        layout = 'NCHW';
        const win = { inShape: op.inShape, outShape: op.outShape, size: op.pool, strides: op.strides, padTop: op.padTop, padLeft: op.padLeft };
        x = b.node('MaxPool', [x], windowAttributes(win));
        break;
      }
      case 'relu':
        x = b.node('Max', [x, b.scalarInt8('relu_zero', op.zeroPoint)], [], 'relu');
        break;
      case 'dense': {
        x = flattenNhwc(b, x, layout);
        layout = 'flat';
        const as4d = b.node('Reshape', [x, b.constant('shape', DataType.INT64, [4], BigInt64Array.of(0n, BigInt(op.inSize), 1n, 1n))]);
        const wt = weightTensors(b, op, op.outSize, op.inSize, 1, 1, op.name);
        const y = qlinearConv(b, as4d, op, wt, [ints('kernel_shape', [1, 1])], op.name);
        x = b.node('Reshape', [y, b.constant('shape', DataType.INT64, [2], BigInt64Array.of(0n, BigInt(op.outSize)))]);
        break;
      }
    }
  }
  b.output('Identity', [flattenNhwc(b, x, layout)], 'codes');
  b.output('DequantizeLinear', ['codes', b.scalarFloat('output_scale', prog.output.scale[0]!), b.scalarInt8('output_zero', prog.output.zeroPoint[0]!)], 'logits');
  return exportedModel({
    name,
    docString: 'Integer (QOperator) export of a qrobust quantized model; input: float32 NHWC pixels in [0, 1].',
    builder: b,
    inputShape: prog.inputShape,
    outputs: [
      { name: 'codes', elemType: DataType.INT8, size: prog.outputSize },
      { name: 'logits', elemType: DataType.FLOAT, size: prog.outputSize },
    ],
  });
}
