/**
 * The integer program run from input codes instead of pixels, keeping every op's output codes. The verifiers
 * use it to read the codes of a candidate and to test their encodings; counterexamples themselves are always
 * re-checked on pixels with `runIntegerProgram`, the deployed path.
 */
import { convInt, denseInt, maxPoolInt } from '../../quant/integer/kernels.js';
import type { IntegerProgram, IntOp } from '../../quant/integer/program.js';

export function opOutputSize(op: IntOp, inSize: number): number {
  switch (op.op) {
    case 'dense':
      return op.outSize;
    case 'conv2d':
    case 'maxPool':
      return op.outShape[0] * op.outShape[1] * op.outShape[2];
    case 'relu':
      return inSize;
  }
}

/** Output codes of every op (`trace[k]` after op k) for one vector of input codes. */
export function traceIntegerProgram(prog: IntegerProgram, inputCodes: ArrayLike<number>): Int16Array[] {
  let x = Int16Array.from(inputCodes);
  const trace: Int16Array[] = [];
  for (const op of prog.ops) {
    const outSize = opOutputSize(op, x.length);
    let y: Int16Array;
    switch (op.op) {
      case 'dense':
        y = new Int16Array(outSize);
        denseInt(op, x, y, new Float64Array(op.inSize));
        break;
      case 'conv2d': {
        y = new Int16Array(outSize);
        const [h, w, ci] = op.inShape;
        convInt(op, x, y, new Float64Array(op.outShape[1] * op.kernel[0] * op.kernel[1] * ci), new Float64Array(h * w * ci));
        break;
      }
      case 'maxPool':
        y = new Int16Array(outSize);
        maxPoolInt(op, x, y);
        break;
      case 'relu':
        y = x.map((v) => (v < op.zeroPoint ? op.zeroPoint : v));
        break;
    }
    trace.push(y);
    x = y;
  }
  return trace;
}

/** Output codes for one vector of input codes. */
export function runOnCodes(prog: IntegerProgram, inputCodes: ArrayLike<number>): Int16Array {
  const t = traceIntegerProgram(prog, inputCodes);
  return t.length ? t[t.length - 1]! : Int16Array.from(inputCodes);
}

/** Real logits `scale · (q − zp)` of output codes, in float64. */
export function dequantizeCodes(prog: IntegerProgram, codes: ArrayLike<number>): Float64Array {
  const s = prog.output.scale[0]!;
  const zp = prog.output.zeroPoint[0]!;
  return Float64Array.from({ length: codes.length }, (_, i) => s * (codes[i]! - zp));
}
