/**
 * Input gradients of a NetworkIR, in float64: one forward pass keeping every step's input, then the transposed
 * steps backwards. ReLU passes the gradient where its input is positive, max-pooling to the first maximal
 * element, and a fake-quant step straight through inside its clamp range (the straight-through estimator,
 * Bengio et al. 2013, arXiv 1308.3432; the exact derivative of a rounding step is zero almost everywhere).
 * Used by the IR attack and by the counterexample repair; it never decides a verdict.
 */
import { applyStep, smoothDerivative, type IRStep, type Matrix, type NetworkIR } from './ir.js';

/** x = Wᵀ g. */
function matTVec(m: Matrix, g: Float64Array): Float64Array {
  const x = new Float64Array(m.cols);
  if (m.format === 'dense') {
    for (let i = 0; i < m.rows; i++) {
      const gi = g[i]!;
      if (gi === 0) continue;
      const row = i * m.cols;
      for (let j = 0; j < m.cols; j++) x[j] += m.data[row + j]! * gi;
    }
  } else {
    for (let i = 0; i < m.rows; i++) {
      const gi = g[i]!;
      if (gi === 0) continue;
      for (let k = m.rowPtr[i]!; k < m.rowPtr[i + 1]!; k++) x[m.colIdx[k]!] += m.values[k]! * gi;
    }
  }
  return x;
}

function backStep(step: IRStep, input: Float64Array, g: Float64Array): Float64Array {
  switch (step.kind) {
    case 'affine':
      return matTVec(step.weights, g);
    case 'relu':
      return g.map((v, i) => (input[i]! > 0 ? v : 0));
    case 'maxpool': {
      const out = new Float64Array(step.inSize);
      for (let j = 0; j < step.outSize; j++) {
        let best = -Infinity;
        let arg = -1;
        for (let k = step.offsets[j]!; k < step.offsets[j + 1]!; k++) {
          const idx = step.indices[k]!;
          if (input[idx]! > best) {
            best = input[idx]!;
            arg = idx;
          }
        }
        if (arg >= 0) out[arg] += g[j]!;
      }
      return out;
    }
    case 'quantize': {
      const out = new Float64Array(step.size);
      const per = step.scale.length > 1;
      for (let i = 0; i < step.size; i++) {
        const s = per ? step.scale[i]! : step.scale[0]!;
        const z = per ? step.zeroPoint[i]! : step.zeroPoint[0]!;
        const t = input[i]! / s + z;
        out[i] = t >= step.qmin - 0.5 && t <= step.qmax + 0.5 ? g[i]! : 0;
      }
      return out;
    }
    case 'dynamicQuantize':
      // Straight through: the quantizer is the identity up to half a code.
      return g;
    case 'smooth':
      return g.map((v, i) => (i >= step.from && i < step.to ? v * smoothDerivative(step.fn, input[i]!) : v));
  }
}

/** The IR's output and every step's input for one input vector. */
export function forwardTrace(ir: NetworkIR, x: Float64Array): { inputs: Float64Array[]; output: Float64Array } {
  const inputs: Float64Array[] = [];
  let v = x;
  for (const step of ir.steps) {
    inputs.push(v);
    v = applyStep(step, v);
  }
  return { inputs, output: v };
}

/** ∇ₓ (c · f(x)) for an output weighting c (e.g. a property's constraint coefficients). */
export function irInputGradient(ir: NetworkIR, x: Float64Array, c: Float64Array): Float64Array {
  const { inputs } = forwardTrace(ir, x);
  return backwardFrom(ir, inputs, c);
}

/** The backward pass for a trace from `forwardTrace`. */
export function backwardFrom(ir: NetworkIR, inputs: readonly Float64Array[], c: Float64Array): Float64Array {
  let g = Float64Array.from(c);
  for (let s = ir.steps.length - 1; s >= 0; s--) g = backStep(ir.steps[s]!, inputs[s]!, g);
  return g;
}
