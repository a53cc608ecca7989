/**
 * The integer-exact path as a `Classifier`: deployed int8 (or narrower, stored in int8) semantics computed in
 * plain JavaScript on typed arrays (see `program.ts`). Not differentiable (`gradientMode: 'none'`).
 */
import { tf } from '../../backend/tf.js';
import type { Classifier } from '../../models/classifier.js';
import type { PreparedGraph } from '../plan.js';
import { dequantizeOutput, runIntegerProgram } from './kernels.js';
import { compileIntegerProgram, type CompileOptions, type IntegerProgram } from './program.js';

export class IntegerClassifier implements Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly gradientMode = 'none' as const;
  readonly program: IntegerProgram;

  /** @throws QrobustError('not_integer_executable') when the plan has no integer form. */
  constructor(
    prep: PreparedGraph,
    readonly bounds: readonly [number, number] = [0, 1],
    readonly description = 'integer',
    options: CompileOptions = {},
  ) {
    this.program = compileIntegerProgram(prep, options);
    this.inputShape = prep.graph.inputShape;
    this.numClasses = prep.graph.outputSize;
  }

  /** Output codes `[n, numClasses]` for `n` images of float pixels (NHWC, contiguous). */
  codes(pixels: Float32Array, n: number): Int16Array {
    return runIntegerProgram(this.program, pixels, n);
  }

  /** Dequantized logits `[n, numClasses]` as a Float32Array. */
  logitsArray(pixels: Float32Array, n: number): Float32Array {
    return dequantizeOutput(this.program, this.codes(pixels, n));
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    const n = x.shape[0];
    return tf.tensor2d(this.logitsArray(x.dataSync() as Float32Array, n), [n, this.numClasses]);
  }

  dispose(): void {
    /* owns no tensors */
  }
}
