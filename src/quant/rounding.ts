/**
 * Rounding to an integer, the one definition that quantizers, integer kernels, the verifier's IR, its bounds
 * and its MILP encoders all call, so that a verifier reasons about exactly the arithmetic that runs. Both work
 * on float64 numbers; a float32 value (`Math.fround`) is rounded exactly, as every float32 is a float64. Neither
 * returns −0.
 */

/** Half away from zero, like C's `round` (TFLite's quantization rounding). */
export function roundHalfAway(x: number): number {
  const r = x < 0 ? -Math.round(-x) : Math.round(x);
  return r === 0 ? 0 : r;
}

/** Half to even, IEEE 754's default mode and C's `nearbyint` (ONNX Runtime's QuantizeLinear, binary16). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  const r = d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
  return r === 0 ? 0 : r;
}
