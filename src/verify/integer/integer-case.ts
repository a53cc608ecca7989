/**
 * A verification case for a deployed integer program: the pixel box, the code box it maps to, and the unsafe
 * condition on the dequantized logits. A candidate found in codes becomes a counterexample only after float32
 * pixels in the box with exactly those input codes are found and the integer program itself, run on those
 * pixels (`runIntegerProgram`, the deployed path), satisfies the unsafe condition.
 */
import { QrobustError } from '../../core/errors.js';
import { runIntegerProgram } from '../../quant/integer/kernels.js';
import type { IntegerProgram } from '../../quant/integer/program.js';
import { unsafeMargin } from '../counterexample.js';
import type { Box, UnsafeCondition, VerificationCase } from '../property.js';
import { dequantizeCodes } from './evaluate.js';
import { codeBox, pixelsForCodes, type CodeBox } from './input-region.js';

export interface IntegerVerificationCase {
  readonly program: IntegerProgram;
  readonly pixels: Box;
  readonly codes: CodeBox;
  readonly unsafe: UnsafeCondition;
}

export function integerCase(program: IntegerProgram, vcase: VerificationCase): IntegerVerificationCase {
  if (vcase.input.lower.length !== program.prologue.size) {
    throw new QrobustError('invalid_argument', `the input box has ${vcase.input.lower.length} values, the integer program takes ${program.prologue.size}`);
  }
  return { program, pixels: vcase.input, codes: codeBox(program.prologue, vcase.input, program.rounding === 'onnxruntime'), unsafe: vcase.unsafe };
}

/** A counterexample of the integer program, re-checked on the deployed path. */
export interface IntegerCounterexample {
  readonly pixels: Float32Array;
  readonly outputCodes: Int16Array;
  /** Dequantized logits (float64). */
  readonly logits: Float64Array;
  readonly margin: number;
}

/** Runs the integer program on float32 pixels and evaluates the unsafe condition on its dequantized logits. */
export function checkIntegerPixels(icase: IntegerVerificationCase, pixels: Float32Array): IntegerCounterexample | null {
  for (let i = 0; i < pixels.length; i++) {
    if (!(pixels[i]! >= icase.pixels.lower[i]! && pixels[i]! <= icase.pixels.upper[i]!)) return null;
  }
  const outputCodes = runIntegerProgram(icase.program, pixels, 1);
  const logits = dequantizeCodes(icase.program, outputCodes);
  const { margin } = unsafeMargin(icase.unsafe, logits);
  return margin <= 0 ? { pixels, outputCodes, logits, margin } : null;
}

/** Turns solver input codes into pixels and re-checks them; null when no pixel has the codes or the check fails. */
export function checkIntegerCodes(icase: IntegerVerificationCase, inputCodes: ArrayLike<number>): IntegerCounterexample | null {
  const pixels = pixelsForCodes(icase.program.prologue, inputCodes, icase.pixels, icase.program.rounding === 'onnxruntime');
  return pixels ? checkIntegerPixels(icase, pixels) : null;
}
